"""``manage.py send_due_reminders``: the daily due-reminder run, for cron or a systemd timer.

Runs ``services.reminders.send_due_reminders`` in the foreground (the audit channel is
"cli"); running it again the same day sends nothing new, so a timer that fires twice or a
catch-up run after downtime is harmless.
"""

from __future__ import annotations

import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from nqihub.metrology.services import reminders


class Command(BaseCommand):
    help = "Send today's reminders of mandatory verification due dates (once per stage)."

    def add_arguments(self, parser):
        parser.add_argument("--date", default="", help="The day to run for (YYYY-MM-DD); default today.")
        parser.add_argument("--json", action="store_true", help="Print the counts as JSON.")

    def handle(self, *args, **options):
        try:
            today = date.fromisoformat(options["date"]) if options["date"] else None
        except ValueError as exc:
            raise CommandError(f"--date: {exc}") from exc
        counts = reminders.send_due_reminders(today=today)
        if options["json"]:
            self.stdout.write(json.dumps(counts, ensure_ascii=False))
            return
        sent = ", ".join(f"{stage}: {n}" for stage, n in counts["sent"].items())
        self.stdout.write(
            f"{counts['date']}: {counts['instruments']} reminders ({sent}) to {counts['organizations']} "
            f"organisations; {counts['notices']} notices, {counts['emails']} emails."
        )
