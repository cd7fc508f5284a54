"""Ledger import: an enterprise loads its instruments from a workbook (.xlsx, .xls, .ods) or
a CSV file. This module is the ledger's own part; reading, header matching, error lists and
the job's life belong to the tables kernel (``nqihub.tables``).

``import_start`` (pages and the API) checks who is asking and what was sent, stores the file
as an ``ImportJob`` and queues its task after the commit (``tables.jobs.enqueue``); the task
calls ``import_run``:

1. read the file with ``tables.readers.read_table`` (within the kernel's limits) and find the
   header with ``tables.columns.find_header`` against the ledger's columns
   (``rules.COLUMNS``: Chinese or English headers, in any order);
2. clean the rows a batch at a time, column by column, with ``rules.clean_instrument_columns``
   — the rules of ``clean_instrument_input``, which the ledger form and the API use:
   catalogue items in force (an instrument may keep its current item), and a changed status
   must be an allowed transition (``status_change_allowed``; an empty status
   cell keeps the status of an instrument already in the ledger) — collecting every error
   with the row and the header the person sees; what the ledger holds is read in one query
   when it is no larger than the file, else once per batch of rows;
3. if there is any error, write nothing (the job is FAILED and lists the errors); otherwise,
   in one transaction, update the enterprise's instruments that have the same factory number
   and create the rest, in batches, with one audit record for the whole import. The catalogue
   items used are locked and the mandatory flags taken from them (``models.is_mandatory``);
   the instruments updated are locked and their status checked again.

Progress: ``processed_rows`` counts the rows checked so far (``tables.jobs.beat`` every
``PROGRESS_EVERY`` rows, committed at once so the page can poll it, and the heartbeat that
tells a live worker from a dead one). The write itself is one transaction, all-or-nothing,
so no other connection can see its progress until it commits: the page shows "Importing"
without a percentage for that (short) last step.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import os
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from itertools import chain, islice, repeat, zip_longest

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from nqihub.audit.models import Outcome
from nqihub.audit.service import audited_service
from nqihub.audit.services import audit_record
from nqihub.core import context
from nqihub.core.access import get_actor, resolve_acting_membership, set_acting_membership
from nqihub.core.errors import Forbidden, InvalidInput
from nqihub.core.files import release_files
from nqihub.tables import columns as tables_columns
from nqihub.tables import jobs
from nqihub.tables.limits import Limits
from nqihub.tables.readers import Table, TableFileError, is_blank, read_table
from nqihub.tables.writers import error_workbook

from .. import rules
from ..models import PLATFORM_CODE_ALPHABET, CatalogueItem, ImportJob, Instrument, UseField, is_mandatory
from .instruments import _catalogue as catalogue_in_force
from .instruments import status_change_allowed

logger = logging.getLogger(__name__)

ACTION = "instrument.import"
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_ROWS = 200_000  # data rows; the sheet itself is bounded by the tables kernel's limits
EXTENSIONS = (".xlsx", ".xls", ".ods", ".csv")
UPDATE_BATCH = 500  # bulk_update writes one CASE per field: smaller batches keep the SQL short
FETCH_BATCH = 2_000  # factory numbers per query when looking for existing instruments
PROGRESS_EVERY = 2_000
# Columns many ledgers have that carry nothing to import: ignored rather than reported.
IGNORED_HEADERS = frozenset({"序号", "no.", "#"})
DATA_SHEET_TITLE = "计量器具台账"
NOTES_SHEET_TITLE = "填写说明"
FINAL_STATES = frozenset({ImportJob.State.DONE, ImportJob.State.FAILED, ImportJob.State.ERROR})

# The instrument fields one import row sets (besides organisation and division).
_FIELDS = tuple(c.field for c in rules.COLUMNS)

# The file as a whole cannot be read, or the job cannot go on (not the errors of single rows).
ImportFileError = TableFileError


def _limits() -> Limits:
    return Limits.from_settings(max_file_bytes=MAX_FILE_BYTES)


# --- Starting an import ---------------------------------------------------------------------


def _can_import(actor) -> bool:
    # The rule lives in InstrumentQuerySet.for_user(user, "import"): it answers "nothing" for
    # anyone who may not import. Asking whether the query is empty costs no query.
    return not Instrument.objects.for_user(actor, "import").query.is_empty()


def import_allowed(*, actor) -> bool:
    """Whether ``actor`` may import into the ledger of the enterprise they act for (pages
    use it to offer the upload form)."""
    return _can_import(actor)


def _filename(uploaded_file) -> str:
    return os.path.basename(str(getattr(uploaded_file, "name", "") or ""))[:200]


def _may_import(actor, **_kwargs) -> None:
    if not _can_import(actor):
        raise Forbidden(
            _("Only the manager or a clerk of an enterprise can import into its instrument ledger."),
            code="import_not_allowed",
        )


@audited_service(
    ACTION,
    gettext_lazy("Instrument ledger imported"),
    check=_may_import,
    atomic=False,  # the job is committed (and queued) before the upload is answered
    details=lambda actor, **kw: {"filename": _filename(kw["uploaded_file"])} if "uploaded_file" in kw else None,
)
def import_start(*, actor, uploaded_file) -> ImportJob:
    """Store the uploaded ledger file as a job and queue its import.

    Only the working roles (manager, clerk) of an enterprise may import, into their own
    enterprise's ledger. The file must be .xlsx or .csv, not empty and at most 50 MB; what is
    inside is checked by the job, which reports every problem with its row and column.
    """
    filename = _filename(uploaded_file)
    extension = os.path.splitext(filename)[1].lower()
    if extension not in EXTENSIONS:
        raise InvalidInput(
            _("Only .xlsx, .xls and .ods workbooks and .csv files can be imported."), code="file_type", field="file"
        )
    size = uploaded_file.size or 0
    if size == 0:
        raise InvalidInput(_("The file is empty."), code="file_empty", field="file")
    if size > MAX_FILE_BYTES:
        raise InvalidInput(
            _("The file is larger than %(max)d MB: split it into several files.")
            % {"max": MAX_FILE_BYTES // (1024 * 1024)},
            code="file_too_large",
            field="file",
        )

    organization = get_actor(actor).organization
    with transaction.atomic():
        job = ImportJob(
            organization=organization, created_by=actor, filename=filename, task_context=jobs.request_context()
        )
        uploaded_file.seek(0)
        job.file.save(f"{uuid.uuid4().hex}{extension}", uploaded_file, save=False)
        job.save()
        # A worker must find the job: it is queued once it is committed.
        jobs.enqueue(job, on_failure=finish_error)
    return job


# --- Running it -----------------------------------------------------------------------------


def import_run(*, job_id: int, language: str = "", request_id: str = "", source_address: str = "") -> ImportJob | None:
    """Carry out a queued import (called by the task). Returns the job, or None if it does
    not exist. A job that is no longer queued (already run by another worker) is left alone."""
    job = ImportJob.objects.select_related("organization", "created_by").filter(pk=job_id).first()
    if job is None or not jobs.claim(job, processed_rows=0):
        return job
    ctx = context.RequestContext(
        request_id=request_id or uuid.uuid4().hex, source_address=source_address, channel="task"
    )
    with context.use(ctx), translation.override(language or settings.LANGUAGE_CODE):
        _run(job)
    return job


def _run(job: ImportJob) -> None:
    actor = job.created_by
    # Act for the job's enterprise, whatever the person's default organisation is, and check
    # the role again: it may have changed since the file was uploaded.
    set_acting_membership(actor, resolve_acting_membership(actor, job.organization_id))
    with jobs.cycle_collection_paused():
        _run_paused(job, actor)


def _run_paused(job: ImportJob, actor) -> None:
    try:
        if not _can_import(actor) or get_actor(actor).organization.pk != job.organization_id:
            raise ImportFileError(_("Your role no longer allows importing into this ledger; nothing was imported."))
        with job.file.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
        sheet = read_table(data, job.filename, limits=_limits(), sheet_name=DATA_SHEET_TITLE)
        del data
        outcome = _check(job, sheet)
        if outcome.errors:
            _finish_failed(job, outcome.errors, total_rows=outcome.data_rows, error_count=outcome.error_count)
            return
        _write(job, outcome)
    except ImportFileError as exc:
        _finish_failed(job, [_error(exc.row, exc.column, exc.message)], total_rows=job.total_rows)
    except jobs.JobTimeout:
        logger.warning("Import job %s ran out of time", job.pk)
        finish_error(job, jobs.timeout_message())
    except Exception:
        logger.exception("Import job %s stopped by an internal error", job.pk)
        finish_error(job)


# --- Checking -------------------------------------------------------------------------------


_error = tables_columns.error


@dataclass
class _Batch:
    """Rows of the file that passed the checks, column by column: ``numbers`` are their row
    numbers, ``values`` the cleaned columns of ``rules.clean_instrument_columns`` (one value
    per row, in the same order)."""

    numbers: list[int]
    values: dict[str, list]


@dataclass
class _Checked:
    header: tables_columns.Header
    batches: list[_Batch] = field(default_factory=list)  # kept while no error has been found
    found: tables_columns.ErrorList = field(
        default_factory=lambda: tables_columns.ErrorList(_limits().max_stored_errors)
    )
    data_rows: int = 0

    def add(self, error: dict) -> None:
        self.found.add(error)

    @property
    def errors(self) -> list[dict]:
        return self.found.items

    @property
    def error_count(self) -> int:
        return self.found.count

    @property
    def kept_rows(self) -> int:
        return sum(len(batch.numbers) for batch in self.batches)


def _set_progress(job: ImportJob, **values) -> None:
    jobs.beat(job, **values)  # the heartbeat, committed at once; stops a job past its time


def _whole_ledger(instruments, limit: int, columns: tuple[str, ...]) -> dict[str, tuple] | None:
    """``{factory number: values of columns}`` of every instrument in ``instruments`` (the
    first column is the factory number), if there are at most ``limit`` of them; else None
    (the caller reads them a batch at a time)."""
    if instruments.count() > limit:
        return None
    return {found[0]: found for found in instruments.values_list(*columns)}


def _fetch_batch() -> int:
    # A query's parameters are limited (999 on older SQLite): one batch of numbers per query.
    return min(FETCH_BATCH, (connection.features.max_query_params or FETCH_BATCH) - 1)


def _transition_refused(current: str, wanted: str | None) -> str | None:
    """Why an instrument that is ``current`` may not become ``wanted`` (the ledger's
    STATUS_TRANSITIONS: scrapping is final), or None if it may (or keeps its status)."""
    if wanted is None or wanted == current or status_change_allowed(current, wanted):
        return None
    return _(
        "The instrument with this factory number is “%(current)s” in your ledger; its status cannot change to “%(wanted)s”."
    ) % {"current": Instrument.Status(current).label, "wanted": Instrument.Status(wanted).label}


def _check(job: ImportJob, sheet: Table) -> _Checked:
    """Clean every row; keep the cleaned rows only while no error has been found.

    A row is cleaned as the ledger form cleans a record (``rules.clean_instrument_columns``,
    a batch of rows at a time): against the catalogue items in force (an instrument already
    in the ledger may keep its current item, even out of force), and a changed status must be
    an allowed transition. What the ledger holds is read once per batch of rows, never per row.
    """
    header, pending = tables_columns.find_header(sheet.rows, rules.COLUMNS, ignored=IGNORED_HEADERS)
    if sheet.estimated_rows:
        _set_progress(job, total_rows=max(sheet.estimated_rows - header.row, 0))
    checked = _Checked(header=header)
    for error in header.errors:
        checked.add(error)
    if header.fatal:
        return checked

    catalogue = catalogue_in_force()  # the same lookup as the ledger form and the API
    items_by_pk = CatalogueItem.objects.in_bulk()  # instruments' current items, in force or not
    use_fields, statuses = rules.lookup_tables()
    positions = header.positions
    written = header.written
    factory_header = written["factory_number"]
    has_status = "status" in written
    organization_id = job.organization_id
    seen: dict[str, int] = {}
    # An empty status is decided per row (an instrument in the ledger keeps its status): None.
    options = {"use_fields": use_fields, "statuses": statuses, "default_status": None}
    clean = partial(rules.clean_instrument_input, **options)
    clean_columns = partial(rules.clean_instrument_columns, catalogue=catalogue, **options)
    batch_size = _fetch_batch()
    keep = not checked.errors  # whether the cleaned rows are kept for writing
    # A ledger no larger than the file is read in one query (none at all when it is empty,
    # as on a first import); a larger one a batch of factory numbers at a time.
    whole = _whole_ledger(
        Instrument.objects.filter(organization_id=organization_id),
        max(sheet.estimated_rows, batch_size),
        ("factory_number", "status", "catalogue_item_id"),
    )
    if whole is not None:
        whole = {number: found[1:] for number, found in whole.items()}

    def column(name: str | None) -> str:
        return factory_header if name is None else written.get(name, rules.COLUMN_BY_FIELD[name].header_zh)

    def finish_batch(numbers: list[int], lines: list[Sequence]) -> None:
        nonlocal keep
        if not numbers:
            return
        cells = list(zip_longest(*lines))  # the sheet's columns; a short row's missing cells are None
        raw = {name: cells[index] for index, name in positions if index < len(cells)}
        cleaned = clean_columns(raw, len(numbers))
        values = cleaned.values
        # Rows with errors: [(field, message)], in the order they are reported.
        problems: dict[int, list[tuple[str | None, str]]] = {}
        for at, name, message in cleaned.errors:
            problems.setdefault(at, []).append((name, message))
        factory = values["factory_number"]
        if whole is not None:
            existing = whole
        else:
            existing = {
                number: (status, catalogue_id)
                for number, status, catalogue_id in Instrument.objects.filter(
                    organization_id=organization_id, factory_number__in=[text for text in factory if text]
                ).values_list("factory_number", "status", "catalogue_item_id")
            }
        if existing:
            statuses_given = values["status"]
            for at, number_text in enumerate(factory):
                current = existing.get(number_text) if number_text else None
                if current is None:
                    continue
                current_status, current_item = current
                errors = problems.get(at)
                if current_item is not None and errors and any(name == "catalogue_item" for name, _m in errors):
                    # The instrument may keep its item although it is no longer in force.
                    keeping = rules.catalogue_keeping(catalogue, items_by_pk.get(current_item))
                    result = clean({name: given[at] for name, given in raw.items()}, catalogue=keeping)
                    if result.errors:
                        problems[at] = list(result.errors)
                    else:
                        del problems[at]
                        values["catalogue_item"][at] = result.data["catalogue_item"]
                        values["is_mandatory"][at] = result.data["is_mandatory"]
                if has_status:
                    refused = _transition_refused(current_status, statuses_given[at])
                    if refused:
                        problems.setdefault(at, []).append(("status", refused))
        given = [text for text in factory if text]
        if len(set(given)) == len(given) and seen.keys().isdisjoint(given):
            seen.update((text, number) for text, number in zip(factory, numbers, strict=True) if text)
        else:
            for at, (text, number) in enumerate(zip(factory, numbers, strict=True)):
                if not text:
                    continue
                first = seen.setdefault(text, number)
                if first != number:
                    message = _("Factory number “%(number)s” already appears in row %(row)d of this file.") % {
                        "number": text,
                        "row": first,
                    }
                    problems.setdefault(at, []).append((None, message))
        if problems:
            keep = False
            for at in sorted(problems):
                for name, message in problems[at]:
                    checked.add(_error(numbers[at], column(name), message))
        if keep:
            checked.batches.append(_Batch(numbers=numbers, values=values))
        elif checked.batches:
            checked.batches = []  # nothing will be written: free the memory

    rows = chain(pending, sheet.rows)
    count = 0
    while block := list(islice(rows, batch_size)):
        # Blank rows are skipped. A first cell with a value makes a row not blank (the usual
        # case): only the others are looked at cell by cell.
        block = [
            row
            for row in block
            if (row[1] and (first := row[1][0]) is not None and (first.__class__ is not str or first.strip()))
            or not is_blank(row[1])
        ]
        if not block:
            continue
        before, count = count, count + len(block)
        if count > MAX_ROWS:
            raise ImportFileError(
                _("The file has more than %(max)d rows: split it into several files.") % {"max": MAX_ROWS}
            )
        numbers, lines = zip(*block, strict=True)
        finish_batch(list(numbers), lines)
        if count // PROGRESS_EVERY > before // PROGRESS_EVERY:
            _set_progress(job, processed_rows=count, total_rows=max(job.total_rows, count))
    checked.data_rows = count
    if count == 0 and not checked.errors:
        checked.add(_error(None, "", _("The file has a header but no data rows.")))
    _set_progress(job, processed_rows=count, total_rows=count)
    return checked


# --- Writing --------------------------------------------------------------------------------


_CODE_TABLE = bytes.maketrans(
    bytes(range(256)), PLATFORM_CODE_ALPHABET.encode("ascii") * (256 // len(PLATFORM_CODE_ALPHABET))
)


def _platform_codes(count: int) -> list[str]:
    """``count`` new platform codes, as ``models.new_platform_code`` makes them (JL + 12
    Crockford base32 characters from ``secrets``), at a fraction of the cost per code: each
    random byte maps to one of the 32 characters (256 = 8 x 32, so all are equally likely)."""
    text = secrets.token_bytes(12 * count).translate(_CODE_TABLE).decode("ascii")
    return ["JL" + text[i : i + 12] for i in range(0, 12 * count, 12)]


class _InsertPlan:
    """One INSERT statement for new instruments, run with ``executemany`` per batch.

    Why not ``bulk_create``: Django compiles every value of every row into the SQL text
    (about 3 µs a value) and, on SQLite, caps a statement at 999 parameters (52 instruments),
    which made writing 100,000 instruments take 10 s of the import's 20. One prepared
    statement executed for every row (in the driver: SQLite's C loop, psycopg's pipeline)
    writes them in under 2 s. The columns come from the model, so a field added later is
    written with its default (prepared by the field itself) without touching this code.
    """

    def __init__(self, organization, now):
        fields = [f for f in Instrument._meta.concrete_fields if not f.primary_key]
        quote = connection.ops.quote_name
        self.sql = "INSERT INTO {} ({}) VALUES ({})".format(
            quote(Instrument._meta.db_table),
            ", ".join(quote(f.column) for f in fields),
            ", ".join(["%s"] * len(fields)),
        )
        at = {f.name: i for i, f in enumerate(fields)}
        constants = {
            "organization": organization.pk,
            "division": organization.division_id,
            "created_at": now,
            "updated_at": now,
        }
        self.template = []
        for f in fields:
            value = constants.get(f.name, f.get_default())
            self.template.append(f.get_db_prep_save(value, connection) if value is not None else None)
        self.copies = [(at[name], name) for name in _FIELDS if name not in ("catalogue_item", "use_field", "status")]
        self.catalogue = at["catalogue_item"]
        self.use = at["use_field"]
        self.status = at["status"]
        self.mandatory = at["is_mandatory"]
        self.code = at["platform_code"]

    def execute(self, batch: _Batch, mandatory: dict[tuple[int, str], bool], only: Sequence[int] | None = None) -> None:
        """Insert the rows of ``batch`` (those at the indexes ``only``, or all); ``mandatory``
        maps (catalogue item id, use field) to the flag, from the locked catalogue rows.

        The statement's parameters are built a column at a time and zipped into rows, so no
        Python code runs per row and value."""
        values = batch.values

        def given(name: str) -> list:
            found = values[name]
            return found if only is None else [found[at] for at in only]

        count = len(batch.numbers) if only is None else len(only)
        items = given("catalogue_item")
        distinct = dict(zip(map(id, items), items, strict=True))  # the same few objects, many times
        pk_of = {key: item.pk for key, item in distinct.items() if item is not None}
        catalogue_ids = list(map(pk_of.get, map(id, items)))  # None for no item
        uses = given("use_field")
        uses = list(map({use: str(use) for use in set(uses)}.__getitem__, uses))
        in_use = str(Instrument.Status.IN_USE)
        statuses = given("status")  # empty: a new instrument is in use
        statuses = list(
            map({status: str(status) if status else in_use for status in set(statuses)}.__getitem__, statuses)
        )
        flags = [mandatory.get(pair, False) for pair in zip(catalogue_ids, uses, strict=True)]
        columns: list = [repeat(value) for value in self.template]
        for to, name in self.copies:
            columns[to] = given(name)
        columns[self.code] = _platform_codes(count)
        columns[self.catalogue] = catalogue_ids
        columns[self.use] = uses
        columns[self.status] = statuses
        columns[self.mandatory] = flags
        params = list(zip(*columns))  # noqa: B905 - the constant columns repeat without end
        with connection.cursor() as cursor:
            cursor.executemany(self.sql, params)


class _Refused(Exception):
    """Rows found unacceptable while writing (the ledger changed since the check)."""

    def __init__(self, errors: list[dict]):
        self.errors = errors
        super().__init__(f"{len(errors)} rows refused")


class _LockedCatalogue:
    """The catalogue items an import uses, locked for the rest of its transaction (as
    ``instrument_create`` locks its item), so a concurrent change of an item (which updates
    its instruments' ``is_mandatory`` in sets) cannot miss the imported instruments, and the
    mandatory flags taken from the items as they now stand."""

    def __init__(self):
        self.mandatory: dict[tuple[int, str], bool] = {}
        self.locked: set[int] = set()

    def lock(self, pks) -> None:
        wanted = sorted({pk for pk in pks if pk is not None} - self.locked)
        if not wanted:
            return
        for item in CatalogueItem.objects.select_for_update(no_key=True).filter(pk__in=wanted).order_by("pk"):
            for use in UseField.values:
                self.mandatory[(item.pk, use)] = is_mandatory(item, use)
        self.locked.update(wanted)


def _write(job: ImportJob, checked: _Checked) -> None:
    from nqihub.organizations.models import Organization

    organization = job.organization
    present = set(checked.header.written)
    # Update only what the file gives: a column left out keeps the instrument's value.
    update_fields = [f for f in _FIELDS if f in present and f != "factory_number"]
    update_fields += ["is_mandatory", "updated_at"]
    plain = [name for name in update_fields[:-2] if name != "catalogue_item"]
    # Where the status is among the values compared: an empty cell keeps the instrument's.
    status_in_plain = plain.index("status") if "status" in plain else None
    has_catalogue = "catalogue_item" in present
    status_header = checked.header.written.get("status", "")
    jobs.beat(job)
    if not jobs.move(job, "write"):
        return  # no longer this worker's job (recovered after a stall)
    created = updated = 0
    try:
        with transaction.atomic():
            # One import at a time per enterprise (PostgreSQL; SQLite's writes queue anyway).
            # Every lock here is FOR NO KEY UPDATE: it keeps another import and any update
            # out, but not a write that merely names these rows. That write's foreign-key
            # check (deferred to its COMMIT, after its audit record took the chain's head)
            # would otherwise wait for this import while the import waits for the head
            # (tests/test_import_locks.py).
            Organization.objects.select_for_update(no_key=True).filter(pk=organization.pk).first()
            now = timezone.now()
            insert = _InsertPlan(organization, now)
            catalogue = _LockedCatalogue()
            if has_catalogue:
                used: dict[int, CatalogueItem] = {}
                for batch in checked.batches:
                    items = batch.values["catalogue_item"]
                    used.update(zip(map(id, items), items, strict=True))
                catalogue.lock(item.pk for item in used.values() if item is not None)
            mandatory = catalogue.mandatory
            refused: list[dict] = []
            # Locked (PostgreSQL), so the status checked again below is the one overwritten:
            # the whole ledger when it is no larger than the file, else a batch at a time.
            columns = ("factory_number", "pk", "catalogue_item_id", "is_mandatory", *plain)
            whole = _whole_ledger(
                Instrument.objects.select_for_update(no_key=True).filter(organization=organization),
                checked.kept_rows,
                columns,
            )
            for batch in checked.batches:  # at most _fetch_batch() rows each
                values = batch.values
                factory = values["factory_number"]
                if whole is None:
                    existing = {
                        found[0]: found[1:]
                        for found in Instrument.objects.select_for_update(no_key=True)
                        .filter(organization=organization, factory_number__in=factory)
                        .values_list(*columns)
                    }
                elif whole:
                    existing = {number: whole[number][1:] for number in factory if number in whole}
                else:
                    existing = {}
                if not existing:
                    if not refused:
                        insert.execute(batch, mandatory)
                        created += len(batch.numbers)
                    continue
                if not has_catalogue:  # the instruments keep their items: lock those
                    catalogue.lock(found[1] for found in existing.values())
                to_create = []
                to_update = []
                for at, number in enumerate(factory):
                    found = existing.get(number)
                    if found is None:
                        to_create.append(at)
                        continue
                    updated += 1
                    pk, catalogue_id, was_mandatory, *old = found
                    new = [values[name][at] for name in plain]
                    if status_in_plain is not None:
                        wanted = new[status_in_plain]
                        if wanted is None:
                            new[status_in_plain] = old[status_in_plain]
                        else:
                            # Checked before; checked again in case the ledger changed since.
                            problem = _transition_refused(old[status_in_plain], wanted)
                            if problem:
                                refused.append(_error(batch.numbers[at], status_header, problem))
                                continue
                    if has_catalogue:
                        item = values["catalogue_item"][at]
                        new_catalogue_id = item.pk if item is not None else None
                    else:  # the file has no catalogue column: the instrument's item stands
                        new_catalogue_id = catalogue_id
                    is_mandatory = mandatory.get((new_catalogue_id, values["use_field"][at]), False)
                    if new == old and new_catalogue_id == catalogue_id and is_mandatory == was_mandatory:
                        continue  # nothing to write
                    instrument = Instrument(
                        pk=pk, is_mandatory=is_mandatory, updated_at=now, **dict(zip(plain, new, strict=True))
                    )
                    instrument.catalogue_item_id = new_catalogue_id
                    to_update.append(instrument)
                if refused:
                    continue  # nothing will be written: collect the other refusals
                if to_create:
                    insert.execute(batch, mandatory, to_create)
                    created += len(to_create)
                if to_update:
                    Instrument.objects.bulk_update(to_update, update_fields, batch_size=UPDATE_BATCH)
            if refused:
                raise _Refused(refused)
            finished = timezone.now()
            ImportJob.objects.filter(pk=job.pk, state=ImportJob.State.IMPORTING).update(
                state=jobs.transition_states(ImportJob, "finish")[1],
                created_count=created,
                updated_count=updated,
                processed_rows=checked.data_rows,
                total_rows=checked.data_rows,
                errors=[],
                finished_at=finished,
            )
            audit_record(
                action=ACTION,
                actor=job.created_by,
                target=job,
                organization=organization,
                details={"job_id": job.pk, "created": created, "updated": updated, "filename": job.filename},
            )
    except _Refused as exc:
        _finish_failed(job, exc.errors, total_rows=checked.data_rows)
        return
    except IntegrityError:
        logger.warning("Import job %s collided with another change to the same instruments", job.pk, exc_info=True)
        _finish_failed(
            job,
            [
                _error(
                    None,
                    "",
                    _(
                        "Another change to the same instruments was saved while this file was being imported; nothing was imported. Please import the file again."
                    ),
                )
            ],
            total_rows=checked.data_rows,
        )
        return
    job.refresh_from_db()


def _finish_failed(job: ImportJob, errors: list[dict], *, total_rows: int, error_count: int | None = None) -> None:
    count = error_count if error_count is not None else len(errors)
    stored = tables_columns.capped(errors, count, _limits().max_stored_errors)
    finished = timezone.now()
    with transaction.atomic():
        jobs.move(job, "reject", errors=stored, total_rows=total_rows, finished_at=finished)
        audit_record(
            action=ACTION,
            actor=job.created_by,
            target=job,
            organization=job.organization,
            outcome=Outcome.FAILURE,
            details={"job_id": job.pk, "errors": count, "filename": job.filename},
        )


def finish_error(job: ImportJob, message: str = "") -> None:
    """Stop ``job`` for good with ``message`` (an internal error by default): the kernel's
    recovery calls it for a job whose worker died twice, and the queue when queuing fails."""
    message = message or _(
        "An internal error stopped the import; nothing was imported. Please try again later or tell the platform administrator."
    )
    try:
        with transaction.atomic():
            if not jobs.move(job, "crash", errors=[_error(None, "", message)], finished_at=timezone.now()):
                return
            audit_record(
                action=ACTION,
                actor=job.created_by,
                target=job,
                organization=job.organization,
                outcome=Outcome.FAILURE,
                details={"job_id": job.pk, "internal_error": True, "filename": job.filename},
            )
    except Exception:  # pragma: no cover - the database itself is failing
        logger.exception("Could not record the failure of import job %s", job.pk)


# --- Uploaded files ----------------------------------------------------------------------------


def purge_finished_uploads(now) -> int:
    """Delete the uploaded workbooks of imports that finished more than
    ``NQI_IMPORT_UPLOAD_RETENTION_DAYS`` days ago (default 7: long enough for an administrator
    to look into a failed import). The job keeps its file name, counts and errors; nothing
    reads the workbook after the import. A retention rule of the daily ``clean_stored_files``."""
    cutoff = now - timedelta(days=settings.NQI_IMPORT_UPLOAD_RETENTION_DAYS)
    return release_files(ImportJob.objects.filter(finished_at__lt=cutoff), "file")


# --- What people read and download ------------------------------------------------------------


def import_error_count(job: ImportJob) -> int:
    return tables_columns.error_count(job.errors)


import_error_text = tables_columns.error_text


def import_status(job: ImportJob) -> dict:
    """What the progress bar polls (and the API returns beside the job's other fields)."""
    jobs.recover_if_stale(job)  # a job whose worker died is retried or failed, never left running
    return {
        "id": job.pk,
        "state": job.state,
        "state_label": str(job.get_state_display()),
        "finished": job.state in FINAL_STATES,
        "progress": 100 if job.state == ImportJob.State.DONE else job.progress,
        "processed_rows": job.processed_rows,
        "total_rows": job.total_rows,
        "created": job.created_count,
        "updated": job.updated_count,
        "error_count": import_error_count(job),
    }


def import_errors_xlsx(*, job: ImportJob) -> bytes:
    return error_workbook(job.errors, title=_("Import errors"), headers=[_("Row"), _("Column"), _("Problem")])


def _choice_words(table: dict[str, str], choices) -> list[str]:
    """The shortest Chinese word the rules accept for each choice (贸易结算, 在用 …)."""
    words = []
    for value, _label in choices:
        accepted = [text for text, code in table.items() if code == value and not text.isascii()]
        words.append(min(accepted, key=len) if accepted else str(value))
    return words


def _column_notes() -> dict[str, str]:
    return {
        "catalogue_item": _(
            "The catalogue code (e.g. 5.1) or the exact item name, as listed below. Leave it empty for an instrument outside the catalogue of mandatory verification."
        ),
        "name": _("The instrument's name, as on its nameplate."),
        "model_spec": _("Model or specification."),
        "measuring_range": _("Measuring range, e.g. (0~15) kg."),
        "accuracy_class": _("Accuracy class, e.g. III."),
        "factory_number": _(
            "The factory (serial) number. Importing a factory number that is already in your ledger updates that instrument instead of adding it again."
        ),
        "manufacturer": _("The manufacturer."),
        "location": _("Where the instrument is installed or used."),
        "use_field": _(
            "One of: %(values)s. Mandatory verification applies only in trade settlement, safety protection, medical care and environmental monitoring."
        ),
        "status": _(
            "One of: %(values)s. Empty means in use for a new instrument; an instrument already in your ledger keeps its status."
        ),
    }


def import_template_xlsx() -> bytes:
    """The template workbook, in Chinese: the ledger sheet with the headers and drop-downs,
    and a sheet of instructions listing the accepted values and the catalogue."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    use_table, status_table = rules.lookup_tables()
    use_words = _choice_words(use_table, rules.UseField.choices)
    status_words = _choice_words(status_table, Instrument.Status.choices)
    items = list(CatalogueItem.objects.active().order_by("level1_no", "level2_no", "code"))
    bold = Font(bold=True)
    required_fill = PatternFill("solid", fgColor="FDE9D9")
    header_fill = PatternFill("solid", fgColor="EEF2F7")

    with translation.override("zh-hans"):
        workbook = Workbook()
        ledger = workbook.active
        ledger.title = DATA_SHEET_TITLE
        for index, column in enumerate(rules.COLUMNS, start=1):
            cell = ledger.cell(row=1, column=index, value=column.header_zh)
            cell.font = bold
            cell.fill = required_fill if column.required else header_fill
            dimension = ledger.column_dimensions[get_column_letter(index)]
            if column.field in ("factory_number", "catalogue_item"):
                # Text format for the whole column, so Excel keeps 00123 and 5.10 as typed.
                dimension.number_format = "@"
            dimension.width = max(14, len(column.header_zh) * 2 + 4)
        ledger.freeze_panes = "A2"
        for name, words in (("use_field", use_words), ("status", status_words)):
            letter = get_column_letter(_FIELDS.index(name) + 1)
            validation = DataValidation(
                type="list",
                formula1='"{}"'.format(",".join(words)),
                allow_blank=True,
                showErrorMessage=True,
                errorTitle=rules.COLUMN_BY_FIELD[name].header_zh,
                error=_("Choose one of the values in the list."),
            )
            ledger.add_data_validation(validation)
            validation.add(f"{letter}2:{letter}100000")

        notes = workbook.create_sheet(NOTES_SHEET_TITLE)
        notes.append([_("Column"), _("English header"), _("Required"), _("How to fill it in")])
        for cell in notes[1]:
            cell.font = bold
        texts = _column_notes()
        values = {"use_field": "、".join(use_words), "status": "、".join(status_words)}
        for column in rules.COLUMNS:
            note = texts[column.field]
            if column.field in values:
                note = note % {"values": values[column.field]}
            if column.max_length:
                note += " " + _("At most %(max)d characters.") % {"max": column.max_length}
            notes.append(
                [column.header_zh, column.header_en, _("Required") if column.required else _("Optional"), note]
            )
        notes.append([])
        notes.append(
            [
                _(
                    "Fill in one instrument per row on the first sheet; headers may also be in English and columns in any order. The whole file is checked first: if any row has an error, nothing is imported and every error is listed with its row and column."
                )
            ]
        )
        notes.append([])
        catalogue_title = notes.max_row + 1
        notes.append(
            [
                _(
                    "Catalogue of measuring instruments under mandatory management (codes and names accepted in the first column)"
                )
            ]
        )
        notes.cell(row=catalogue_title, column=1).font = bold
        notes.append([_("Code"), _("Item name"), _("Category"), _("Mandatory verification in")])
        for cell in notes[notes.max_row]:
            cell.font = bold
        labels = {
            "use_trade": use_words[0],
            "use_safety": use_words[1],
            "use_medical": use_words[2],
            "use_environment": use_words[3],
        }
        for item in items:
            fields = "、".join(word for attr, word in labels.items() if getattr(item, attr))
            if item.supervision == "P":
                fields = _("(type approval only)")
            notes.append([item.code, item.name, item.level1_name, fields])
        if not items:
            notes.append([_("The catalogue has not been loaded on this platform yet.")])
        for letter, width in zip("ABCD", (22, 30, 14, 90), strict=True):
            notes.column_dimensions[letter].width = width
        for row in notes.iter_rows(min_row=2, max_row=len(rules.COLUMNS) + 1):
            row[3].alignment = Alignment(wrap_text=True, vertical="top")

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def import_template_csv() -> bytes:
    """The CSV template: the Chinese headers, UTF-8 with a byte-order mark so Excel opens it
    with the right encoding."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([c.header_zh for c in rules.COLUMNS])
    return codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")
