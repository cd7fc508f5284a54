"""``manage.py send_case_reminders``: the daily reminder of cases (办件) due soon or overdue,
to the organisations that handle them. Running it again sends nothing new."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from nqihub.notifications.case_reminders import send_case_reminders


class Command(BaseCommand):
    help = "Remind the handling organisations of cases due soon or overdue (once per stage)."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Print the counts as JSON.")

    def handle(self, *args, **options):
        counts = send_case_reminders()
        if options["json"]:
            self.stdout.write(json.dumps(counts, ensure_ascii=False))
            return
        self.stdout.write(f"{counts['cases']} case reminders, {counts['notices']} notices.")
