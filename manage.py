#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nqihub.settings")
    from django.core.management import execute_from_command_line

    from nqihub.core import context

    # Records written by commands (seeding, pruning, imports run by hand) say so.
    with context.use(context.RequestContext(channel="cli")):
        execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
