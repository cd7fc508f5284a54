"""Background exports: a list of any size as an Excel workbook, made by a task.

``export_start`` (the list pages' "export all in the background" button) checks who is asking
and what, stores an ``ExportJob`` with the search as given and queues ``run_export``
once the job is committed. The task calls ``export_run``, which:

1. acts for the organisation the person acted for when they asked, and checks again that they
   still may (a person who left it, or lost the role, gets a failed job and no file);
2. re-applies the search with the person's permissions *now* (the registered ``build``
   scopes with ``for_user``), so a job never exports what its owner may no longer see;
3. streams the rows (read in chunks) into a write-only openpyxl workbook in a temporary file,
   starting a further sheet every ``ROWS_PER_SHEET`` rows (Excel holds 1,048,576 rows a
   sheet), then hands the file to the default storage through the Storage API only (so it
   works on S3-compatible storage too);
4. records ``data.export`` with the real number of rows (``record_regulator_query``, for
   everyone, as every export is).

Progress: ``rows_written`` is updated every ``PROGRESS_EVERY`` rows, each update committed at
once, so the downloads page shows how far the export has got. Files are deleted
``NQI_EXPORT_RETENTION_DAYS`` after the export finished (``purge_expired_files``, a
retention rule of the daily ``clean_stored_files``); the job's row stays.

No in-app notice is sent when an export is ready: ``nqihub.notifications`` has no service
for sending one, and its notices go to a whole organisation, while an export is one person's.
"""

from __future__ import annotations

import hashlib
import logging
import re
import tempfile
import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import cast

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files import File
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from nqihub.audit.models import Outcome
from nqihub.audit.service import audited_service
from nqihub.audit.services import audit_record
from nqihub.core import context
from nqihub.core.access import get_actor, resolve_acting_membership, set_acting_membership
from nqihub.core.auditing import record_regulator_query
from nqihub.core.errors import Conflict, Forbidden, InvalidInput
from nqihub.core.files import release_files
from nqihub.tables import jobs, writers
from nqihub.tables.writers import sheet_title, write_workbook  # noqa: F401 - sheet_title: part of this API

from .models import ExportJob
from .registry import ExportKind, get_export

logger = logging.getLogger(__name__)

ACTION_REQUEST = "data.export_requested"
ACTION_DOWNLOAD = "data.export_download"

# Excel holds 1,048,576 rows a sheet: a round million rows (and the header) go on each.
ROWS_PER_SHEET = 1_000_000
PROGRESS_EVERY = 10_000
# Exports one person may have queued or running at once (a dead worker's job stops counting
# after a day, so it never blocks anyone for good).
MAX_OPEN_JOBS = 3
OPEN_JOB_WINDOW = timedelta(days=1)
MAX_PARAMS = 30
MAX_PARAM_LENGTH = 200
IGNORED_PARAMS = frozenset({"page", "csrfmiddlewaretoken"})
OPEN_STATES = (ExportJob.State.QUEUED, ExportJob.State.RUNNING)


class ExportFailed(Exception):
    """The export cannot be made; ``message`` says why, in the person's language."""

    def __init__(self, message, *, code: str):
        self.message = message
        self.code = code
        super().__init__(str(message))


# --- Starting an export ----------------------------------------------------------------------


def clean_params(params) -> dict[str, str]:
    """The search parameters as given (a page's query string or a mapping), as text: the last
    value of each (``page`` and the CSRF token left out). Refuses anything else."""
    if params is None:
        return {}
    if not isinstance(params, Mapping):
        raise InvalidInput(_("The search could not be read."), code="export_params", field="params")
    clean: dict[str, str] = {}
    for key, value in params.items():  # a QueryDict gives the last value of each key
        if key in IGNORED_PARAMS:
            continue
        if value is None:
            value = ""
        if not isinstance(key, str) or not isinstance(value, (str, int, float, bool)):
            raise InvalidInput(_("The search could not be read."), code="export_params", field="params")
        value = str(value)
        if len(key) > 50 or len(value) > MAX_PARAM_LENGTH:
            raise InvalidInput(
                _("A search term is longer than %(max)d characters.") % {"max": MAX_PARAM_LENGTH},
                code="export_params",
                field="params",
            )
        clean[key] = value
    if len(clean) > MAX_PARAMS:
        raise InvalidInput(_("The search has too many terms."), code="export_params", field="params")
    return clean


def _may_export(actor, **kwargs) -> None:
    """An unknown kind, or one the person may not export, is refused before the search is read."""
    kind = kwargs["kind"]
    entry = get_export(kind) if isinstance(kind, str) else None
    if entry is None:
        raise InvalidInput(_("There is no such export."), code="export_unknown", field="kind")
    if entry.allowed is not None and not entry.allowed(actor):
        raise Forbidden(_("You may not export this list."), code="export_not_allowed")


