"""``manage.py seed_demo``: load the demo Inner Mongolia (see :mod:`nqihub.organizations.demo`)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from nqihub.core import context
from nqihub.organizations.demo import DEMO_PASSWORD, SEED, accounts_markdown, build_demo


class Command(BaseCommand):
    help = (
        "Load demo data: regulators at all three levels, technical institutions, about 2,400 "
        "enterprises over every 旗县区, demo accounts and registration applications. "
        "Deterministic; does nothing if the demo (or another regional bureau) is already there."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--seed",
            type=int,
            default=SEED,
            help="Random seed of the generated names and codes (default %(default)s; keep it for reproducible demos).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # Audit records of the seeding say they came from the command line.
        with context.use(context.RequestContext(channel="cli")):
            try:
                result = build_demo(seed=options["seed"])
            except ValidationError as exc:
                # The demo password does not satisfy this deployment's stricter policy.
                raise CommandError(
                    "The demo password is refused by the password policy: " + "; ".join(exc.messages)
                ) from exc
            except LookupError as exc:
                raise CommandError(str(exc)) from exc
        if not result.created:
            self.stdout.write(self.style.WARNING(result.message))
            return
        width = max(len(key) for key in result.counts)
        self.stdout.write(self.style.SUCCESS("Demo data loaded in %.1f s:" % result.seconds))
        for key, value in result.counts.items():
            self.stdout.write(f"  {key:<{width}}  {value:>6,}")
        self.stdout.write("")
        self.stdout.write("Demo accounts (password for all: %s; staff sign in with TOTP):" % DEMO_PASSWORD)
        self.stdout.write(accounts_markdown())
