"""Every read a regulator makes is recorded exactly once, by the scoping base: the pages,
their exports and the API's list and detail routes. The URL conf is walked, so a page added
later must be listed here as a read (and then shown to be recorded) or as something else."""

from __future__ import annotations

import datetime

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from nqihub.audit.models import AuditEvent
from nqihub.metrology.services.filings import filing_submit
from nqihub.organizations.services import registration_submit
from nqihub.testing.factories import valid_code
from nqihub.testing.workbooks import export_lines, export_sheet

from .test_documents import (  # noqa: F401 - fixtures
    committed,
    issued,
    make_result,
    periodic_item,
    signers,
)

PERIOD = {"period": "2026"}

# Page name -> (the object its URL names, the model recorded, the kind recorded, the query).
READS = {
    "organizations:list": (None, "organizations.organization", "list", {}),
    "organizations:export": (None, "organizations.organization", "export", {}),
    "organizations:detail": ("organization", "organizations.organization", "detail", {}),
    "organizations:registration_list": (None, "organizations.enterpriseregistration", "list", {}),
    "organizations:registration_detail": ("registration", "organizations.enterpriseregistration", "detail", {}),
    "metrology:instrument_list": (None, "metrology.instrument", "list", {}),
    "metrology:instrument_export": (None, "metrology.instrument", "export", {}),
    "metrology:instrument_detail": ("instrument", "metrology.instrument", "detail", {}),
    "metrology:filing_list": (None, "metrology.instrumentfiling", "list", {}),
    "metrology:filing_detail": ("filing", "metrology.instrumentfiling", "detail", {}),
    "metrology:filed_instrument_list": (None, "metrology.instrument", "list", {}),
    "metrology:filed_instrument_export": (None, "metrology.instrument", "export", {}),
    "metrology:due_list": (None, "metrology.instrument", "list", {}),
    "metrology:due_export": (None, "metrology.instrument", "export", {}),
    "metrology:application_list": (None, "metrology.verificationapplication", "list", {}),
    "metrology:application_detail": ("application", "metrology.verificationapplication", "detail", {}),
    "metrology:document_list": (None, "metrology.issueddocument", "list", {}),
    "metrology:document_detail": ("document", "metrology.issueddocument", "detail", {}),
    "metrology:document_pdf": ("document", "metrology.issueddocument", "export", {}),
    "metrology:stats_metrology": (None, "metrology.instrument", "statistics", PERIOD),
    "metrology:stats_metrology_export": (None, "metrology.instrument", "export", PERIOD),
    "metrology:fees_waiver_stats": (None, "metrology.issueddocument", "statistics", PERIOD),
    "metrology:fees_waiver_stats_export": (None, "metrology.issueddocument", "export", PERIOD),
}

# Pages that are not a regulator's read of enterprise data, each with why.
NOT_READS = {
    # Forms and the POSTs behind buttons: writes, recorded by their services.
    **dict.fromkeys(
        [
            "organizations:edit",
            "organizations:registration_create",
            "organizations:registration_approve",
            "organizations:registration_return",
            "organizations:registration_resubmit",
            "organizations:registration_withdraw",
            "metrology:catalogue_create",
            "metrology:catalogue_edit",
            "metrology:instrument_create",
            "metrology:instrument_edit",
            "metrology:instrument_status",
            "metrology:filing_create",
            "metrology:filing_approve",
            "metrology:filing_return",
            "metrology:filing_resubmit",
            "metrology:application_create",
            "metrology:application_withdraw",
            "metrology:application_accept",
            "metrology:application_reject",
            "metrology:application_schedule",
            "metrology:application_result",
            "metrology:tariff_create",
            "metrology:tariff_edit",
            "metrology:waiver_create",
            "metrology:waiver_edit",
            "metrology:document_reissue",
            "metrology:document_revoke",
            "metrology:policy",
        ],
        "write",
    ),
    # Public reference data and configuration, not enterprise data.
    **dict.fromkeys(
        ["metrology:catalogue_list", "metrology:catalogue_detail", "metrology:tariff_list", "metrology:waiver_list"],
        "reference data",
    ),
    # An enterprise's own uploads and blank templates (the error workbook of an upload is an
    # export recorded for everyone: test_documents_downloads), and its label sheets.
    **dict.fromkeys(
        [
            "metrology:import_list",
            "metrology:import_template_xlsx",
            "metrology:import_template_csv",
            "metrology:import_detail",
            "metrology:import_status",
            "metrology:import_errors",
            "metrology:instrument_labels",
        ],
        "the enterprise's own",
    ),
}