@audited_service(
    ACTION_REQUEST,
    gettext_lazy("Background export requested"),
    check=_may_export,
    details=lambda actor, **kw: {"kind": str(kw["kind"])[:64]},
)
def export_start(*, actor, kind: str, params) -> ExportJob:
    """Queue the export ``kind`` of the search ``params`` for ``actor``, acting for their
    current organisation. Refused: an unknown kind, an export the person may not make, an
    unreadable search, or more than ``MAX_OPEN_JOBS`` exports under way."""
    entry = cast(ExportKind, get_export(kind))  # the check found it
    clean = clean_params(params)
    organization = get_actor(actor).organization
    # One request at a time per person, so two clicks cannot pass the limit together.
    get_user_model().objects.select_for_update().filter(pk=actor.pk).first()
    under_way = ExportJob.objects.filter(
        created_by=actor, state__in=OPEN_STATES, created_at__gte=timezone.now() - OPEN_JOB_WINDOW
    ).count()
    if under_way >= MAX_OPEN_JOBS:
        raise Conflict(
            _("You already have %(count)d exports under way: wait until one is ready.") % {"count": under_way},
            code="export_too_many",
        )
    job = ExportJob.objects.create(
        created_by=actor,
        organization=organization,
        kind=entry.kind,
        params=clean,
        title=str(entry.title)[:200],
        task_context=jobs.request_context(),
    )
    # A worker must find the job: it is queued once it is committed.
    jobs.enqueue(job, on_failure=_not_queued)
    audit_record(
        action=ACTION_REQUEST,
        actor=actor,
        target=job,
        organization=organization,
        details={"job_id": job.pk, "kind": job.kind, "params": clean},
    )
    return job


def _not_queued(job: ExportJob) -> None:
    _finish_failed(
        job, _("The export could not be queued; no file was made. Please try again later."), code="export_not_queued"
    )


def fail_stale(job: ExportJob, message: str) -> None:
    """Fail an export whose worker died twice (the kernel's recovery)."""
    _finish_failed(job, message, code="worker_lost")


# --- Running it --------------------------------------------------------------------------------


def export_run(*, job_id: int, language: str = "", request_id: str = "", source_address: str = "") -> ExportJob | None:
    """Carry out a queued export (called by the task). Returns the job, or None if it does not
    exist. A job that is no longer queued (already taken by another worker) is left alone."""
    job = ExportJob.objects.select_related("created_by", "organization").filter(pk=job_id).first()
    if job is None or not jobs.claim(job):
        return job
    ctx = context.RequestContext(
        request_id=request_id or uuid.uuid4().hex, source_address=source_address, channel="task"
    )
    with context.use(ctx), translation.override(language or settings.LANGUAGE_CODE):
        try:
            _run(job)
        except ExportFailed as exc:
            logger.warning("Export job %s failed: %s", job.pk, exc.code)
            _finish_failed(job, str(exc.message), code=exc.code)
        except jobs.JobTimeout:
            logger.warning("Export job %s ran out of time", job.pk)
            _finish_failed(job, jobs.timeout_message(), code="job_timeout")
        except Exception:
            logger.exception("Export job %s stopped by an internal error", job.pk)
            _finish_failed(
                job,
                _(
                    "An internal error stopped the export; no file was made. Please try again later or tell the platform administrator."
                ),
                code="internal_error",
            )
    # The state is protected (only transitions change it): read the outcome afresh.
    return ExportJob.objects.get(pk=job_id)


def _act_for_the_job(job: ExportJob) -> None:
    """Act for the job's organisation again, as the person is now: the export shows what they
    may see today, not what they could see when they asked."""
    user = job.created_by
    if not user.is_active:
        raise ExportFailed(_("Your account is no longer active; nothing was exported."), code="account_inactive")
    membership = None
    if job.organization_id is not None:
        membership = resolve_acting_membership(user, job.organization_id)
        if membership is None:
            assert job.organization is not None  # organization_id is set
            raise ExportFailed(
                _("You no longer act for %(organization)s; nothing was exported.")
                % {"organization": job.organization.name},
                code="membership_ended",
            )
    set_acting_membership(user, membership)


