# ruff: noqa: F401 - fixtures imported from the metrology tests are used as arguments
"""Fixtures of the background-export tests: the metrology tests' ``make`` (a mandatory scale
of an enterprise, due in so many days) and ``scale``; a storage of each test's own; and
``start``, which asks for an export and runs its task when the request commits."""

from __future__ import annotations

from io import BytesIO

import pytest
from openpyxl import load_workbook

from nqihub.downloads.models import ExportJob
from nqihub.downloads.services import export_start
from nqihub.metrology.tests.conftest import scale
from nqihub.metrology.tests.test_reminders import make


@pytest.fixture(autouse=True)
def _own_storage(settings):
    """A storage of this test's own: the suite's in-memory storage lives as long as the process."""
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"}}


@pytest.fixture
def start(django_capture_on_commit_callbacks):
    """``start(user, kind, params)``: ask for an export; the task runs when it commits
    (ImmediateBackend), as a worker would pick it up."""

    def _start(user, kind: str = "metrology.instruments", params=None) -> ExportJob:
        with django_capture_on_commit_callbacks(execute=True):
            job = export_start(actor=user, kind=kind, params=params or {})
        job.refresh_from_db()
        return job

    return _start


def sheets(content: bytes) -> dict[str, list[tuple]]:
    """Every sheet of a workbook: title -> rows (values) from the header on (the lines above
    it, which say what was exported, and the blank line after them are left out)."""
    workbook = load_workbook(BytesIO(content), read_only=True)
    found = {}
    for sheet in workbook.worksheets:
        rows = list(sheet.iter_rows(values_only=True))
        blank = next((i for i, row in enumerate(rows[:6]) if all(v is None for v in row)), None)
        found[sheet.title] = rows[blank + 1 :] if blank is not None else rows
    return found


def search_lines(content: bytes) -> list[tuple]:
    """The lines above the header of the first sheet."""
    workbook = load_workbook(BytesIO(content), read_only=True)
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    blank = next(i for i, row in enumerate(rows) if all(v is None for v in row))
    return [tuple(v for v in row if v is not None) for row in rows[:blank]]


def stored(job: ExportJob) -> bytes:
    with job.file.open("rb") as handle:
        return handle.read()