def _names(patterns, namespace=None):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _names(pattern.url_patterns, pattern.namespace or namespace)
        elif isinstance(pattern, URLPattern) and namespace in ("organizations", "metrology"):
            yield f"{namespace}:{pattern.name}"


def test_every_page_is_a_read_or_said_not_to_be():
    names = set(_names(get_resolver().url_patterns))
    assert names - set(READS) - set(NOT_READS) == set(), "a new page: list it in READS or NOT_READS"
    assert set(READS) | set(NOT_READS) <= names


@pytest.fixture
def objects(world, issued):  # noqa: F811 - the fixture imported above
    instrument = issued.instrument
    instrument.next_due_on = datetime.date.today() + datetime.timedelta(days=10)
    instrument.save(update_fields=["next_due_on"])
    registration = registration_submit(
        actor=world.users["applicant"],
        data={
            "credit_code": valid_code(7101),
            "name": "包头市鹿城测试有限公司",
            "division": "150203",
            "address": "昆都仑区阿尔丁大街 9 号",
            "legal_representative": "孙七",
            "industry": "稀土",
            "contact_name": "孙七",
            "contact_phone": "13900000000",
            "contact_email": "sun@example.cn",
        },
    )
    return {
        "organization": world.ent_kundulun,
        "registration": registration,
        "instrument": instrument,
        "filing": filing_submit(actor=world.users["ent_manager"], instrument_ids=[instrument.pk]),
        "application": issued.result.item.application,
        "document": issued,
    }


def _reads(user):
    return list(AuditEvent.objects.filter(actor=user, action__in=("data.query", "data.export")).order_by("seq"))


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(READS))
def test_a_regulators_read_is_recorded_exactly_once(world, web, objects, name):
    target, model, kind, query = READS[name]
    user = world.users["kundulun"]
    client = web(user)
    url = reverse(name, kwargs={"pk": objects[target].pk} if target else None)
    before = len(_reads(user))
    response = client.get(url, query)
    assert response.status_code == 200, (name, response.status_code)
    if getattr(response, "streaming", False):
        b"".join(response.streaming_content)
    recorded = _reads(user)[before:]
    assert len(recorded) == 1, [(e.action, e.details) for e in recorded]
    event = recorded[0]
    assert event.target_type == model
    assert event.details["kind"] == kind
    assert event.action == ("data.export" if kind == "export" else "data.query")


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["organizations:list", "metrology:instrument_list", "metrology:document_list"])
def test_an_enterprises_list_read_is_not_recorded(world, web, objects, name):
    user = world.users["ent_manager"]
    assert web(user).get(reverse(name)).status_code == 200
    assert _reads(user) == []


