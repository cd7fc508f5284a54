"""``manage.py sampling_disclosure_daily``: remind organisers of sampling results overdue for
publication (one notice per batch) and refresh the pool's risk scores (a daily job)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from nqihub.sampling.services.disclosure import disclosure_reminders_send


class Command(BaseCommand):
    help = "Remind organisers of overdue publications of sampling results and refresh risk scores."

    def handle(self, *args: Any, **options: Any) -> None:
        summary = disclosure_reminders_send()
        self.stdout.write(
            f"overdue: {len(summary['overdue'])}, notices: {summary['notices']}, "
            f"risk scores refreshed: {summary['risk_scores_refreshed']}"
        )
