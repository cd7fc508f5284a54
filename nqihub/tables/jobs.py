"""One base for background jobs (imports, exports): the fields every job has beside its own
state machine, queuing after the commit, a heartbeat written by the worker, a time limit, and
recovery of jobs whose worker died.

A job model derives from ``BackgroundJob`` and declares its ``state`` as a protected
django-fsm ``FSMField`` with its transitions, among them ``start`` (queued to running) and
``requeue`` (a running state back to queued, for a retry). The app
registers the model with its task and its way of failing a job in ``AppConfig.ready``::

    register_job(ImportJob, run_import, fail=finish_error)

Then:

* ``enqueue(job)`` queues the task once the current transaction commits (a worker must find
  the job), and if queuing fails the job is failed with a message instead of waiting for ever;
* ``move(job, "name", **values)`` carries out a transition as one conditional UPDATE (the
  sources and target come from the model's own transition, so the state machine is declared
  once, and two workers cannot both claim a job);
* ``beat(job)`` records that the worker is alive (every progress step), and raises
  ``JobTimeout`` once the job has run longer than ``NQI_TABLE_MAX_JOB_SECONDS``;
* ``recover_stale()`` (the ``recover_jobs`` command, run with the periodic jobs, and
  ``recover_if_stale(job)`` whenever a page polls a job) finds jobs in a running state whose
  heartbeat is older than ``NQI_JOB_STALE_SECONDS`` (default 300): a job that has not been
  retried yet is queued again, otherwise it is failed with a clear message. A job is never
  left "importing 100 %". A job still queued after that time (its task may never have been
  queued: the process died between the commit and the after-commit step) is queued again,
  once per such period; a second task finds it claimed and leaves it.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from nqihub.core import context

from .limits import Limits

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 2  # the first run and one retry


class JobTimeout(Exception):
    """The job ran longer than it may."""


class BackgroundJob(models.Model):
    """The fields every background job has. ``RUNNING_STATES``: the states in which a worker
    holds the job."""

    RUNNING_STATES: tuple[str, ...] = ()

    started_at = models.DateTimeField(gettext_lazy("started"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(gettext_lazy("last sign of life"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(gettext_lazy("attempts"), default=0)
    # What the task needs to run as the request that asked for it: language, request id and
    # source address (so a retry runs exactly like the first run).
    task_context = models.JSONField(default=dict, blank=True)

    class Meta:
        abstract = True


# Keyed by the concrete job model; each declares its own ``state`` field, which the abstract
# base cannot, so the helpers below take the models as ``Any``.
_tasks: dict[type, Any] = {}
_failures: dict[type, Any] = {}


def register_job(model: type[BackgroundJob], task, *, fail) -> None:
    """``task(job_id, language, request_id, source_address)`` runs jobs of ``model``;
    ``fail(job, message)`` fails one for good (with its audit record)."""
    _tasks[model] = task
    _failures[model] = fail


def registered_jobs() -> dict[type, Any]:
    return dict(_tasks)


def request_context() -> dict:
    ctx = context.current()
    return {
        "language": translation.get_language() or "",
        "request_id": ctx.request_id,
        "source_address": ctx.source_address,
    }


def transition_states(model: Any, name: str) -> tuple[list[str] | None, str]:
    """(source states, or None for any; target state) of the transition ``name`` (django-fsm
    keeps one entry per source state)."""
    sources: list[str] = []
    target = None
    for found in model._meta.get_field("state").get_all_transitions(model):
        if found.name == name:
            target = found.target
            if found.source in ("*", "+"):
                return None, target
            sources.append(found.source)
    if target is None:
        raise LookupError(f"{model.__name__} has no transition {name!r}")
    return sources, target


def move(job: Any, name: str, **values) -> bool:
    """Carry out the transition ``name`` of ``job`` in the database, if the job is still in
    one of its source states; returns whether it was. ``job`` is refreshed."""
    model = type(job)
    sources, target = transition_states(model, name)
    rows = model._default_manager.filter(pk=job.pk)
    if sources is not None:
        rows = rows.filter(state__in=sources)
    changed = rows.update(state=target, **values)
    if not changed:
        job.refresh_from_db()  # someone else moved it: show what it is now
        return False
    job.__dict__["state"] = target  # the protected field, as the database now has it
    for key, value in values.items():
        if not hasattr(value, "resolve_expression"):  # an F() expression is left as it was
            setattr(job, key, value)
    return True


def claim(job: BackgroundJob, name: str = "start", **values) -> bool:
    """Take a queued job for this worker (one worker only): its start transition, the start
    time, a first heartbeat and one more attempt."""
    now = timezone.now()
    attempts = job.attempts + 1
    claimed = move(job, name, started_at=now, heartbeat_at=now, attempts=F("attempts") + 1, **values)
    if claimed:
        job.attempts = attempts
    return claimed


def beat(job: Any, **values) -> None:
    """The worker is alive: write the heartbeat (and ``values``, such as progress), committed
    at once. Raises ``JobTimeout`` when the job has run longer than the limit."""
    now = timezone.now()
    for key, value in values.items():
        setattr(job, key, value)
    type(job).objects.filter(pk=job.pk).update(heartbeat_at=now, **values)
    limit = Limits.from_settings().max_job_seconds
    if job.started_at is not None and (now - job.started_at).total_seconds() > limit:
        raise JobTimeout(job.pk)


@contextmanager
def cycle_collection_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for one job's bulk work, and collect once after.

    An import builds a few hundred thousand small tuples and lists per 100,000 rows, none of
    them in a reference cycle; each thousand of them sets off a collection that walks the
    young objects again, and the full collections walk everything the job holds: about a tenth
    of an import's time. Reference counting still frees every object as soon as it is dropped,
    so memory stays bounded by what the job keeps (the resource bounds of ``Limits``)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
        gc.collect()


def timeout_message() -> str:
    return _("The job took longer than %(minutes)d minutes and was stopped; nothing was changed.") % {
        "minutes": Limits.from_settings().max_job_seconds // 60
    }


def enqueue(job: BackgroundJob, *, on_failure=None) -> None:
    """Queue the job's task once the current transaction commits. ``on_failure(job)`` is
    called if the task cannot be queued (default: the job's stale transition)."""
    task = _tasks[type(job)]
    model, pk = type(job), job.pk
    args = job.task_context or {}

    def send():
        try:
            task.enqueue(pk, args.get("language", ""), args.get("request_id", ""), args.get("source_address", ""))
        except Exception:
            # Without this the job would wait for ever: say it stopped, and why, in the log.
            logger.exception("Could not queue %s %s", model.__name__, pk)
            fresh = model._default_manager.filter(pk=pk).first()
            if fresh is not None:
                if on_failure is not None:
                    on_failure(fresh)
                else:
                    _fail_stale(fresh, _("The job could not be queued; nothing was done. Please try again later."))

    transaction.on_commit(send)


def stale_after() -> timedelta:
    return timedelta(seconds=int(getattr(settings, "NQI_JOB_STALE_SECONDS", 300)))


def _stale(model: Any, now):
    cutoff = now - stale_after()
    return model._default_manager.filter(state__in=model.RUNNING_STATES).filter(
        Q(heartbeat_at__lt=cutoff)
        | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
        | Q(heartbeat_at__isnull=True, started_at__isnull=True, created_at__lt=cutoff)
    )


def _lost(model: Any, now):
    """Queued jobs whose task may never have reached the queue: the process that committed the
    job died before its after-commit step queued the task (a web server killed right after an
    upload). A queued job's ``heartbeat_at`` is when it was last queued; one queued longer
    than the stale time is queued again. That is safe even if its first task is only waiting
    behind others: a task claims its job with a conditional update, so only one of them runs
    it and the other finds it taken and leaves it alone."""
    queued, _target = transition_states(model, "start")
    cutoff = now - stale_after()
    return model._default_manager.filter(state__in=queued or []).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, created_at__lt=cutoff)
    )


