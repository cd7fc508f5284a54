"""``manage.py clean_stored_files``: the daily stored-file clean-up (``nqihub.core.files``),
for cron or a systemd timer. Removes files no record refers to (left by a rolled-back
transaction) once they are a day old, and runs the apps' retention rules (uploaded import
workbooks a week after the import). ``--dry-run`` lists the orphans and deletes nothing."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from nqihub.core.files import clean_stored_files


class Command(BaseCommand):
    help = "Delete stored files no record refers to, and files past their retention."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="List what would be deleted; delete nothing.")
        parser.add_argument("--json", action="store_true", help="Print the outcome as JSON.")

    def handle(self, *args, **options):
        report = clean_stored_files(dry_run=options["dry_run"])
        if options["json"]:
            self.stdout.write(
                json.dumps({"scanned": report.scanned, "orphans": report.orphans, "retained": report.retained})
            )
            return
        verb = "would delete" if options["dry_run"] else "deleted"
        for name in report.orphans:
            self.stdout.write(f"{verb} orphan {name}")
        retained = ", ".join(f"{rule}: {n}" for rule, n in report.retained.items()) or "none run"
        self.stdout.write(
            f"{report.scanned} files scanned; {len(report.orphans)} orphans {verb}; past retention: {retained}."
        )
