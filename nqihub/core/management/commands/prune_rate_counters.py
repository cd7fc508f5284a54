"""``manage.py prune_rate_counters``: deletes the counters of rate-limit windows that have
ended (``nqihub.core.ratelimit``, when the counters live in the database). Run daily by
``run_daily``; a Redis cache expires its counters by itself."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from nqihub.core.ratelimit import prune_expired


class Command(BaseCommand):
    help = "Delete the counters of rate-limit windows that have ended."

    def handle(self, *args, **options):
        self.stdout.write(f"{prune_expired()} spent rate-limit windows deleted.")
