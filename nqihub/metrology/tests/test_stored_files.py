# ruff: noqa: F811  (pytest fixtures imported from other test modules are used as parameters)
"""The daily stored-file clean-up (``nqihub.core.files``, ``manage.py clean_stored_files``):
a PDF left behind by a rolled-back issue is removed, files that records refer to never are,
fresh files are given time, and uploaded import workbooks go a week after their import."""

from __future__ import annotations

import datetime
import io
import json

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import transaction
from django.test import TestCase
from django.utils import timezone

from nqihub.core.files import clean_stored_files
from nqihub.metrology.models import ImportJob, IssuedDocument
from nqihub.metrology.services.documents import document_issue

from .test_documents import issued, make_result, periodic_item, signers  # noqa: F401  (fixtures)
from .test_imports import _row, _xlsx, catalogue, people, run  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db

LATER = datetime.timedelta(days=2)  # older than the one-day grace


@pytest.fixture(autouse=True)
def _empty_storage(settings):
    """A storage of this test's own: the suite's in-memory storage lives as long as the process."""
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"}}


def _storage():
    return IssuedDocument._meta.get_field("pdf").storage


def test_a_rolled_back_issue_leaves_no_pdf_and_orphans_are_removed(world, make_result, issued):
    """The PDF is drawn after the issue commits, so a rolled-back issue writes no file; a file
    no document names (a worker stopped between storing the PDF and recording it) is removed
    by the daily clean-up once it is old enough, and issued PDFs are kept."""
    storage = _storage()
    directory = issued.pdf.name.rsplit("/", 1)[0] + "/"
    result = make_result()
    with TestCase.captureOnCommitCallbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            document_issue(actor=world.users["inst"], result=result)
            raise RuntimeError("the surrounding transaction fails after the issue")
    assert not IssuedDocument.objects.filter(result=result).exists()
    assert len(storage.listdir(directory)[1]) == 1  # only the issued PDF
    orphan = storage.save(directory + "JD-0-0000-000000.pdf", ContentFile(b"%PDF-1.7 never recorded")).rsplit("/", 1)[1]
    _, files = storage.listdir(directory)
    assert len(files) == 2  # the issued PDF and the orphan

    fresh = clean_stored_files()  # the orphan is new: perhaps a transaction still under way
    assert fresh.orphans == [] and fresh.scanned == 2

    dry = clean_stored_files(now=timezone.now() + LATER, dry_run=True)
    assert [name.rsplit("/", 1)[1] for name in dry.orphans] == [orphan]
    assert len(storage.listdir(issued.pdf.name.rsplit("/", 1)[0] + "/")[1]) == 2

    report = clean_stored_files(now=timezone.now() + LATER)
    assert [name.rsplit("/", 1)[1] for name in report.orphans] == [orphan]
    assert storage.exists(issued.pdf.name) and not storage.exists(report.orphans[0])
    with IssuedDocument.objects.get(pk=issued.pk).pdf.open("rb") as fh:
        assert fh.read(5) == b"%PDF-"


def test_unknown_files_outside_the_upload_directories_are_never_touched(db):
    storage = _storage()
    name = storage.save("backups/2026/operator-notes.txt", ContentFile(b"kept"))
    clean_stored_files(now=timezone.now() + datetime.timedelta(days=400))
    assert storage.exists(name)
    storage.delete(name)


def test_import_uploads_are_deleted_a_week_after_the_import(world, catalogue, run, settings):
    settings.NQI_IMPORT_UPLOAD_RETENTION_DAYS = 7
    manager = world.users["ent_manager"]
    done = run(manager, "台账.xlsx", _xlsx([_row()]))
    failed = run(manager, "坏台账.xlsx", _xlsx([_row(use_field="不存在的领域")]))
    assert done.state == ImportJob.State.DONE and failed.state == ImportJob.State.FAILED
    names = {job.pk: ImportJob.objects.get(pk=job.pk).file.name for job in (done, failed)}
    storage = ImportJob._meta.get_field("file").storage
    assert all(storage.exists(n) for n in names.values())

    assert clean_stored_files(now=timezone.now() + datetime.timedelta(days=6)).retained["import_uploads"] == 0
    assert all(storage.exists(n) for n in names.values())

    report = clean_stored_files(now=timezone.now() + datetime.timedelta(days=8))
    assert report.retained["import_uploads"] == 2 and report.orphans == []
    assert not any(storage.exists(n) for n in names.values())
    for job in ImportJob.objects.filter(pk__in=names):
        # The record of the import stays whole: only the workbook is gone.
        assert job.file.name == "" and job.filename in ("台账.xlsx", "坏台账.xlsx") and job.finished_at
    assert ImportJob.objects.get(pk=failed.pk).errors


def test_a_queued_import_keeps_its_upload(world, catalogue):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from nqihub.metrology.services import imports

    job = imports.import_start(
        actor=world.users["ent_manager"], uploaded_file=SimpleUploadedFile("a.xlsx", _xlsx([_row()]))
    )  # queued: the task runs on commit, which never comes in this test's transaction
    report = clean_stored_files(now=timezone.now() + datetime.timedelta(days=30))
    assert report.retained["import_uploads"] == 0 and report.orphans == []
    assert ImportJob._meta.get_field("file").storage.exists(ImportJob.objects.get(pk=job.pk).file.name)


def test_command(world, make_result, issued):
    out = io.StringIO()
    call_command("clean_stored_files", "--json", stdout=out)
    body = json.loads(out.getvalue())
    assert body["orphans"] == [] and body["scanned"] == 1
    assert body["retained"] == {"import_uploads": 0, "export_files": 0}
    out = io.StringIO()
    call_command("clean_stored_files", "--dry-run", stdout=out)
    assert "1 files scanned; 0 orphans would delete" in out.getvalue()
