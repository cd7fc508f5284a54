"""``manage.py run_daily``: the daily jobs for a single-machine installation.

Production runs each daily command from a systemd timer (docs/deployment.md §5). The embedded
setup (``make demo``) has no timers, so this process runs beside the web server and the task
worker: it runs the daily jobs once at start (each is safe to run again: a reminder
stage is sent once, a clean-up finds nothing left), then every day at ``NQI_DAILY_AT`` (local
time, default 06:15). One failing command is logged and does not stop the others.

The jobs are the commands the apps register from their ``AppConfig.ready()``
(``core.registries.register_daily_job``); ``NQI_DAILY_COMMANDS``, when set, replaces that list.
"""

from __future__ import annotations

import datetime
import logging
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from nqihub.core.registries import daily_jobs

logger = logging.getLogger("nqihub.daily")


def next_run(now: datetime.datetime, at: datetime.time) -> datetime.datetime:
    """The next moment, after ``now`` (aware), whose local time is ``at``."""
    local = timezone.localtime(now)
    candidate = local.replace(hour=at.hour, minute=at.minute, second=0, microsecond=0)
    if candidate <= local:
        candidate = timezone.make_aware(
            datetime.datetime.combine(local.date() + datetime.timedelta(days=1), at), local.tzinfo
        )
    return candidate


def run_commands(names, stdout) -> dict[str, str]:
    """Run each management command; returns name → "ok" or the error, never raising."""
    outcome = {}
    for name in names:
        started = time.monotonic()
        try:
            call_command(name, stdout=stdout)
        except Exception as exc:  # one job's failure must not stop the others
            logger.exception("Daily job %s failed", name)
            outcome[name] = f"failed: {exc}"
        else:
            outcome[name] = "ok"
            logger.info("Daily job %s done in %.1f s", name, time.monotonic() - started)
    return outcome


class Command(BaseCommand):
    help = "Run the daily jobs now and then every day at NQI_DAILY_AT (for installations without timers)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run the jobs once and exit.")

    def handle(self, *args, **options):
        names = list(settings.NQI_DAILY_COMMANDS) or daily_jobs()
        try:
            at = datetime.time.fromisoformat(settings.NQI_DAILY_AT)
        except ValueError as exc:
            raise CommandError(f"NQI_DAILY_AT must be HH:MM: {exc}") from exc
        while True:
            outcome = run_commands(names, self.stdout)
            self.stdout.write(", ".join(f"{name}: {result}" for name, result in outcome.items()))
            if options["once"]:
                if any(result != "ok" for result in outcome.values()):
                    raise CommandError("Some daily jobs failed; see the log.")
                return
            wake = next_run(timezone.now(), at)
            self.stdout.write(f"Next run: {wake:%Y-%m-%d %H:%M}")
            time.sleep(max(1.0, (wake - timezone.now()).total_seconds()))
