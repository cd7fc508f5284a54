# ruff: noqa: F811  (pytest fixtures imported from test_documents are used as parameters)
"""Metrology documents on the documents kernel: numbers per issuer, kind and year; the content
hash; the protected state machine; the PDF rendered only after the issue commits; the stored
PDF checked on download; the label check as one statement."""

from __future__ import annotations

import datetime
import hashlib

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_fsm import TransitionNotAllowed

from nqihub.audit.models import AuditEvent
from nqihub.cases.models import NumberCounter
from nqihub.documents import services as kernel
from nqihub.documents.registry import document_kind
from nqihub.metrology.models import IssuedDocument
from nqihub.metrology.services.documents import document_issue, document_reissue, document_revoke

from .test_documents import (  # noqa: F401  (fixtures)
    committed,
    issued,
    make_result,
    other_institution,
    periodic_item,
    signers,
)


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    cache.clear()
    yield
    cache.clear()


def _kernel_issue(document: IssuedDocument, **changes) -> IssuedDocument:
    """Another document with ``document``'s facts through the kernel service (e.g. in another year)."""
    fields = {
        name: getattr(document, name)
        for name in ("kind", "result", "instrument", "institution", "organization", "division", "verified_on")
    }
    fields.update(issued_at=timezone.now(), public_facts=document.public_facts)
    fields.update(changes)
    return kernel.issue(IssuedDocument, actor=None, action="document.issue", **fields)


def _files() -> set[str]:
    found = set()

    def walk(path):
        directories, files = default_storage.listdir(path)
        found.update(f"{path}/{name}".lstrip("/") for name in files)
        for name in directories:
            walk(f"{path}/{name}".lstrip("/"))

    walk("")
    return found


# --- numbering -------------------------------------------------------------------------------


def test_numbers_per_issuer_kind_and_year(world, make_result, other_institution):
    year = timezone.localdate().year
    a = document_issue(actor=world.users["inst"], result=make_result())
    b = document_issue(actor=world.users["inst"], result=make_result("fail", failure_reasons="超差"))
    c = document_issue(actor=world.users["other_inst"], result=make_result(institution=other_institution))
    d = document_issue(actor=world.users["inst"], result=make_result())
    last_year = _kernel_issue(a, issued_at=timezone.now().replace(year=year - 1))
    assert [x.number for x in (a, b, c, d, last_year)] == [
        f"JD-{world.institution.pk}-{year}-000001",
        f"TZ-{world.institution.pk}-{year}-000001",
        f"JD-{other_institution.pk}-{year}-000001",
        f"JD-{world.institution.pk}-{year}-000002",
        f"JD-{world.institution.pk}-{year - 1}-000001",
    ]
    counters = set(
        NumberCounter.objects.filter(issuer__isnull=False).values_list("issuer_id", "series", "year", "last")
    )
    assert counters == {
        (world.institution.pk, "metrology.certificate", year, 2),
        (world.institution.pk, "metrology.notice", year, 1),
        (other_institution.pk, "metrology.certificate", year, 1),
        (world.institution.pk, "metrology.certificate", year - 1, 1),
    }
    assert document_kind(a).key == "metrology.certificate" and document_kind(b).in_force == "failed"


# --- content hash ----------------------------------------------------------------------------


def test_content_hash_is_computed_at_issue_and_stable(world, issued):
    stored = IssuedDocument.objects.get(pk=issued.pk)
    assert len(stored.content_sha256) == 64
    assert stored.content_sha256 == issued.content_sha256 == stored.compute_content_sha256()
    content = stored.content()
    assert content["number"] == issued.number and content["public_code"] == issued.public_code
    assert content["issuer"] == world.institution.pk and content["facts"] == issued.public_facts
    assert content["fee"] == "40.00" and content["valid_until"] == "2027-01-30"
    # The live state is not content: revoking leaves the hash as it was.
    document_revoke(actor=world.users["inst"], document=issued, reason="测试")
    revoked = IssuedDocument.objects.get(pk=issued.pk)
    assert revoked.content_sha256 == revoked.compute_content_sha256() == stored.content_sha256
    # Any change of the facts would show.
    revoked.public_facts = {**revoked.public_facts, "result": "fail"}
    assert revoked.compute_content_sha256() != stored.content_sha256
    event = AuditEvent.objects.filter(action="document.issue", outcome="success").get()
    assert event.details["content_sha256"] == stored.content_sha256 and event.details["number"] == issued.number


def test_reissue_has_its_own_hash(world, issued):
    new = document_reissue(actor=world.users["inst"], document=issued, reason="更正")
    assert new.content_sha256 == new.compute_content_sha256() != issued.content_sha256


# --- state machine ---------------------------------------------------------------------------


def test_state_changes_only_by_its_transitions(world, issued):
    doc = IssuedDocument.objects.get(pk=issued.pk)
    with pytest.raises(AttributeError):
        doc.state = "revoked"  # protected: only supersede and revoke change it
    new = document_reissue(actor=world.users["inst"], document=issued, reason="更正")
    old = IssuedDocument.objects.get(pk=issued.pk)
    assert old.state == "superseded" and old.superseded_by_id == new.pk
    with pytest.raises(TransitionNotAllowed):
        old.revoke(at=timezone.now(), reason="x")  # nothing leaves superseded
    kernel.revoke(new, reason="错发")
    new = IssuedDocument.objects.get(pk=new.pk)
    assert (new.state, new.revoked_reason) == ("revoked", "错发") and new.revoked_at
    with pytest.raises(TransitionNotAllowed):
        new.supersede(old)


