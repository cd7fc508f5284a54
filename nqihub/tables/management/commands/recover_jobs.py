"""``manage.py recover_jobs``: retry or fail background jobs (imports, exports) whose worker
died (no heartbeat for ``NQI_JOB_STALE_SECONDS``). Safe to run at any time; run it every few
minutes from a timer, and it also runs with the daily jobs."""

from django.core.management.base import BaseCommand

from nqihub.tables.jobs import recover_stale


class Command(BaseCommand):
    help = "Retry once, or fail with a clear message, the background jobs whose worker stopped."

    def handle(self, *args, **options):
        counts = recover_stale()
        self.stdout.write(f"retried {counts['retried']}, failed {counts['failed']}")