def _run(job: ExportJob) -> None:
    entry = get_export(job.kind)
    if entry is None:
        raise ExportFailed(_("This export is no longer offered; nothing was exported."), code="export_unknown")
    _act_for_the_job(job)
    user = job.created_by
    if entry.allowed is not None and not entry.allowed(user):
        raise ExportFailed(
            _("Your role no longer allows this export; nothing was exported."), code="export_not_allowed"
        )
    if entry.count is not None:
        jobs.beat(job, total_rows=entry.count(user, job.params))
    headers, rows = entry.build(user, job.params)

    def progress(written: int) -> None:
        jobs.beat(job, rows_written=written)  # the heartbeat; stops a job past its time

    with tempfile.NamedTemporaryFile(suffix=".xlsx") as handle:
        written = write_workbook(
            handle,
            title=job.title,
            headers=headers,
            rows=rows,
            meta=search_lines(job, entry),
            progress=progress,
            progress_every=PROGRESS_EVERY,
            rows_per_sheet=ROWS_PER_SHEET,
        )
        handle.flush()
        digest = _sha256(handle)
        handle.seek(0)
        _finish_done(job, entry, handle, written=written, digest=digest)


def search_lines(job: ExportJob, entry: ExportKind | None = None) -> list[tuple[str, str]]:
    """The lines above the header saying what was exported (the list, its search, when the
    file was made), written as every export writes them: the search described by the export
    kind in the reader's language, else its parameters as given."""
    if entry is not None and entry.terms is not None:
        terms = entry.terms(job.created_by, job.params)
    else:
        terms = sorted((key, value) for key, value in job.params.items() if value not in ("", None))
    return writers.search_lines(job.title, terms)


def _finish_done(job: ExportJob, entry: ExportKind, handle, *, written: int, digest: str) -> None:
    # Stored before the transaction (an upload may take a while; no lock is held meanwhile).
    # If the transaction then fails, no row refers to the file: the daily clean-up removes it.
    field = ExportJob._meta.get_field("file")
    name = field.storage.save(
        # No instance yet: upload_to is a plain path, so the instance is not read.
        field.generate_filename(None, f"{uuid.uuid4().hex}.xlsx"),  # type: ignore[arg-type]
        File(handle),
        max_length=field.max_length,
    )
    with transaction.atomic():
        locked = ExportJob.objects.select_for_update().get(pk=job.pk)
        locked.file.name = name
        locked.finish(at=timezone.now(), rows=written, sha256=digest)
        locked.save()
        record_regulator_query(
            user=job.created_by,
            model=entry.model or ExportJob,
            params=job.params,
            count=written,
            kind="export",
            job_id=job.pk,
            background=True,
        )


def _finish_failed(job: ExportJob, message: str, *, code: str) -> None:
    try:
        with transaction.atomic():
            locked = ExportJob.objects.select_for_update().get(pk=job.pk)
            if locked.state not in OPEN_STATES:
                return
            locked.fail(at=timezone.now(), message=message)
            locked.save()
            audit_record(
                action="data.export",
                actor=job.created_by,
                target=locked,
                organization=job.organization,
                outcome=Outcome.FAILURE,
                details={"kind": "export", "job_id": job.pk, "background": True, "count": 0, "code": code},
            )
    except Exception:  # pragma: no cover - the database itself is failing
        logger.exception("Could not record the failure of export job %s", job.pk)


def _sha256(handle) -> str:
    handle.seek(0)
    digest = hashlib.sha256()
    for chunk in iter(lambda: handle.read(1024 * 1024), b""):
        digest.update(chunk)
    return digest.hexdigest()


# --- Downloads and retention --------------------------------------------------------------------


def download_filename(job: ExportJob) -> str:
    """``计量器具台账-20261122.xlsx``: the export's title and the day it was asked for."""
    stem = re.sub(r'[\\/:*?"<>|\r\n]+', " ", job.title).strip() or "export"
    return f"{stem}-{timezone.localtime(job.created_at):%Y%m%d}.xlsx"


@audited_service(ACTION_DOWNLOAD, gettext_lazy("Background export downloaded"))
def export_downloaded(*, actor, job: ExportJob) -> None:
    """Record that ``actor`` took the file of ``job`` (the view has checked it is theirs)."""
    audit_record(
        action=ACTION_DOWNLOAD,
        actor=actor,
        target=job,
        organization=job.organization,
        details={"job_id": job.pk, "kind": job.kind, "count": job.rows_written, "sha256": job.sha256},
    )


def retention_days() -> int:
    return settings.NQI_EXPORT_RETENTION_DAYS


def purge_expired_files(now) -> int:
    """Delete the files of exports that finished more than ``NQI_EXPORT_RETENTION_DAYS`` days
    ago (default 7). The job keeps its title, search, counts and checksum. A retention rule
    of the daily ``clean_stored_files``."""
    cutoff = now - timedelta(days=retention_days())
    return release_files(ExportJob.objects.filter(finished_at__lt=cutoff), "file")
