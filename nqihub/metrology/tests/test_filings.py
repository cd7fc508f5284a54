"""强检备案 (mandatory-verification filing): the whole workflow; every refusal with its code,
recorded, and changing nothing; who sees which filing through the queryset, the pages and
the API; regulators' reads in the audit trail; the filed-instrument list per jurisdiction."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from nqihub.audit.models import AuditEvent
from nqihub.core.access import MembershipRole
from nqihub.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from nqihub.metrology.models import Instrument, InstrumentFiling
from nqihub.metrology.services import filings as services
from nqihub.testing.factories import MembershipFactory, UserFactory
from nqihub.testing.workbooks import export_sheet

FILING_TYPE = "metrology.instrumentfiling"


def _instrument(org, n: int, *, mandatory=True, status="in_use", use_field="trade", filed=False, name="电子计价秤"):
    return Instrument.objects.create(
        organization=org,
        division=org.division,
        name=f"{name} {n}",
        factory_number=f"F{n:05d}",
        use_field=use_field,
        is_mandatory=mandatory,
        catalogue_item=None,
        status=status,
        filed=filed,
    )


@pytest.fixture
def ledger(world):
    """Instruments of three enterprises in three counties, and a manager for the Qingshan one."""
    world.users["ent_qingshan_mgr"] = UserFactory(username="ent_qingshan_mgr")
    MembershipFactory(
        user=world.users["ent_qingshan_mgr"], organization=world.ent_qingshan, role=MembershipRole.MANAGER
    )
    world.users["ent_viewer"] = UserFactory(username="ent_viewer")
    MembershipFactory(user=world.users["ent_viewer"], organization=world.ent_kundulun, role=MembershipRole.VIEWER)
    k = world.ent_kundulun
    return {
        "k1": _instrument(k, 1),
        "k2": _instrument(k, 2, use_field="safety", name="压力表"),
        "k3": _instrument(k, 3, status="stopped"),
        "k_plain": _instrument(k, 4, mandatory=False, use_field="other", name="钢直尺"),
        "k_scrapped": _instrument(k, 5, status="scrapped"),
        "k_filed": _instrument(k, 6, filed=True),
        "x1": _instrument(world.ent_xincheng, 11, use_field="medical", name="血压计"),
        "q1": _instrument(world.ent_qingshan, 21, use_field="environment", name="烟气分析仪"),
    }


def _snapshot():
    """Everything a filing service may change."""
    return (
        list(
            InstrumentFiling.objects.order_by("pk").values_list(
                "pk", "number", "state", "return_reason", "reviewed_by_id"
            )
        ),
        sorted(InstrumentFiling.instruments.through.objects.values_list("instrumentfiling_id", "instrument_id")),
        sorted(Instrument.objects.filter(filed=True).values_list("pk", flat=True)),
    )


def _last_refusal(action: str) -> AuditEvent:
    return AuditEvent.objects.filter(action=action).exclude(outcome="success").latest("seq")


def _refused(call, error, code: str, action: str, outcome: str | None = None):
    """Run ``call``; it must raise ``error`` with ``code``, change nothing and be recorded."""
    before = _snapshot()
    with pytest.raises(error) as exc:
        call()
    assert exc.value.code == code
    assert _snapshot() == before
    record = _last_refusal(action)
    assert record.details["code"] == code
    if outcome:
        assert record.outcome == outcome
    return exc.value


def _submitted(world, ledger, *names, user="ent_manager"):
    return services.filing_submit(actor=world.users[user], instrument_ids=[ledger[n].pk for n in names])


def _filed(*instruments) -> list[bool]:
    return [Instrument.objects.get(pk=i.pk).filed for i in instruments]


# --- The workflow -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_submit_return_resubmit_approve_files_the_instruments(world, ledger):
    filing = _submitted(world, ledger, "k1", "k2")
    assert filing.state == "submitted"
    assert filing.number == f"BA{timezone.localdate().year}000001"  # prefix, year, sequence
    assert filing.organization == world.ent_kundulun and filing.division_id == "150203"
    assert filing.submitted_by == world.users["ent_manager"]
    assert set(filing.instruments.values_list("pk", flat=True)) == {ledger["k1"].pk, ledger["k2"].pk}

    services.filing_return(actor=world.users["kundulun"], filing=filing, reason="  压力表缺少安装地点  ")
    filing = InstrumentFiling.objects.get(pk=filing.pk)  # protected state: re-read, not refresh
    assert filing.state == "returned" and filing.return_reason == "压力表缺少安装地点"
    assert filing.reviewed_by == world.users["kundulun"]

    services.filing_resubmit(
        actor=world.users["ent_clerk"],
        filing=filing,
        instrument_ids=[ledger["k1"].pk, ledger["k2"].pk, ledger["k3"].pk],
    )
    filing = InstrumentFiling.objects.get(pk=filing.pk)  # protected state: re-read, not refresh
    assert filing.state == "submitted" and filing.submitted_by == world.users["ent_clerk"]
    assert filing.instruments.count() == 3
    assert _filed(ledger["k1"], ledger["k2"], ledger["k3"]) == [False, False, False]

    with CaptureQueriesContext(connection) as queries:
        services.filing_approve(actor=world.users["kundulun"], filing=filing.pk)
    instrument_updates = [q for q in queries if q["sql"].startswith('UPDATE "metrology_instrument" ')]
    assert len(instrument_updates) == 1  # the instruments are filed in one UPDATE
    filing = InstrumentFiling.objects.get(pk=filing.pk)  # protected state: re-read, not refresh
    assert filing.state == "approved" and filing.reviewed_at is not None
    assert _filed(ledger["k1"], ledger["k2"], ledger["k3"]) == [True, True, True]
    assert _filed(ledger["k_plain"], ledger["x1"]) == [False, False]

    trail = list(
        AuditEvent.objects.filter(target_type=FILING_TYPE, target_id=str(filing.pk))
        .order_by("seq")
        .values_list("action", "outcome")
    )
    assert trail == [
        ("instrument_filing.submit", "success"),
        ("instrument_filing.return", "success"),
        ("instrument_filing.resubmit", "success"),
        ("instrument_filing.approve", "success"),
    ]


@pytest.mark.django_db
def test_a_filed_instrument_is_no_longer_offered(world, ledger):
    offered = set(services.fileable_instruments(world.users["ent_manager"]).values_list("pk", flat=True))
    assert offered == {ledger["k1"].pk, ledger["k2"].pk, ledger["k3"].pk}
    filing = _submitted(world, ledger, "k1")
    assert ledger["k1"].pk not in set(
        services.fileable_instruments(world.users["ent_manager"]).values_list("pk", flat=True)
    )
    # ... but it is offered again when correcting the filing it is in.
    assert ledger["k1"].pk in set(
        services.fileable_instruments(world.users["ent_manager"], filing_id=filing.pk).values_list("pk", flat=True)
    )
    for role in ("kundulun", "ent_viewer", "applicant", "sysadmin", "inst"):
        assert not services.fileable_instruments(world.users[role]).exists(), role


# --- Refusals -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_another_enterprises_instrument_is_not_found(world, ledger):
    exc = _refused(
        lambda: _submitted(world, ledger, "k1", "x1"), NotFound, "not_found", "instrument_filing.submit", "denied"
    )
    assert ledger["x1"].name not in str(exc.message) and ledger["x1"].factory_number not in str(exc.message)
    _refused(lambda: _submitted(world, ledger, "x1"), NotFound, "not_found", "instrument_filing.submit")
    _refused(
        lambda: services.filing_submit(actor=world.users["ent_manager"], instrument_ids=[999999]),
        NotFound,
        "not_found",
        "instrument_filing.submit",
    )


@pytest.mark.django_db
def test_non_mandatory_instrument_is_refused_by_name(world, ledger):
    exc = _refused(
        lambda: _submitted(world, ledger, "k1", "k_plain"),
        InvalidInput,
        "not_mandatory",
        "instrument_filing.submit",
        "failure",
    )
    assert ledger["k_plain"].factory_number in str(exc.message)
    assert ledger["k1"].factory_number not in str(exc.message)


@pytest.mark.django_db
def test_scrapped_instrument_is_refused(world, ledger):
    _refused(
        lambda: _submitted(world, ledger, "k_scrapped"), InvalidInput, "instrument_scrapped", "instrument_filing.submit"
    )


@pytest.mark.django_db
def test_already_filed_instrument_is_refused(world, ledger):
    exc = _refused(
        lambda: _submitted(world, ledger, "k1", "k_filed"), Conflict, "already_filed", "instrument_filing.submit"
    )
    assert ledger["k_filed"].factory_number in str(exc.message)


@pytest.mark.django_db
@pytest.mark.parametrize("returned", [False, True])
def test_instrument_in_an_open_filing_is_refused(world, ledger, returned):
    first = _submitted(world, ledger, "k1")
    if returned:
        services.filing_return(actor=world.users["kundulun"], filing=first, reason="请补充")
    exc = _refused(
        lambda: _submitted(world, ledger, "k2", "k1"), Conflict, "in_open_filing", "instrument_filing.submit"
    )
    assert first.number in str(exc.message)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("ids", "code"), [([], "no_instruments"), (None, "no_instruments"), (["abc"], "invalid_id"), ([0], "invalid_id")]
)
def test_empty_or_malformed_set_is_refused(world, ledger, ids, code):
    _refused(
        lambda: services.filing_submit(actor=world.users["ent_manager"], instrument_ids=ids),
        InvalidInput,
        code,
        "instrument_filing.submit",
    )


@pytest.mark.django_db
def test_too_many_instruments_are_refused(world, ledger, monkeypatch):
    monkeypatch.setattr(services, "MAX_INSTRUMENTS_PER_FILING", 2)
    _refused(
        lambda: _submitted(world, ledger, "k1", "k2", "k3"),
        InvalidInput,
        "too_many_instruments",
        "instrument_filing.submit",
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "error", "code"),
    [
        ("kundulun", Forbidden, "permission_denied"),
        ("ent_viewer", Forbidden, "permission_denied"),
        ("baotou", Forbidden, "permission_denied"),
        ("xincheng", NotFound, "not_found"),
        ("applicant", NotFound, "not_found"),
        ("sysadmin", NotFound, "not_found"),
    ],
)
def test_only_a_working_member_of_the_enterprise_files(world, ledger, role, error, code):
    _refused(lambda: _submitted(world, ledger, "k1", user=role), error, code, "instrument_filing.submit")


@pytest.mark.django_db
def test_return_needs_a_reason(world, ledger):
    filing = _submitted(world, ledger, "k1")
    for reason in ("", "   ", None):
        _refused(
            lambda r=reason: services.filing_return(actor=world.users["kundulun"], filing=filing, reason=r),
            InvalidInput,
            "reason_required",
            "instrument_filing.return",
        )
    assert InstrumentFiling.objects.get(pk=filing.pk).state == "submitted"


@pytest.mark.django_db
def test_impossible_transitions_are_conflicts(world, ledger):
    filing = _submitted(world, ledger, "k1")
    kundulun = world.users["kundulun"]
    _refused(
        lambda: services.filing_resubmit(
            actor=world.users["ent_manager"], filing=filing, instrument_ids=[ledger["k1"].pk]
        ),
        Conflict,
        "invalid_state",
        "instrument_filing.resubmit",
    )
    services.filing_approve(actor=kundulun, filing=filing)
    _refused(
        lambda: services.filing_approve(actor=kundulun, filing=filing),
        Conflict,
        "invalid_state",
        "instrument_filing.approve",
    )
    _refused(
        lambda: services.filing_return(actor=kundulun, filing=filing, reason="再看看"),
        Conflict,
        "invalid_state",
        "instrument_filing.return",
    )
    assert InstrumentFiling.objects.get(pk=filing.pk).state == "approved"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "error", "code"),
    [
        ("baotou", Forbidden, "permission_denied"),  # the 盟市 regulator sees it but does not decide
        ("region", Forbidden, "permission_denied"),
        ("kundulun_viewer", Forbidden, "permission_denied"),
        ("ent_manager", Forbidden, "permission_denied"),  # the filer sees its own filing
        ("qingshan", NotFound, "not_found"),  # another county
        ("xincheng", NotFound, "not_found"),
        ("ent_other", NotFound, "not_found"),  # another enterprise
        ("inst", NotFound, "not_found"),
        ("applicant", NotFound, "not_found"),
        ("sysadmin", NotFound, "not_found"),
    ],
)
def test_only_the_county_regulator_decides(world, ledger, role, error, code):
    filing = _submitted(world, ledger, "k1")
    user = world.users[role]
    outcome = "denied"
    _refused(
        lambda: services.filing_approve(actor=user, filing=filing), error, code, "instrument_filing.approve", outcome
    )
    _refused(
        lambda: services.filing_return(actor=user, filing=filing.pk, reason="不合格"),
        error,
        code,
        "instrument_filing.return",
        outcome,
    )
    assert InstrumentFiling.objects.get(pk=filing.pk).state == "submitted"
    assert _filed(ledger["k1"]) == [False]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "error", "code"),
    [
        ("kundulun", Forbidden, "permission_denied"),
        ("ent_viewer", Forbidden, "permission_denied"),
        ("ent_other", NotFound, "not_found"),
    ],
)
def test_only_the_enterprise_resubmits(world, ledger, role, error, code):
    filing = _submitted(world, ledger, "k1")
    services.filing_return(actor=world.users["kundulun"], filing=filing, reason="请补充")
    _refused(
        lambda: services.filing_resubmit(actor=world.users[role], filing=filing, instrument_ids=[ledger["k1"].pk]),
        error,
        code,
        "instrument_filing.resubmit",
    )


@pytest.mark.django_db
def test_resubmission_is_checked_like_a_submission(world, ledger):
    filing = _submitted(world, ledger, "k1")
    services.filing_return(actor=world.users["kundulun"], filing=filing, reason="请补充")
    other = _submitted(world, ledger, "k2")
    for ids, error, code in [
        ([], InvalidInput, "no_instruments"),
        ([ledger["k_plain"].pk], InvalidInput, "not_mandatory"),
        ([ledger["x1"].pk], NotFound, "not_found"),
        ([ledger["k1"].pk, ledger["k2"].pk], Conflict, "in_open_filing"),
    ]:
        _refused(
            lambda i=ids: services.filing_resubmit(actor=world.users["ent_manager"], filing=filing, instrument_ids=i),
            error,
            code,
            "instrument_filing.resubmit",
        )
    assert other.instruments.get() == ledger["k2"]


@pytest.mark.django_db
def test_an_unknown_filing_is_not_found_and_recorded(world, ledger):
    _refused(
        lambda: services.filing_approve(actor=world.users["kundulun"], filing=424242),
        NotFound,
        "not_found",
        "instrument_filing.approve",
    )
    assert _last_refusal("instrument_filing.approve").target_id == "424242"


# --- Who sees which filing: queryset, pages, API -----------------------------------------------

FILINGS = ("kundulun", "qingshan", "xincheng")
VIEW = {
    "ent_manager": {"kundulun"},
    "ent_clerk": {"kundulun"},
    "ent_viewer": {"kundulun"},
    "ent_other": {"xincheng"},
    "ent_qingshan_mgr": {"qingshan"},
    "kundulun": {"kundulun"},
    "kundulun_viewer": {"kundulun"},
    "qingshan": {"qingshan"},
    "baotou": {"kundulun", "qingshan"},
    "region": {"kundulun", "qingshan", "xincheng"},
    "xincheng": {"xincheng"},
    "inst": set(),
    "applicant": set(),
    "sysadmin": set(),
    "secadmin": set(),
    "auditor": set(),
}
REVIEW = {"kundulun": {"kundulun"}, "qingshan": {"qingshan"}, "xincheng": {"xincheng"}}
ROLES = sorted(VIEW)


@pytest.fixture
def filings(world, ledger):
    return {
        "kundulun": _submitted(world, ledger, "k1"),
        "qingshan": _submitted(world, ledger, "q1", user="ent_qingshan_mgr"),
        "xincheng": _submitted(world, ledger, "x1", user="ent_other"),
    }


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_view_and_review_scope_through_queryset(world, filings, role):
    user = world.users[role]
    assert set(InstrumentFiling.objects.for_user(user, "view").values_list("pk", flat=True)) == {
        filings[n].pk for n in VIEW[role]
    }
    assert set(InstrumentFiling.objects.for_user(user, "review").values_list("pk", flat=True)) == {
        filings[n].pk for n in REVIEW.get(role, set())
    }


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_view_scope_through_pages(world, filings, web, role):
    client = web(world.users[role])
    listed = client.get("/metrology/filings/")
    assert listed.status_code == 200
    assert {f.pk for f in listed.context["page"].object_list} == {filings[n].pk for n in VIEW[role]}
    for name in FILINGS:
        response = client.get(f"/metrology/filings/{filings[name].pk}/")
        assert response.status_code == (200 if name in VIEW[role] else 404), (role, name)
        if response.status_code == 200:
            assert response.context["can_review"] == (name in REVIEW.get(role, set()))


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_view_scope_through_api(world, filings, api, role):
    client = api(world.users[role])
    listed = client.get("/api/v1/instrument-filings/", {"page_size": 500})
    assert listed.status_code == 200
    assert {f["id"] for f in listed.json()["results"]} == {filings[n].pk for n in VIEW[role]}
    for name in FILINGS:
        response = client.get(f"/api/v1/instrument-filings/{filings[name].pk}/")
        assert response.status_code == (200 if name in VIEW[role] else 404), (role, name)
        if response.status_code == 404:
            assert response.json()["code"] == "not_found"


@pytest.mark.django_db
def test_filing_list_filters_by_state(world, filings, web, api):
    services.filing_return(actor=world.users["kundulun"], filing=filings["kundulun"], reason="请补充")
    client = web(world.users["baotou"])
    response = client.get("/metrology/filings/", {"state": "returned"})
    assert [f.pk for f in response.context["page"].object_list] == [filings["kundulun"].pk]
    response = api(world.users["region"]).get("/api/v1/instrument-filings/", {"state": "submitted"})
    assert {f["id"] for f in response.json()["results"]} == {filings["qingshan"].pk, filings["xincheng"].pk}
    response = api(world.users["region"]).get("/api/v1/instrument-filings/", {"within": "150200"})
    assert {f["id"] for f in response.json()["results"]} == {filings["kundulun"].pk, filings["qingshan"].pk}


@pytest.mark.django_db
def test_api_list_query_count_does_not_grow_with_filings(world, ledger, api, django_assert_max_num_queries):
    client = api(world.users["region"])
    _submitted(world, ledger, "k1")
    with CaptureQueriesContext(connection) as one:
        client.get("/api/v1/instrument-filings/")
    _submitted(world, ledger, "k2", "k3")
    _submitted(world, ledger, "x1", user="ent_other")
    with django_assert_max_num_queries(len(one)):
        response = client.get("/api/v1/instrument-filings/")
    assert response.json()["count"] == 3


# --- The API's writes ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_api_flow_and_error_bodies(world, ledger, api):
    ent = api(world.users["ent_manager"])
    created = ent.post(
        "/api/v1/instrument-filings/", {"instrument_ids": [ledger["k1"].pk, ledger["k2"].pk]}, format="json"
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["state"] == "submitted" and body["number"].startswith("BA") and body["instrument_count"] == 2
    assert {i["id"] for i in body["instruments"]} == {ledger["k1"].pk, ledger["k2"].pk}
    pk = body["id"]

    reviewer = api(world.users["kundulun"])
    no_reason = reviewer.post(f"/api/v1/instrument-filings/{pk}/return/", {"reason": " "}, format="json")
    assert no_reason.status_code == 400 and no_reason.json()["code"] == "reason_required"
    assert set(no_reason.json()) >= {"detail", "code"}
    returned = reviewer.post(
        f"/api/v1/instrument-filings/{pk}/return/", {"reason": "缺少压力表检定证书"}, format="json"
    )
    assert returned.status_code == 200 and returned.json()["state"] == "returned"
    assert returned.json()["return_reason"] == "缺少压力表检定证书"

    resubmitted = ent.post(
        f"/api/v1/instrument-filings/{pk}/resubmit/", {"instrument_ids": [ledger["k1"].pk]}, format="json"
    )
    assert resubmitted.status_code == 200 and resubmitted.json()["instrument_count"] == 1

    city = api(world.users["baotou"]).post(f"/api/v1/instrument-filings/{pk}/approve/")
    assert city.status_code == 403 and city.json()["code"] == "permission_denied"
    other_county = api(world.users["qingshan"]).post(f"/api/v1/instrument-filings/{pk}/approve/")
    assert other_county.status_code == 404 and other_county.json()["code"] == "not_found"
    other_enterprise = api(world.users["ent_other"]).post(f"/api/v1/instrument-filings/{pk}/approve/")
    assert other_enterprise.status_code == 404
    viewer = api(world.users["kundulun_viewer"]).post(f"/api/v1/instrument-filings/{pk}/approve/")
    assert viewer.status_code == 403

    approved = reviewer.post(f"/api/v1/instrument-filings/{pk}/approve/")
    assert approved.status_code == 200 and approved.json()["state"] == "approved"
    assert all(i["filed"] for i in approved.json()["instruments"])
    twice = reviewer.post(f"/api/v1/instrument-filings/{pk}/approve/")
    assert twice.status_code == 409 and twice.json()["code"] == "invalid_state"
    assert _filed(ledger["k1"], ledger["k2"]) == [True, False]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("ids", "status", "code"),
    [
        ("x1", 404, "not_found"),
        ("k_plain", 400, "not_mandatory"),
        ("k_filed", 409, "already_filed"),
        (None, 400, "no_instruments"),
    ],
)
def test_api_create_refusals(world, ledger, api, ids, status, code):
    before = _snapshot()
    payload = {"instrument_ids": [ledger[ids].pk] if ids else []}
    response = api(world.users["ent_manager"]).post("/api/v1/instrument-filings/", payload, format="json")
    assert response.status_code == status
    assert response.json()["code"] == code and response.json()["detail"]
    assert _snapshot() == before


# --- Pages --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_pages_flow(world, ledger, web):
    client = web(world.users["ent_manager"])
    page = client.get("/metrology/filings/new/")
    assert page.status_code == 200
    offered = {i.pk for i, _checked in page.context["choice_rows"]}
    assert offered == {ledger["k1"].pk, ledger["k2"].pk, ledger["k3"].pk}
    assert ledger["x1"].name.encode() not in page.content

    refused = client.post("/metrology/filings/new/", {"instruments": [ledger["k1"].pk, ledger["k_plain"].pk]})
    assert refused.status_code == 400 and not InstrumentFiling.objects.exists()
    assert {i.pk for i, checked in refused.context["choice_rows"] if checked} == {ledger["k1"].pk}

    response = client.post("/metrology/filings/new/", {"instruments": [ledger["k1"].pk, ledger["k2"].pk]})
    filing = InstrumentFiling.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/metrology/filings/{filing.pk}/"

    reviewer = web(world.users["kundulun"])
    detail = reviewer.get(f"/metrology/filings/{filing.pk}/")
    assert detail.context["can_review"] and b'data-testid="approve"' in detail.content
    reviewer.post(f"/metrology/filings/{filing.pk}/return/", {"reason": ""})
    assert InstrumentFiling.objects.get().state == "submitted"
    reviewer.post(f"/metrology/filings/{filing.pk}/return/", {"reason": "请补充安装地点"})
    assert InstrumentFiling.objects.get().state == "returned"

    client = web(world.users["ent_manager"])
    detail = client.get(f"/metrology/filings/{filing.pk}/")
    assert detail.context["can_resubmit"]
    assert "请补充安装地点" in detail.content.decode()
    choices = {i.pk: checked for i, checked in detail.context["resubmit_choices"]}
    assert choices == {ledger["k1"].pk: True, ledger["k2"].pk: True, ledger["k3"].pk: False}
    client.post(f"/metrology/filings/{filing.pk}/resubmit/", {"instruments": [ledger["k1"].pk, ledger["k3"].pk]})
    assert InstrumentFiling.objects.get().state == "submitted"

    reviewer = web(world.users["kundulun"])
    detail = reviewer.get(f"/metrology/filings/{filing.pk}/")
    # The case timeline keeps every step, the first submission included.
    submitted_entry, returned_entry, resubmitted_entry = detail.context["events"]
    assert [e.kind for e in detail.context["events"]] == ["submitted", "returned", "resubmitted"]
    assert submitted_entry.actor == world.users["ent_manager"]
    assert returned_entry.note == "请补充安装地点" and returned_entry.actor == world.users["kundulun"]
    assert resubmitted_entry.actor == world.users["ent_manager"] and resubmitted_entry.at > returned_entry.at
    reviewer.post(f"/metrology/filings/{filing.pk}/approve/")
    assert InstrumentFiling.objects.get().state == "approved"
    assert _filed(ledger["k1"], ledger["k2"], ledger["k3"]) == [True, False, True]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["kundulun", "baotou", "ent_viewer", "applicant", "sysadmin", "auditor"])
def test_file_page_is_only_for_working_enterprise_members(world, ledger, web, role):
    assert web(world.users[role]).get("/metrology/filings/new/").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "status"), [("baotou", 200), ("qingshan", 404), ("ent_other", 404), ("kundulun_viewer", 200)]
)
def test_deciding_through_pages_is_refused_and_changes_nothing(world, ledger, web, role, status):
    filing = _submitted(world, ledger, "k1")
    client = web(world.users[role])
    before = _snapshot()
    response = client.post(f"/metrology/filings/{filing.pk}/approve/", follow=True)
    assert response.status_code == status
    if status == 200:  # they see the filing: back on it with the refusal as a message
        assert [m.level_tag for m in response.context["messages"]] == ["error"]
    assert _snapshot() == before
    assert _last_refusal("instrument_filing.approve").actor_username == role


@pytest.mark.django_db
def test_forged_posts_without_csrf_change_nothing(world, ledger):
    filing = _submitted(world, ledger, "k1")
    before = _snapshot()
    regulator = Client(enforce_csrf_checks=True)
    regulator.force_login(world.users["kundulun"], backend="django.contrib.auth.backends.ModelBackend")
    assert regulator.post(f"/metrology/filings/{filing.pk}/approve/").status_code == 403
    assert regulator.post(f"/metrology/filings/{filing.pk}/return/", {"reason": "伪造"}).status_code == 403
    assert regulator.post(f"/api/v1/instrument-filings/{filing.pk}/approve/").status_code == 403
    enterprise = Client(enforce_csrf_checks=True)
    enterprise.force_login(world.users["ent_manager"], backend="django.contrib.auth.backends.ModelBackend")
    assert enterprise.post("/metrology/filings/new/", {"instruments": [ledger["k2"].pk]}).status_code == 403
    assert _snapshot() == before


# --- Regulators' reads in the audit trail -------------------------------------------------------


def _queries(target_type: str):
    return list(
        AuditEvent.objects.filter(action__in=("data.query", "data.export"), target_type=target_type)
        .order_by("seq")
        .values_list("actor_username", "action", "details__kind")
    )


@pytest.mark.django_db
def test_regulator_reads_are_recorded(world, filings, web, api):
    pk = filings["kundulun"].pk
    client = web(world.users["baotou"])
    client.get("/metrology/filings/", {"state": "submitted"})
    client.get(f"/metrology/filings/{pk}/")
    rest = api(world.users["baotou"])
    rest.get("/api/v1/instrument-filings/")
    rest.get(f"/api/v1/instrument-filings/{pk}/")
    assert _queries(FILING_TYPE) == [
        ("baotou", "data.query", "list"),
        ("baotou", "data.query", "detail"),
        ("baotou", "data.query", "list"),
        ("baotou", "data.query", "detail"),
    ]
    listed = AuditEvent.objects.filter(action="data.query", target_type=FILING_TYPE).order_by("seq").first()
    assert listed.details["params"] == {"state": "submitted"} and listed.details["count"] == 2

    # An enterprise looking at its own filings is not a regulator's query.
    web(world.users["ent_manager"]).get(f"/metrology/filings/{pk}/")
    api(world.users["ent_manager"]).get("/api/v1/instrument-filings/")
    assert len(_queries(FILING_TYPE)) == 4


# --- Filed instruments in a jurisdiction --------------------------------------------------------

FILED_VIEW = {
    "kundulun": {"k1", "k2", "k_filed"},
    "kundulun_viewer": {"k1", "k2", "k_filed"},
    "qingshan": {"q1"},
    "baotou": {"k1", "k2", "k_filed", "q1"},
    "region": {"k1", "k2", "k_filed", "q1", "x1"},
    "xincheng": {"x1"},
    "ent_manager": {"k1", "k2", "k_filed"},
    "ent_other": {"x1"},
    "inst": set(),
    "applicant": set(),
    "sysadmin": set(),
    "auditor": set(),
}


@pytest.fixture
def approved(world, ledger):
    for user, reviewer, names in [
        ("ent_manager", "kundulun", ("k1", "k2")),
        ("ent_qingshan_mgr", "qingshan", ("q1",)),
        ("ent_other", "xincheng", ("x1",)),
    ]:
        services.filing_approve(actor=world.users[reviewer], filing=_submitted(world, ledger, *names, user=user))
    _submitted(world, ledger, "k3")  # awaiting review: not filed, not listed
    return ledger


@pytest.mark.django_db
@pytest.mark.parametrize("role", sorted(FILED_VIEW))
def test_filed_instruments_are_scoped_to_the_jurisdiction(world, approved, web, role):
    client = web(world.users[role])
    response = client.get("/metrology/filed-instruments/")
    assert response.status_code == 200
    expected = {approved[n].pk for n in FILED_VIEW[role]}
    assert {i.pk for i in response.context["page"].object_list} == expected
    export = client.get("/metrology/filed-instruments/export.xlsx")
    assert export.status_code == 200
    rows = export_sheet(export)[1:]
    assert {r[6] for r in rows} == {approved[n].factory_number for n in FILED_VIEW[role]}


@pytest.mark.django_db
def test_filed_instruments_filters_and_filing_number(world, approved, web):
    client = web(world.users["baotou"])
    by_county = client.get("/metrology/filed-instruments/", {"division": "150204"})
    assert [i.pk for i in by_county.context["page"].object_list] == [approved["q1"].pk]
    by_use = client.get("/metrology/filed-instruments/", {"use_field": "safety"})
    assert [i.pk for i in by_use.context["page"].object_list] == [approved["k2"].pk]
    # A division outside the jurisdiction narrows to nothing; it never widens the scope.
    outside = client.get("/metrology/filed-instruments/", {"division": "150102"})
    assert list(outside.context["page"].object_list) == []
    row = next(
        i for i in client.get("/metrology/filed-instruments/").context["page"].object_list if i.pk == approved["k1"].pk
    )
    assert row.filing_number == InstrumentFiling.objects.get(instruments=approved["k1"]).number
    choices = {d.code for d in client.get("/metrology/filed-instruments/").context["divisions"]}
    assert {"150200", "150203", "150204"} <= choices and "150102" not in choices


@pytest.mark.django_db
def test_filed_instrument_reads_and_exports_are_recorded(world, approved, web):
    client = web(world.users["kundulun"])
    client.get("/metrology/filed-instruments/", {"use_field": "trade"})
    client.get("/metrology/filed-instruments/export.xlsx")
    assert _queries("metrology.instrument") == [
        ("kundulun", "data.query", "list"),
        ("kundulun", "data.export", "export"),
    ]
    export = AuditEvent.objects.get(action="data.export", target_type="metrology.instrument")
    assert export.details["count"] == 3


# --- Two filings of one instrument at the same time (PostgreSQL: real row locks) -----------------


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_simultaneous_filings_of_one_instrument_cannot_both_pass(world, ledger):
    """The second submission waits for the first one's lock on the instrument, then sees its
    open filing. (Without that lock the second passes the "in no open filing" check at once;
    here it then deadlocks with the first, elsewhere both filings would be created.)"""
    import threading
    import time

    from django.db import connections, transaction

    instrument = ledger["k1"]
    outcome: dict[str, str] = {}

    def second():
        try:
            services.filing_submit(actor=world.users["ent_clerk"], instrument_ids=[instrument.pk])
            outcome["second"] = "filed"
        except Conflict as exc:
            outcome["second"] = exc.code
        finally:
            connections.close_all()

    with transaction.atomic():
        Instrument.objects.select_for_update().get(pk=instrument.pk)  # the first submission holds the lock
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.5)  # the second one is now past its first checks, waiting for the lock
        services.filing_submit(actor=world.users["ent_manager"], instrument_ids=[instrument.pk])
    thread.join(timeout=20)
    assert outcome == {"second": "in_open_filing"}
    assert InstrumentFiling.objects.filter(instruments=instrument).count() == 1


# --- Permission before input ---------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("reason", ["", "   ", None, "不合格"])
@pytest.mark.parametrize(
    ("role", "error", "code"),
    [
        ("ent_manager", Forbidden, "permission_denied"),
        ("baotou", Forbidden, "permission_denied"),
        ("kundulun_viewer", Forbidden, "permission_denied"),
        ("qingshan", NotFound, "not_found"),
        ("ent_other", NotFound, "not_found"),
    ],
)
def test_return_checks_permission_before_the_reason(world, ledger, role, error, code, reason):
    """Whoever may not return the filing is refused as such (recorded as denied), whether or
    not they gave a reason: an empty reason does not earn them "give the reason"."""
    filing = _submitted(world, ledger, "k1")
    _refused(
        lambda: services.filing_return(actor=world.users[role], filing=filing.pk, reason=reason),
        error,
        code,
        "instrument_filing.return",
        "denied",
    )


@pytest.mark.django_db
@pytest.mark.parametrize("ids", [[], None, ["abc"], [0]])
@pytest.mark.parametrize("role", ["kundulun", "ent_viewer", "xincheng", "inst", "sysadmin"])
def test_submit_checks_permission_before_the_ids(world, ledger, role, ids):
    _refused(
        lambda: services.filing_submit(actor=world.users[role], instrument_ids=ids),
        Forbidden,
        "permission_denied",
        "instrument_filing.submit",
        "denied",
    )


@pytest.mark.django_db
def test_submit_by_someone_who_may_not_file_names_no_instrument(world, ledger):
    """Ids they cannot see: not found (never whose they are), even beside malformed ones."""
    _refused(
        lambda: services.filing_submit(actor=world.users["xincheng"], instrument_ids=[ledger["k1"].pk, "abc"]),
        NotFound,
        "not_found",
        "instrument_filing.submit",
        "denied",
    )
    _refused(
        lambda: services.filing_submit(actor=world.users["kundulun"], instrument_ids=[ledger["k1"].pk, "abc"]),
        Forbidden,
        "permission_denied",
        "instrument_filing.submit",
        "denied",
    )


@pytest.mark.django_db
@pytest.mark.parametrize("ids", [[], ["abc"]])
@pytest.mark.parametrize(
    ("role", "error", "code"),
    [
        ("kundulun", Forbidden, "permission_denied"),
        ("ent_viewer", Forbidden, "permission_denied"),
        ("ent_other", NotFound, "not_found"),
    ],
)
def test_resubmit_checks_permission_before_the_ids(world, ledger, role, error, code, ids):
    filing = _submitted(world, ledger, "k1")
    services.filing_return(actor=world.users["kundulun"], filing=filing, reason="请补充")
    _refused(
        lambda: services.filing_resubmit(actor=world.users[role], filing=filing, instrument_ids=ids),
        error,
        code,
        "instrument_filing.resubmit",
        "denied",
    )


@pytest.mark.django_db
def test_return_through_page_and_api_checks_permission_first(world, ledger, web, api):
    filing = _submitted(world, ledger, "k1")
    before = _snapshot()
    web(world.users["baotou"]).post(f"/metrology/filings/{filing.pk}/return/", {"reason": ""})
    assert _last_refusal("instrument_filing.return").outcome == "denied"
    response = api(world.users["baotou"]).post(
        f"/api/v1/instrument-filings/{filing.pk}/return/", {"reason": ""}, format="json"
    )
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert _snapshot() == before


def test_instruments_named_in_messages_read_naturally_in_each_language():
    from types import SimpleNamespace

    from django.utils import translation

    from nqihub.metrology.rules import name_instruments

    items = [SimpleNamespace(name=f"压力表{i}", factory_number=f"P{i}") for i in range(12)]
    with translation.override("en"):
        assert name_instruments(items[:2]) == "压力表0 (factory number P0), 压力表1 (factory number P1)"
        assert name_instruments(items).endswith("压力表9 (factory number P9) and 2 more")
    with translation.override("zh-hans"):
        text = name_instruments(items[:2])
        assert "、" in text and "," not in text
        assert "2" in name_instruments(items).rsplit("、", 1)[1]


@pytest.mark.django_db
@pytest.mark.parametrize("body", [{"instrument_ids": ["abc"]}, {"instrument_ids": [2**70]}, {}])
def test_api_refuses_who_may_not_file_whatever_the_body(world, api, ledger, body):
    """A regulator cannot file for an enterprise: 403 before the body is looked at, recorded as
    denied; and an enterprise cannot return its own filing, whatever reason it sends."""
    response = api(world.users["kundulun"]).post("/api/v1/instrument-filings/", body, format="json")
    assert response.status_code in (403, 404) and not InstrumentFiling.objects.exists()
    assert AuditEvent.objects.filter(action="instrument_filing.submit").latest("seq").outcome == "denied"
    mine = api(world.users["ent_manager"]).post(
        "/api/v1/instrument-filings/", {"instrument_ids": [ledger["k1"].pk]}, format="json"
    )
    assert mine.status_code == 201
    refused = api(world.users["ent_manager"]).post(
        f"/api/v1/instrument-filings/{mine.json()['id']}/return/", {"reason": "x" * 5000}, format="json"
    )
    assert refused.status_code in (403, 404) and InstrumentFiling.objects.get().state == "submitted"


@pytest.mark.django_db
def test_approval_refuses_instruments_scrapped_since_submission(world, ledger):
    from nqihub.metrology.services.instruments import instrument_set_status

    filing = services.filing_submit(actor=world.users["ent_manager"], instrument_ids=[ledger["k1"].pk, ledger["k2"].pk])
    instrument_set_status(actor=world.users["ent_manager"], instrument=ledger["k2"], status="scrapped")
    with pytest.raises(Conflict) as refused:
        services.filing_approve(actor=world.users["kundulun"], filing=filing.pk)
    assert refused.value.code == "instruments_changed" and "压力表" in refused.value.message
    assert InstrumentFiling.objects.get(pk=filing.pk).state == "submitted"
    assert not Instrument.objects.filter(pk__in=[ledger["k1"].pk, ledger["k2"].pk], filed=True).exists()
    # Returned and resubmitted without it, it is approved.
    services.filing_return(actor=world.users["kundulun"], filing=filing.pk, reason="第二台已报废，请删除")
    services.filing_resubmit(actor=world.users["ent_manager"], filing=filing.pk, instrument_ids=[ledger["k1"].pk])
    services.filing_approve(actor=world.users["kundulun"], filing=filing.pk)
    assert Instrument.objects.get(pk=ledger["k1"].pk).filed
