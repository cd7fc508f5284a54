"""Stored-file hygiene: what the daily ``manage.py clean_stored_files`` removes.

Two kinds of files outlive their use:

* **Orphans**: a file written inside a transaction that was then rolled back (a document's
  PDF when issuing failed after rendering, an upload whose job was never saved). The database
  knows nothing of them. Every ``FileField`` of every installed model is looked at: the fixed
  part of its ``upload_to`` (``documents/``, ``imports/``) is walked in the storage and each
  file no row refers to is deleted once it is older than a grace period (so a file written by
  a transaction still in progress is never taken).
* **Files kept for a while, then no longer needed**: apps register a retention rule
  (``register_retention``), e.g. an import's uploaded workbook, kept a few days after the
  import finished so an administrator can look into a failure.

It works through Django's storage API only (``listdir``, ``get_modified_time``, ``delete``),
so it runs the same on local files and on S3-compatible storage, and it looks at one
directory at a time (one query per directory), so millions of files need no memory to speak
of. Issued documents themselves are never removed: they are referenced for ever.
"""

from __future__ import annotations

import datetime
import logging
import posixpath
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.apps import apps
from django.core.files.storage import Storage
from django.db import models
from django.utils import timezone

logger = logging.getLogger(__name__)

DEFAULT_GRACE = datetime.timedelta(days=1)

# name -> callable(now) -> number of files removed
_retention_rules: dict[str, Callable[[datetime.datetime], int]] = {}


def register_retention(name: str, rule: Callable[[datetime.datetime], int]) -> None:
    """Register a rule run by the daily clean-up: ``rule(now)`` removes what it no longer
    needs and returns how many files it removed."""
    _retention_rules[name] = rule


def release_files(queryset, field: str) -> int:
    """Delete the files that ``field`` of the rows in ``queryset`` refers to, keeping the rows
    (the reference is blanked). The reference goes first: a file left behind by a failed
    delete is an orphan, which the daily clean-up removes next time; a reference to a missing
    file would be worse. For apps' retention rules. Returns how many files went."""
    storage = queryset.model._meta.get_field(field).storage
    removed = 0
    for pk, name in queryset.exclude(**{field: ""}).values_list("pk", field).iterator(chunk_size=1000):
        if queryset.model._default_manager.filter(pk=pk, **{field: name}).update(**{field: ""}):
            storage.delete(name)
            removed += 1
    return removed


@dataclass
class CleanReport:
    orphans: list[str] = field(default_factory=list)
    retained: dict[str, int] = field(default_factory=dict)
    scanned: int = 0


@dataclass
class _Location:
    storage: Storage
    prefix: str  # e.g. "documents/" (the fixed part of upload_to)
    fields: list[tuple[type[models.Model], str]] = field(default_factory=list)


def _fixed_prefix(upload_to: str) -> str:
    """``documents/%Y/%m/`` → ``documents/``: the directory every file of the field is under."""
    fixed = upload_to.split("%", 1)[0]
    return fixed[: fixed.rfind("/") + 1] if "/" in fixed else ""


def file_locations() -> list[_Location]:
    """Every (storage, fixed directory) some FileField stores under, with the fields that do.
    Fields whose ``upload_to`` is a callable or has no fixed directory are left out: their
    files cannot be told apart from anything else in the storage."""
    locations: dict[tuple[int, str], _Location] = {}
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        for f in model._meta.concrete_fields:
            if not isinstance(f, models.FileField) or not isinstance(f.upload_to, str):
                continue
            prefix = _fixed_prefix(f.upload_to)
            if not prefix:
                continue
            location = locations.setdefault((id(f.storage), prefix), _Location(f.storage, prefix))
            location.fields.append((model, f.attname))
    return list(locations.values())


def _walk(storage: Storage, directory: str) -> Iterator[tuple[str, list[str]]]:
    """(directory, file names) for ``directory`` and everything below it."""
    try:
        subdirectories, files = storage.listdir(directory)
    except FileNotFoundError:
        return
    yield directory, files
    for sub in sorted(subdirectories):
        yield from _walk(storage, posixpath.join(directory, sub) + "/")


def _referenced(location: _Location, directory: str) -> set[str]:
    names: set[str] = set()
    for model, attname in location.fields:
        names.update(
            model._default_manager.filter(**{f"{attname}__startswith": directory}).values_list(attname, flat=True)
        )
    return names


def clean_stored_files(
    *, now: datetime.datetime | None = None, grace: datetime.timedelta = DEFAULT_GRACE, dry_run: bool = False
) -> CleanReport:
    """Delete orphaned files older than ``grace`` and run the registered retention rules."""
    now = now or timezone.now()
    report = CleanReport()
    if not dry_run:
        for name, rule in sorted(_retention_rules.items()):
            report.retained[name] = rule(now)
    cutoff = now - grace
    for location in file_locations():
        for directory, files in _walk(location.storage, location.prefix):
            if not files:
                continue
            referenced = _referenced(location, directory)
            for filename in files:
                name = directory + filename
                report.scanned += 1
                if name in referenced:
                    continue
                try:
                    modified = location.storage.get_modified_time(name)
                except (FileNotFoundError, NotImplementedError):
                    continue
                if timezone.is_naive(modified):
                    modified = timezone.make_aware(modified)
                if modified >= cutoff:
                    continue  # perhaps written by a transaction still under way
                report.orphans.append(name)
                if not dry_run:
                    location.storage.delete(name)
                    logger.info("Deleted orphaned file %s", name)
    return report