# --- the PDF after commit --------------------------------------------------------------------


def test_a_rolled_back_issue_leaves_no_pdf(world, make_result):
    result = make_result()
    before = _files()
    with TestCase.captureOnCommitCallbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                document_issue(actor=world.users["inst"], result=result)
                raise RuntimeError("the request failed after the issue")
    assert callbacks == [] and _files() == before
    assert not IssuedDocument.objects.exists()


def test_the_pdf_exists_after_commit(world, make_result):
    result = make_result()
    with TestCase.captureOnCommitCallbacks(execute=False) as callbacks:
        doc = document_issue(actor=world.users["inst"], result=result)
        assert not IssuedDocument.objects.get(pk=doc.pk).pdf  # nothing drawn inside the transaction
    assert len(callbacks) == 1
    callbacks[0]()
    stored = IssuedDocument.objects.get(pk=doc.pk)
    data = default_storage.open(stored.pdf.name).read()
    assert data.startswith(b"%PDF-") and hashlib.sha256(data).hexdigest() == stored.pdf_sha256
    callbacks[0]()  # run again (a retry): the stored file stays the one issued
    assert IssuedDocument.objects.get(pk=doc.pk).pdf.name == stored.pdf.name


def test_download_renders_a_missing_pdf_and_refuses_a_changed_one(world, make_result, client):
    doc = document_issue(actor=world.users["inst"], result=make_result())  # after-commit work never ran
    data = kernel.stored_pdf(IssuedDocument.objects.get(pk=doc.pk))
    stored = IssuedDocument.objects.get(pk=doc.pk)
    assert stored.pdf and hashlib.sha256(data).hexdigest() == stored.pdf_sha256
    assert kernel.stored_pdf(stored) == data
    default_storage.delete(stored.pdf.name)
    default_storage.save(stored.pdf.name, ContentFile(b"%PDF-1.4 forged"))
    with pytest.raises(kernel.PdfMismatch):
        kernel.stored_pdf(stored)
    client.force_login(world.users["inst"])
    assert client.get(f"/metrology/documents/{doc.pk}/pdf/").status_code == 404


# --- the label check -------------------------------------------------------------------------


def test_label_check_is_one_statement_and_follows_the_latest_document_in_force(client, world, make_result, settings):
    settings.NQI_VERIFY_RATE_PER_MINUTE = 0  # the lookup alone (the rate limit's statement: test_verify)
    result = make_result(verified_on=datetime.date(2026, 1, 31))
    instrument = result.item.instrument
    with CaptureQueriesContext(connection) as queries:
        body = client.get(f"/verify/{instrument.platform_code.lower()}.json").json()
    assert len(queries) == 1
    assert body == {
        "type": "instrument",
        "code": instrument.platform_code,
        "checked_on": timezone.localdate().isoformat(),
        "status": "none",
        "status_label": body["status_label"],
        "instrument": {
            "name": instrument.name,
            "model_spec": instrument.model_spec,
            "factory_number": instrument.factory_number,
            "platform_code": instrument.platform_code,
        },
        "catalogue_item": f"{result.item.catalogue_item.code} {result.item.catalogue_item.name}",
        "document": None,
    }
    first = document_issue(actor=world.users["inst"], result=result)
    later = make_result(verified_on=datetime.date(2026, 2, 10), instrument=instrument)
    second = document_issue(actor=world.users["inst"], result=later)
    with CaptureQueriesContext(connection) as queries:
        body = client.get(f"/verify/{instrument.platform_code}.json").json()
    assert len(queries) == 1
    assert body["document"]["number"] == second.number and body["status"] == "valid"
    assert set(body["document"]) == {
        "status", "status_label", "kind", "kind_label", "number", "check_code", "check_url", "institution",
        "instrument", "catalogue_item", "result", "result_label", "verified_on", "valid_until", "issued_on",
        "revoked_on", "superseded_by",
    }  # fmt: skip
    document_revoke(actor=world.users["inst"], document=second, reason="错发")
    assert client.get(f"/verify/{instrument.platform_code}.json").json()["document"]["number"] == first.number
    document_revoke(actor=world.users["inst"], document=first, reason="错发")
    body = client.get(f"/verify/{instrument.platform_code}.json").json()
    assert body["status"] == "none" and body["document"] is None


def test_unknown_label_and_document_codes(client, db, settings):
    settings.NQI_VERIFY_RATE_PER_MINUTE = 0  # the lookup alone (the rate limit's statement: test_verify)
    for code in ("JL000000000000", "ABCDEFGHJKMNPQRS"):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/verify/{code}.json")
        assert response.status_code == 404 and response.json()["code"] == "not_found"
        assert len(queries) == 1 and not response.cookies


def test_content_hash_survives_the_database_round_trip_of_a_local_time(world, issued):
    """A module may give the issue time in local time (UTC+8): the hash is of the moment, so
    the document read back (in UTC) gives the same hash."""
    local = timezone.localtime().replace(microsecond=123456)
    doc = _kernel_issue(issued, issued_at=local)
    assert doc.issued_at.utcoffset() == datetime.timedelta(hours=8)
    assert IssuedDocument.objects.get(pk=doc.pk).compute_content_sha256() == doc.content_sha256