API_READS = {
    "/api/v1/organizations/": ("organizations.organization", "list"),
    "/api/v1/instruments/": ("metrology.instrument", "list"),
    "/api/v1/instrument-filings/": ("metrology.instrumentfiling", "list"),
    "/api/v1/due-instruments/": ("metrology.instrument", "list"),
    "/api/v1/verification-applications/": ("metrology.verificationapplication", "list"),
    "/api/v1/documents/": ("metrology.issueddocument", "list"),
    "/api/v1/stats/metrology/?period=2026": ("metrology.instrument", "statistics"),
    "/api/v1/stats/waivers/?period=2026": ("metrology.issueddocument", "statistics"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("url", sorted(API_READS))
def test_a_regulators_api_read_is_recorded_exactly_once(world, api, objects, url):
    model, kind = API_READS[url]
    user = world.users["kundulun"]
    response = api(user).get(url)
    assert response.status_code == 200, response.content[:300]
    recorded = _reads(user)
    assert [(e.target_type, e.details["kind"]) for e in recorded] == [(model, kind)]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "detail"),
    [
        ("/api/v1/instruments/{instrument}/", "metrology.instrument"),
        ("/api/v1/instrument-filings/{filing}/", "metrology.instrumentfiling"),
        ("/api/v1/verification-applications/{application}/", "metrology.verificationapplication"),
        ("/api/v1/documents/{document}/", "metrology.issueddocument"),
        ("/api/v1/organizations/{organization}/", "organizations.organization"),
    ],
)
def test_a_regulators_api_detail_is_recorded_exactly_once(world, api, objects, url, detail):
    user = world.users["kundulun"]
    response = api(user).get(url.format(**{k: v.pk for k, v in objects.items()}))
    assert response.status_code == 200
    assert [(e.target_type, e.details["kind"]) for e in _reads(user)] == [(detail, "detail")]


# --- what a direct export says above its header --------------------------------------------


def _lines(response) -> dict[str, str]:
    assert response.status_code == 200
    return export_lines(response)


@pytest.mark.django_db
def test_the_ledger_export_names_its_filters_in_the_readers_language(world, web, objects):
    client = web(world.users["kundulun"])
    params = {"status": "in_use", "q": "计价秤"}
    chinese = _lines(client.get(reverse("metrology:instrument_export"), params))
    assert chinese["清单"] == "计量器具台账"
    assert "状态: 在用" in chinese["查询条件"] and "计价秤" in chinese["查询条件"]
    assert chinese["生成时间"]
    client.cookies["nqi_language"] = "en"
    english = _lines(client.get(reverse("metrology:instrument_export"), params))
    assert english["List"] == "Instrument ledger"
    assert "Status: In use" in english["Search"]
    # The header and the rows follow the lines.
    rows = export_sheet(client.get(reverse("metrology:instrument_export"), params))
    assert rows[0][0] == "Platform code"
    assert [r[0] for r in rows[1:]] == [objects["instrument"].platform_code]


@pytest.mark.django_db
def test_an_export_without_filters_says_so(world, web, objects):
    client = web(world.users["kundulun"])
    client.cookies["nqi_language"] = "en"
    lines = _lines(client.get(reverse("organizations:export")))
    assert lines["List"] == "Organisations"
    assert lines["Search"] == "none (everything)"
    narrowed = _lines(client.get(reverse("organizations:export"), {"kind": "enterprise", "q": "天和"}))
    assert "q" not in narrowed["Search"].split(":")[0]  # labels, not parameter names
    assert "Enterprise" in narrowed["Search"] and "天和" in narrowed["Search"]


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["metrology:stats_metrology_export", "metrology:fees_waiver_stats_export"])
def test_a_statistics_export_names_its_jurisdiction_and_period(world, web, objects, name):
    client = web(world.users["kundulun"])
    client.cookies["nqi_language"] = "en"
    lines = _lines(client.get(reverse(name), {"period": "2026-Q1"}))
    search = lines["Search"]
    assert "Jurisdiction: " in search and "(150203)" in search
    assert "Period: 2026-01-01 – 2026-03-31" in search


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name", ["metrology:due_export", "metrology:filed_instrument_export", "metrology:instrument_export"]
)
def test_every_list_export_has_the_lines_above_its_header(world, web, objects, name):
    client = web(world.users["kundulun"])
    client.cookies["nqi_language"] = "en"
    response = client.get(reverse(name), {"q": "计价秤"})
    lines = _lines(response)
    assert set(lines) == {"List", "Search", "Made at"}
    assert lines["Search"].endswith(": 计价秤")
    assert not lines["Search"].startswith("q")  # the filter's label, not the parameter's name