def _queue_again(job: Any, now) -> str:
    type(job)._default_manager.filter(pk=job.pk).update(heartbeat_at=now)
    job.heartbeat_at = now
    logger.warning("%s %s: queued for a while with no worker taking it; queued again", type(job).__name__, job.pk)
    enqueue(job)
    return "retried"


def _fail_stale(job: BackgroundJob, message: str) -> None:
    _failures[type(job)](job, message)


def _recover(job: BackgroundJob) -> str:
    if job.attempts < MAX_ATTEMPTS and move(job, "requeue", heartbeat_at=timezone.now()):
        logger.warning("%s %s: its worker stopped answering; queued again", type(job).__name__, job.pk)
        enqueue(job)
        return "retried"
    logger.warning("%s %s: its worker stopped answering again; failed", type(job).__name__, job.pk)
    with translation.override((job.task_context or {}).get("language") or settings.LANGUAGE_CODE):
        _fail_stale(
            job,
            _(
                "The worker running this job stopped (the server may have restarted) and the job was not finished; nothing was changed. Please start it again."
            ),
        )
    return "failed"


def recover_stale(now=None) -> dict[str, int]:
    """Retry or fail every job whose worker died; returns counts."""
    now = now or timezone.now()
    counts = {"retried": 0, "failed": 0}
    for model in _tasks:
        for job in _stale(model, now).order_by("pk"):
            with transaction.atomic():
                counts[_recover(job)] += 1
        for job in _lost(model, now).order_by("pk"):
            with transaction.atomic():
                counts[_queue_again(job, now)] += 1
    return counts


def recover_if_stale(job: Any) -> Any:
    """Called when a page or the API polls ``job``: recover it at once if its worker died."""
    now = timezone.now()
    if job.state in job.RUNNING_STATES and _stale(type(job), now).filter(pk=job.pk).exists():
        with transaction.atomic():
            _recover(job)
        job.refresh_from_db()
    elif _lost(type(job), now).filter(pk=job.pk).exists():
        with transaction.atomic():
            _queue_again(job, now)
        job.refresh_from_db()
    return job
