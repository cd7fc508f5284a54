"""The daily due-reminder run as a background task (django-tasks).

Nothing in the application enqueues it by itself: a timer does, once a day — either the
management command ``send_due_reminders`` run by cron or a systemd timer (the same service,
run in the foreground), or ``send_due_reminders.enqueue()`` from a scheduler. Running it
twice the same day sends nothing new.
"""

from __future__ import annotations

from datetime import date

from django_tasks import task

from nqihub.core.context import task_context


@task()
def send_due_reminders(today: str = "") -> dict:
    """Send the reminders due on ``today`` (ISO date; empty: the local date) and return the
    counts. Its audit record carries the run's own request id and the channel "task"."""
    from .services import reminders

    with task_context():
        return reminders.send_due_reminders(today=date.fromisoformat(today) if today else None)
