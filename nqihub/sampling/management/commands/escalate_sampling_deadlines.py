"""``manage.py escalate_sampling_deadlines``: the daily job of supervision sampling's time limits.
Makes final the conclusions nobody objected to in time and reports overdue steps (correction,
re-check, second re-check) to the regulator above the organiser, once each."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from nqihub.sampling.services.escalation import run_sampling_deadlines


class Command(BaseCommand):
    help = "Make unobjected sampling conclusions final and report overdue sampling deadlines to the level above."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Print the counts as JSON.")

    def handle(self, *args, **options):
        result = run_sampling_deadlines()
        if options["json"]:
            self.stdout.write(json.dumps(result, ensure_ascii=False))
            return
        self.stdout.write(
            f"{result['made_final']} conclusions made final, {result['escalated']} overdue deadlines reported "
            f"({result['notices']} notices)."
        )
