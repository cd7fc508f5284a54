# ruff: noqa: F811  (pytest fixtures imported from test_documents are used as parameters)
"""The public check /verify/<code>/: each status, the instrument's platform code, no personal
data, forged and malformed codes, JSON, the rate limit, and no cookies for anonymous visitors."""

from __future__ import annotations

import datetime
import importlib
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from nqihub.metrology.models import Instrument, IssuedDocument
from nqihub.metrology.services.documents import document_issue, document_reissue, document_revoke

from .test_documents import (  # noqa: F401  (fixtures)
    CONTACT_PHONE,
    ENTERPRISE_PHONE,
    SIGNERS,
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


def _page(client, code):
    response = client.get(f"/verify/{code}/")
    return response, response.content.decode()


def _assert_nothing_personal(text: str) -> None:
    for secret in (ENTERPRISE_PHONE, CONTACT_PHONE, "赵联系", *SIGNERS, "40.00", "10.00"):
        assert secret not in text, secret


def test_valid_certificate(client, issued):
    response, html = _page(client, issued.public_code)
    assert response.status_code == 200
    assert 'data-status="valid"' in html
    assert issued.number in html and "包头市质量技术监督检验测试所" in html and "电子计价秤" in html
    assert issued.instrument.factory_number in html and "2027-01-30" in html
    assert "包头天和磁材科技股份有限公司" not in html  # not even the enterprise's name
    _assert_nothing_personal(html)
    # Caches must ask again each time: a revocation shows at once.
    assert "no-cache" in response["Cache-Control"] and "max-age=0" in response["Cache-Control"]
    assert "/static/nqihub/favicon.svg" in html  # the browser asks for no /favicon.ico (a 404 page)


def test_lowercase_code_is_accepted(client, issued):
    assert client.get(f"/verify/{issued.public_code.lower()}/").status_code == 200


def test_expired_certificate(client, world, make_result):
    doc = document_issue(actor=world.users["inst"], result=make_result(verified_on=datetime.date(2020, 1, 15)))
    response, html = _page(client, doc.public_code)
    assert response.status_code == 200 and 'data-status="expired"' in html


def test_revoked_certificate(client, world, issued):
    document_revoke(actor=world.users["inst"], document=issued, reason="误发：检定员张三录入错误")
    response, html = _page(client, issued.public_code)
    assert response.status_code == 200 and 'data-status="revoked"' in html
    assert "张三" not in html  # the reason is recorded, not published
    body = client.get(f"/verify/{issued.public_code}.json").json()
    assert body["status"] == "revoked" and body["revoked_on"] == timezone.localdate().isoformat()
    assert "张三" not in str(body)


def test_superseded_links_to_the_new_document(client, world, issued):
    new = document_reissue(actor=world.users["inst"], document=issued, reason="更正")
    _, html = _page(client, issued.public_code)
    assert 'data-status="superseded"' in html and new.number in html
    assert f"/verify/{new.public_code}/" in html
    body = client.get(f"/verify/{issued.public_code}.json").json()
    assert body["status"] == "superseded" and body["superseded_by"]["check_code"] == new.public_code
    assert _page(client, new.public_code)[0].status_code == 200


def test_notice_is_checkable(client, world, make_result):
    doc = document_issue(actor=world.users["inst"], result=make_result("fail", failure_reasons="超差"))
    body = client.get(f"/verify/{doc.public_code}/?format=json").json()
    assert body["kind"] == "notice" and body["result"] == "fail" and body["valid_until"] is None
    assert body["status"] == "failed"  # a notice in force is never shown as "valid"
    _, html = _page(client, doc.public_code)
    assert 'data-status="failed"' in html and 'data-status="valid"' not in html


def test_json_has_the_same_facts_and_nothing_personal(client, issued):
    for response in (
        client.get(f"/verify/{issued.public_code}/?format=json"),
        client.get(f"/verify/{issued.public_code}/", HTTP_ACCEPT="application/json"),
        client.get(f"/verify/{issued.public_code}.json"),
    ):
        assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
        body = response.json()
        assert body["status"] == "valid" and body["kind"] == "certificate" and body["number"] == issued.number
        assert body["valid_until"] == "2027-01-30" and body["verified_on"] == "2026-01-31"
        assert body["institution"] == "包头市质量技术监督检验测试所"
        assert body["instrument"]["factory_number"] == issued.instrument.factory_number
        _assert_nothing_personal(response.content.decode())
        assert "fee" not in body and "organization" not in body


def test_instrument_platform_code(client, world, make_result):
    result = make_result()
    instrument = result.item.instrument
    body = client.get(f"/verify/{instrument.platform_code}.json").json()
    assert body["type"] == "instrument" and body["status"] == "none" and body["document"] is None
    _, html = _page(client, instrument.platform_code)
    assert 'data-status="none"' in html
    doc = document_issue(actor=world.users["inst"], result=result)
    body = client.get(f"/verify/{instrument.platform_code}.json").json()
    assert body["status"] == "valid" and body["document"]["number"] == doc.number
    _, html = _page(client, instrument.platform_code)
    assert 'data-status="valid"' in html and doc.number in html
    _assert_nothing_personal(html)
    failed = make_result("fail", verified_on=datetime.date(2026, 6, 1), instrument=instrument, failure_reasons="超差")
    document_issue(actor=world.users["inst"], result=failed)
    assert client.get(f"/verify/{instrument.platform_code}.json").json()["status"] == "failed"


@pytest.mark.parametrize(
    "code",
    [
        "AAAAAAAAAAAAAAAA",
        "JL0000000000000",
        "JL000000000000",
        "short",
        "IIIIIIIIIIIIIIII",
        "%3Cscript%3E",
        "x" * 300,
        "ABCDEFGHJKMNPQRS'",
        "中文查验码",
    ],
)
def test_unknown_or_malformed_codes_are_404(client, issued, code):
    response = client.get(f"/verify/{code}/")
    assert response.status_code == 404
    assert "no-store" in response["Cache-Control"]
    assert b"<script>" not in response.content
    response = client.get(f"/verify/{code}/?format=json")
    assert response.status_code == 404 and response.json()["code"] == "not_found" and response.json()["detail"]


def _counter_statements(queries) -> list[str]:
    return [q["sql"] for q in queries if "core_ratecounter" in q["sql"]]


def test_malformed_code_needs_no_query(client, db):
    """No lookup for a malformed code; the only statement is the rate limit's one counting
    statement (the shared counters live in the database by default)."""
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/verify/not-a-code/").status_code == 404
    assert len(queries) == 1 and len(_counter_statements(queries)) == 1, [q["sql"] for q in queries]


def test_without_a_rate_limit_a_malformed_code_runs_no_statement(client, db, settings):
    settings.NQI_VERIFY_RATE_PER_MINUTE = 0
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/verify/not-a-code/").status_code == 404
    assert len(queries) == 0


@pytest.mark.parametrize("suffix", ["/", ".json"])
def test_one_query_per_check_and_no_session(client, issued, suffix):
    """An anonymous check, of any kind of code, page or JSON, runs exactly one lookup and one
    statement counting the address's checks: no session row is read or written, no user, no
    audit row, no count."""
    from django.contrib.sessions.models import Session

    checks = [
        (issued.public_code, 200),  # a document's check code
        (issued.instrument.platform_code, 200),  # an instrument's label code
        ("ABCDEFGHJKMNPQRS", 404),  # an unknown code of either form: one lookup finds nothing
        ("JL0000000000AB", 404),
    ]
    for code, status in checks:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/verify/{code}{suffix}")
        assert response.status_code == status, code
        assert len(queries) == 2 and len(_counter_statements(queries)) == 1, (code, [q["sql"] for q in queries])
        assert not response.cookies
    assert not Session.objects.exists()


def test_anonymous_visitor_gets_no_cookie(client, issued):
    response = client.get(f"/verify/{issued.public_code}/")
    assert response.status_code == 200
    assert not response.cookies, dict(response.cookies)


def test_rate_limit(client, issued, settings):
    settings.NQI_VERIFY_RATE_PER_MINUTE = 3
    for _ in range(3):
        assert client.get(f"/verify/{issued.public_code}/").status_code == 200
    response = client.get(f"/verify/{issued.public_code}/")
    assert response.status_code == 429 and response["Retry-After"] == "60"
    response = client.get(f"/verify/{issued.public_code}.json")
    assert response.status_code == 429 and response.json()["code"] == "rate_limited"
    # Another address has its own allowance.
    assert client.get(f"/verify/{issued.public_code}/", REMOTE_ADDR="10.0.0.9").status_code == 200


def test_document_states_unchanged_by_checks(client, issued):
    client.get(f"/verify/{issued.public_code}/")
    assert IssuedDocument.objects.get(pk=issued.pk).state == "valid"


def test_facts_are_those_at_issue(client, world, issued):
    """A certificate says what was verified: editing the ledger afterwards changes nothing on
    the public check, and a reissue carries the same facts under its own number and date."""
    factory_number = issued.instrument.factory_number
    Instrument.objects.filter(pk=issued.instrument_id).update(name="改名后的器具", factory_number="CHANGED-1")
    body = client.get(f"/verify/{issued.public_code}.json").json()
    assert body["instrument"]["name"] == "电子计价秤" and body["instrument"]["factory_number"] == factory_number
    new = document_reissue(actor=world.users["inst"], document=issued, reason="更正")
    body = client.get(f"/verify/{new.public_code}.json").json()
    assert body["instrument"]["factory_number"] == factory_number and body["number"] == new.number
    assert body["issued_on"] == timezone.localdate().isoformat() and body["verified_on"] == "2026-01-31"


def test_documents_issued_before_get_their_facts(client, issued):
    """The migration that introduced the snapshot fills it in for documents issued earlier."""
    from django.apps import apps

    migration = importlib.import_module("nqihub.metrology.migrations.0005_document_public_facts")
    expected = IssuedDocument.objects.get(pk=issued.pk).public_facts
    assert expected["instrument"]["factory_number"] == issued.instrument.factory_number
    IssuedDocument.objects.filter(pk=issued.pk).update(public_facts={})
    migration.fill_public_facts(apps, SimpleNamespace(connection=connection))  # it needs only the alias
    assert IssuedDocument.objects.get(pk=issued.pk).public_facts == expected
    assert client.get(f"/verify/{issued.public_code}.json").json()["instrument"] == expected["instrument"]


def test_a_certificate_is_valid_through_the_day_before_the_anniversary(issued):
    """有效期至 = 检定日期 + 周期 − 1 日: verified 2026-01-31 for 12 months, valid through
    2027-01-30, the day the instrument is due by; on the anniversary it is expired."""
    from nqihub.metrology.views.verify import lookup

    assert issued.valid_until == datetime.date(2027, 1, 30)
    assert lookup("document", issued.public_code, datetime.date(2027, 1, 30))["status"] == "valid"
    assert lookup("document", issued.public_code, datetime.date(2027, 1, 31))["status"] == "expired"
    assert Instrument.objects.get(pk=issued.instrument_id).next_due_on == datetime.date(2027, 1, 30)


def test_unknown_code_writes_no_log_line(client, db, caplog):
    """A code not on record is an answer (404), not a server fault: no "Not Found" warning per
    forged code. Other 404s of the site are still logged."""
    with caplog.at_level("WARNING", logger="django.request"):
        assert client.get("/verify/ABCDEFGHJKMNPQRS/").status_code == 404
        assert client.get("/verify/JL0000000000AB.json").status_code == 404
    assert not [r for r in caplog.records if r.name == "django.request"]
    with caplog.at_level("WARNING", logger="django.request"):
        assert client.get("/no-such-page-anywhere/").status_code == 404
    assert [r for r in caplog.records if r.name == "django.request"]


def test_page_and_json_follow_the_visitors_language(client, issued):
    """Chinese by default, English when the browser asks for it — words kept per language
    must not leak from one visitor's language into another's."""
    for _ in range(2):
        zh = client.get(f"/verify/{issued.public_code}/").content.decode()
        assert "有效" in zh and "检定证书" in zh and 'lang="zh-hans"' in zh
        en = client.get(f"/verify/{issued.public_code}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert ">Valid<" in en and 'lang="en"' in en and "有效" not in en
        body = client.get(f"/verify/{issued.public_code}.json", HTTP_ACCEPT_LANGUAGE="en").json()
        assert body["status_label"] == "Valid"
        assert client.get(f"/verify/{issued.public_code}.json").json()["status_label"] == "有效"
