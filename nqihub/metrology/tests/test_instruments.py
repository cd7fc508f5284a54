"""The instrument ledger: creating, changing and stopping instruments through the service,
the pages and the API; every bad input refused with its message and nothing changed; and the
role × instrument × action matrix proved through the queryset, the pages and the API."""

from __future__ import annotations

import pytest
from django.utils import translation

from nqihub.audit.models import AuditEvent
from nqihub.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from nqihub.metrology.models import CatalogueItem, Instrument
from nqihub.metrology.selectors import mandatory_explanation
from nqihub.metrology.services.catalogue import catalogue_item_update
from nqihub.metrology.services.instruments import instrument_create, instrument_set_status, instrument_update
from nqihub.testing.workbooks import export_sheet

from .conftest import instrument_data

INSTRUMENT = "metrology.instrument"


def _events(action: str, **filters):
    return AuditEvent.objects.filter(action=action, **filters).order_by("seq")


def _en(client):
    client.cookies["nqi_language"] = "en"
    return client


# --- Creating ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_create_fills_the_ledger_of_the_acting_enterprise(world, scale):
    manager = world.users["ent_manager"]
    instrument = instrument_create(actor=manager, data=instrument_data(catalogue_item=scale.code))
    assert instrument.organization == world.ent_kundulun
    assert instrument.division_id == world.ent_kundulun.division_id == "150203"
    assert instrument.catalogue_item == scale and instrument.is_mandatory
    assert instrument.platform_code.startswith("JL") and len(instrument.platform_code) == 14
    assert (instrument.status, instrument.filed, instrument.next_due_on) == ("in_use", False, None)
    event = _events("instrument.create").get()
    assert (event.outcome, event.target_type, event.target_id) == ("success", INSTRUMENT, str(instrument.pk))
    assert event.details["is_mandatory"] is True and event.organization_name == world.ent_kundulun.name


@pytest.mark.django_db
def test_chinese_labels_are_accepted_as_on_paper_ledgers(world, scale):
    instrument = instrument_create(
        actor=world.users["ent_clerk"],
        data=instrument_data(catalogue_item=scale.name, use_field="贸易结算", status="停用"),
    )
    assert (instrument.use_field, instrument.status, instrument.is_mandatory) == ("trade", "stopped", True)


@pytest.mark.django_db
def test_the_same_factory_number_may_be_in_another_enterprises_ledger(world, instruments):
    again = instrument_create(actor=world.users["ent_other"], data=instrument_data(factory_number="K-0001"))
    assert again.organization == world.ent_xincheng


BAD_INPUT = [
    # (what is wrong, data overrides, field, code, message)
    (
        "missing factory number",
        {"factory_number": "  "},
        "factory_number",
        "invalid",
        "Factory number: This field is required.",
    ),
    ("missing name", {"name": ""}, "name", "invalid", "Instrument name: This field is required."),
    (
        "unknown catalogue code",
        {"catalogue_item": "99.9"},
        "catalogue_item",
        "invalid",
        "“99.9” is not in the catalogue",
    ),
    ("bad use field", {"use_field": "厨房"}, "use_field", "invalid", "Use field must be one of"),
    ("bad status", {"status": "丢失"}, "status", "invalid", "Status must be one of"),
    (
        "too long a field",
        {"factory_number": "F" * 65},
        "factory_number",
        "invalid",
        "At most 64 characters (65 given).",
    ),
    ("too long a name", {"name": "秤" * 101}, "name", "invalid", "At most 100 characters (101 given)."),
    (
        "duplicate factory number",
        {"factory_number": "K-0001"},
        "factory_number",
        "factory_number_taken",
        "already in your organisation's ledger",
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize("case, overrides, field, code, message", BAD_INPUT, ids=[c[0] for c in BAD_INPUT])
def test_bad_input_through_the_service(world, instruments, case, overrides, field, code, message):
    before = Instrument.objects.count()
    with translation.override("en"), pytest.raises((InvalidInput, Conflict)) as refused:
        instrument_create(actor=world.users["ent_manager"], data=instrument_data(**overrides))
    assert refused.value.code == code and refused.value.field == field
    assert message in str(refused.value.message)
    assert Instrument.objects.count() == before
    event = _events("instrument.create").last()
    assert event.outcome == "failure" and event.details["code"] == code


# The page has no free status input (status changes have their own form), so no bad status.
PAGE_BAD_INPUT = [c for c in BAD_INPUT if c[2] != "status"]


@pytest.mark.django_db
@pytest.mark.parametrize("case, overrides, field, code, message", PAGE_BAD_INPUT, ids=[c[0] for c in PAGE_BAD_INPUT])
def test_bad_input_through_the_page(world, web, instruments, case, overrides, field, code, message):
    before = Instrument.objects.count()
    client = _en(web(world.users["ent_manager"]))
    response = client.post("/metrology/instruments/new/", instrument_data(**overrides))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    html = response.content.decode()
    assert f'data-field="{field}"' in html
    assert message.split(": ")[-1].replace("'", "&#x27;") in html
    assert Instrument.objects.count() == before


@pytest.mark.django_db
@pytest.mark.parametrize("case, overrides, field, code, message", BAD_INPUT, ids=[c[0] for c in BAD_INPUT])
def test_bad_input_through_the_api(world, api, instruments, case, overrides, field, code, message):
    before = Instrument.objects.count()
    client = _en(api(world.users["ent_manager"]))
    response = client.post("/api/v1/instruments/", instrument_data(**overrides), format="json")
    assert response.status_code == (409 if code == "factory_number_taken" else 400)
    body = response.json()
    assert body["code"] == code and message in body["detail"] and field in body["errors"]
    assert Instrument.objects.count() == before


@pytest.mark.django_db
def test_a_duplicate_committed_meanwhile_is_the_same_conflict(world, instruments, monkeypatch):
    """Two clerks saving the same factory number at once: the check passes for both and the
    database constraint stops the second, which gets the same clear Conflict."""
    from nqihub.metrology.services import instruments as services

    monkeypatch.setattr(services, "_ensure_factory_number_free", lambda *args, **kwargs: None)
    with pytest.raises(Conflict) as refused:
        instrument_create(actor=world.users["ent_clerk"], data=instrument_data(factory_number="K-0001"))
    assert refused.value.code == "factory_number_taken"
    second = instrument_create(actor=world.users["ent_clerk"], data=instrument_data(factory_number="K-0002"))
    with pytest.raises(Conflict):
        instrument_update(actor=world.users["ent_clerk"], instrument=second, data={"factory_number": "K-0001"})
    assert Instrument.objects.filter(factory_number="K-0001", organization=world.ent_kundulun).count() == 1
    assert list(_events("instrument.create").values_list("outcome", flat=True))[-2:] == ["failure", "success"]


@pytest.mark.django_db
def test_every_problem_is_reported_at_once(world):
    with translation.override("en"), pytest.raises(InvalidInput) as refused:
        instrument_create(actor=world.users["ent_manager"], data={"catalogue_item": "nope", "use_field": "x"})
    assert set(refused.value.errors) == {"name", "factory_number", "catalogue_item", "use_field"}


@pytest.mark.django_db
def test_an_item_no_longer_in_force_cannot_be_chosen(world, scale):
    catalogue_item_update(actor=world.users["sysadmin"], item=scale, data={"is_active": False})
    with pytest.raises(InvalidInput) as refused:
        instrument_create(actor=world.users["ent_manager"], data=instrument_data(catalogue_item=scale.code))
    assert refused.value.field == "catalogue_item"


# --- Changing ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_update_is_partial_and_recomputes_mandatory(world, instruments):
    instrument = instruments["kundulun"]
    changed = instrument_update(
        actor=world.users["ent_clerk"], instrument=instrument, data={"use_field": "other", "location": "仓库"}
    )
    assert (changed.use_field, changed.location, changed.is_mandatory) == ("other", "仓库", False)
    assert (changed.name, changed.factory_number, changed.catalogue_item_id) == (
        instrument.name,
        "K-0001",
        instrument.catalogue_item_id,
    )
    event = _events("instrument.update").last()
    assert event.outcome == "success"
    assert event.details["changes"]["is_mandatory"] == [True, False]
    assert event.details["changes"]["use_field"] == ["trade", "other"]


@pytest.mark.django_db
def test_update_keeps_an_item_gone_out_of_force_but_cannot_choose_one(world, instruments, scale, catalogue):
    instrument = instruments["kundulun"]
    catalogue_item_update(actor=world.users["sysadmin"], item=scale, data={"is_active": False})
    kept = instrument_update(actor=world.users["ent_manager"], instrument=instrument, data={"location": "二楼"})
    assert kept.catalogue_item == scale and kept.is_mandatory is False
    gauge = CatalogueItem.objects.get(name="弹性元件式一般压力表、压力真空表和真空表")
    catalogue_item_update(actor=world.users["sysadmin"], item=gauge, data={"is_active": False})
    with pytest.raises(InvalidInput):
        instrument_update(actor=world.users["ent_manager"], instrument=instrument, data={"catalogue_item": gauge.code})


@pytest.mark.django_db
def test_update_to_a_factory_number_already_in_the_ledger_is_a_conflict(world, instruments):
    second = instrument_create(actor=world.users["ent_manager"], data=instrument_data(factory_number="K-0002"))
    with pytest.raises(Conflict) as refused:
        instrument_update(actor=world.users["ent_manager"], instrument=second, data={"factory_number": "K-0001"})
    assert refused.value.code == "factory_number_taken"
    assert Instrument.objects.get(pk=second.pk).factory_number == "K-0002"
    assert _events("instrument.update").last().outcome == "failure"


@pytest.mark.django_db
def test_bad_update_changes_nothing(world, instruments):
    instrument = instruments["kundulun"]
    with pytest.raises(InvalidInput):
        instrument_update(
            actor=world.users["ent_manager"], instrument=instrument, data={"name": "", "location": "别处"}
        )
    assert Instrument.objects.get(pk=instrument.pk).location == instrument.location


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role, error",
    [
        ("ent_other", NotFound),
        ("xincheng", NotFound),
        ("inst", NotFound),
        ("sysadmin", NotFound),
        ("kundulun", Forbidden),
        ("baotou", Forbidden),
        ("region", Forbidden),
        ("ent_viewer", Forbidden),
    ],
)
def test_who_may_not_change_an_instrument(world, instruments, ent_viewer, role, error):
    instrument = instruments["kundulun"]
    with pytest.raises(error):
        instrument_update(actor=world.users[role], instrument=instrument, data={"location": "别处"})
    with pytest.raises(error):
        instrument_set_status(actor=world.users[role], instrument=instrument, status="stopped")
    fresh = Instrument.objects.get(pk=instrument.pk)
    assert (fresh.location, fresh.status) == (instrument.location, "in_use")
    outcomes = set(_events("instrument.update").values_list("outcome", flat=True))
    assert outcomes == {"denied"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role", ["kundulun", "baotou", "region", "inst", "applicant", "sysadmin", "auditor", "ent_viewer"]
)
def test_who_may_not_create(world, ent_viewer, role):
    with pytest.raises(Forbidden) as refused:
        instrument_create(actor=world.users[role], data=instrument_data())
    assert refused.value.code == "not_ledger_keeper"
    assert not Instrument.objects.exists()
    assert _events("instrument.create").get().outcome == "denied"


# --- Status --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_status_transitions(world, instruments):
    instrument = instruments["kundulun"]
    manager = world.users["ent_manager"]
    assert instrument_set_status(actor=manager, instrument=instrument, status="stopped").status == "stopped"
    assert instrument_set_status(actor=manager, instrument=instrument, status="在用").status == "in_use"
    with pytest.raises(Conflict) as same:
        instrument_set_status(actor=manager, instrument=instrument, status="in_use")
    assert same.value.code == "status_unchanged"
    with pytest.raises(InvalidInput):
        instrument_set_status(actor=manager, instrument=instrument, status="lost")
    assert instrument_set_status(actor=manager, instrument=instrument, status="scrapped").status == "scrapped"
    for status in ("in_use", "stopped"):
        with pytest.raises(Conflict) as final:
            instrument_set_status(actor=manager, instrument=instrument, status=status)
        assert final.value.code == "invalid_state"
    with pytest.raises(Conflict):
        instrument_update(actor=manager, instrument=instrument, data={"status": "in_use"})
    assert Instrument.objects.get(pk=instrument.pk).status == "scrapped"
    outcomes = list(_events("instrument.set_status").values_list("outcome", flat=True))
    assert outcomes == ["success", "success", "failure", "failure", "success", "failure", "failure"]
    assert _events("instrument.set_status").first().details == {"from": "in_use", "to": "stopped"}


@pytest.mark.django_db
def test_status_through_page_and_api(world, web, api, instruments):
    instrument = instruments["kundulun"]
    page = web(world.users["ent_clerk"])
    response = page.post(f"/metrology/instruments/{instrument.pk}/status/", {"status": "stopped"})
    assert response.status_code == 302 and Instrument.objects.get(pk=instrument.pk).status == "stopped"
    response = api(world.users["ent_clerk"]).post(
        f"/api/v1/instruments/{instrument.pk}/status/", {"status": "scrapped"}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "scrapped"
    again = api(world.users["ent_clerk"]).post(
        f"/api/v1/instruments/{instrument.pk}/status/", {"status": "in_use"}, format="json"
    )
    assert again.status_code == 409 and again.json()["code"] == "invalid_state"
    assert (
        api(world.users["kundulun"])
        .post(f"/api/v1/instruments/{instrument.pk}/status/", {"status": "stopped"}, format="json")
        .status_code
        == 403
    )
    assert (
        api(world.users["ent_other"])
        .post(f"/api/v1/instruments/{instrument.pk}/status/", {"status": "stopped"}, format="json")
        .status_code
        == 404
    )
    assert (
        web(world.users["ent_other"])
        .post(f"/metrology/instruments/{instrument.pk}/status/", {"status": "stopped"})
        .status_code
        == 404
    )


# --- Pages and API flows -------------------------------------------------------------------


@pytest.mark.django_db
def test_create_and_edit_through_pages(world, web, scale):
    client = _en(web(world.users["ent_manager"]))
    form = client.get("/metrology/instruments/new/")
    assert form.status_code == 200 and scale.code in form.content.decode()
    response = client.post("/metrology/instruments/new/", instrument_data(catalogue_item=scale.code))
    instrument = Instrument.objects.get()
    assert response.status_code == 302 and response["Location"] == instrument.get_absolute_url()
    assert instrument.is_mandatory
    edit = client.get(f"/metrology/instruments/{instrument.pk}/edit/")
    assert edit.status_code == 200 and edit.context["form"].initial["catalogue_item"] == scale.code
    response = client.post(
        f"/metrology/instruments/{instrument.pk}/edit/", instrument_data(catalogue_item=scale.code, use_field="other")
    )
    assert response.status_code == 302
    assert Instrument.objects.get(pk=instrument.pk).is_mandatory is False


@pytest.mark.django_db
def test_detail_page_explains_why(world, web, instruments):
    instrument = instruments["kundulun"]
    client = _en(web(world.users["ent_manager"]))
    html = client.get(f"/metrology/instruments/{instrument.pk}/").content.decode()
    assert instrument.platform_code in html and "K-0001" in html and "(0~30) kg" in html
    assert (
        "Subject to mandatory verification: listed in the catalogue (3.1 数字指示秤) and used for Trade settlement."
        in html
    )
    assert "evidence-unverified" in html  # the entry it rests on is not verified, and the page says so
    assert 'data-testid="status-form"' in html


@pytest.mark.django_db
def test_mandatory_explanations(world, scale, p_only_item):
    manager = world.users["ent_manager"]

    def explain(**data):
        return mandatory_explanation(
            instrument_create(actor=manager, data=instrument_data(factory_number=str(len(data)) + str(data), **data))
        )

    with translation.override("en"):
        assert "listed in the catalogue (3.1 数字指示秤) and used for Trade settlement" in explain(
            catalogue_item=scale.code
        )
        other = explain(catalogue_item=scale.code, use_field="safety")
        assert other.startswith("Not subject") and "mandatory when used for: Trade settlement" in other
        assert "type approval only" in explain(catalogue_item=p_only_item.code)
        assert "not in the catalogue" in explain(catalogue_item="")


@pytest.mark.django_db
def test_api_create_update_and_body(world, api, scale):
    client = api(world.users["ent_manager"])
    created = client.post("/api/v1/instruments/", instrument_data(catalogue_item=scale.code), format="json")
    assert created.status_code == 201
    body = created.json()
    assert body["organization"] == {"id": world.ent_kundulun.pk, "name": world.ent_kundulun.name}
    assert body["division"]["code"] == "150203"
    assert body["catalogue_item"]["code"] == scale.code and body["catalogue_item"]["evidence"] == "unverified"
    assert body["is_mandatory"] is True and body["mandatory_reason"]
    patched = client.patch(f"/api/v1/instruments/{body['id']}/", {"use_field": "other"}, format="json")
    assert patched.status_code == 200 and patched.json()["is_mandatory"] is False
    assert client.put(f"/api/v1/instruments/{body['id']}/", {}, format="json").status_code == 405
    assert client.delete(f"/api/v1/instruments/{body['id']}/").status_code == 405


# --- Lists, filters and export -------------------------------------------------------------


@pytest.fixture
def varied(world, instruments, catalogue, scale):
    manager = world.users["ent_manager"]
    gauge = CatalogueItem.objects.get(name="弹性元件式一般压力表、压力真空表和真空表")
    made = {
        "gauge": instrument_create(
            actor=manager,
            data=instrument_data(catalogue_item=gauge.code, name="压力表", factory_number="P-1", use_field="safety"),
        ),
        "ruler": instrument_create(
            actor=manager, data=instrument_data(name="钢直尺", factory_number="R-1", use_field="other")
        ),
        "stopped": instrument_create(
            actor=manager, data=instrument_data(catalogue_item=scale.code, factory_number="K-0009", status="stopped")
        ),
    }
    return {**instruments, **made}


FILTERS = [
    ({"catalogue_item": "3.1"}, {"kundulun", "stopped"}),
    ({"use_field": "safety"}, {"gauge"}),
    ({"status": "stopped"}, {"stopped"}),
    ({"is_mandatory": "false"}, {"ruler"}),
    ({"is_mandatory": "true"}, {"kundulun", "gauge", "stopped"}),
    ({"q": "钢直"}, {"ruler"}),
    ({"q": "p-1"}, {"gauge"}),
]


@pytest.mark.django_db
@pytest.mark.parametrize("params, expected", FILTERS)
def test_filters_on_page_export_and_api(world, web, api, varied, params, expected):
    want = {varied[k].pk for k in expected}
    page = web(world.users["ent_manager"]).get("/metrology/instruments/", params)
    assert {i.pk for i in page.context["page"].object_list} == want
    rows = _export_rows(web(world.users["ent_manager"]).get("/metrology/instruments/export.xlsx", params))
    assert {r[0] for r in rows} == {varied[k].platform_code for k in expected}
    listed = api(world.users["ent_manager"]).get("/api/v1/instruments/", params)
    assert {i["id"] for i in listed.json()["results"]} == want


@pytest.mark.django_db
def test_search_by_platform_code(world, web, varied):
    code = varied["ruler"].platform_code
    page = web(world.users["ent_manager"]).get("/metrology/instruments/", {"q": code.lower()})
    assert [i.pk for i in page.context["page"].object_list] == [varied["ruler"].pk]


@pytest.mark.django_db
def test_regulator_division_filter(world, web, api, instruments):
    page = web(world.users["region"]).get("/metrology/instruments/", {"division": "150200"})
    assert {i.pk for i in page.context["page"].object_list} == {instruments["kundulun"].pk}
    assert 'name="division"' in page.content.decode()
    listed = api(world.users["region"]).get("/api/v1/instruments/", {"division": "150100"})
    assert {i["id"] for i in listed.json()["results"]} == {instruments["xincheng"].pk}
    # An enterprise gets no division filter on its page.
    assert 'name="division"' not in web(world.users["ent_manager"]).get("/metrology/instruments/").content.decode()


def _export_rows(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return export_sheet(response)[1:]


@pytest.mark.django_db
def test_list_pagination(world, web):
    manager = world.users["ent_manager"]
    for n in range(55):
        instrument_create(actor=manager, data=instrument_data(factory_number=f"N{n:03d}"))
    client = web(manager)
    first = client.get("/metrology/instruments/")
    assert len(first.context["page"].object_list) == 50 and first.context["page"].paginator.num_pages == 2
    second = client.get("/metrology/instruments/", {"page": 2, "use_field": "trade"})
    assert len(second.context["page"].object_list) == 5
    assert "use_field=trade" in second.context["query"]


# --- The permission matrix -----------------------------------------------------------------

BOTH = {"kundulun", "xincheng"}
VIEW = {
    "ent_manager": {"kundulun"},
    "ent_clerk": {"kundulun"},
    "ent_viewer": {"kundulun"},
    "ent_other": {"xincheng"},
    "kundulun": {"kundulun"},
    "baotou": {"kundulun"},
    "region": BOTH,
    "xincheng": {"xincheng"},
    "inst": set(),
    "applicant": set(),
    "sysadmin": set(),
    "auditor": set(),
}
CHANGE = {role: set() for role in VIEW} | {
    "ent_manager": {"kundulun"},
    "ent_clerk": {"kundulun"},
    "ent_other": {"xincheng"},
}
CREATE = {"ent_manager", "ent_clerk", "ent_other"}
ROLES = sorted(VIEW)


@pytest.fixture
def matrix(world, instruments, ent_viewer):
    return instruments


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_scope_through_queryset(world, matrix, role):
    user = world.users[role]
    for action, table in (("view", VIEW), ("export", VIEW), ("change", CHANGE)):
        got = set(Instrument.objects.for_user(user, action).values_list("pk", flat=True))
        assert got == {matrix[name].pk for name in table[role]}, (role, action)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_scope_through_pages(world, web, matrix, role):
    client = web(world.users[role])
    listed = client.get("/metrology/instruments/")
    assert listed.status_code == 200
    assert {i.pk for i in listed.context["page"].object_list} == {matrix[n].pk for n in VIEW[role]}
    exported = _export_rows(client.get("/metrology/instruments/export.xlsx"))
    assert {r[0] for r in exported} == {matrix[n].platform_code for n in VIEW[role]}
    for name in sorted(BOTH):
        instrument = matrix[name]
        detail = client.get(f"/metrology/instruments/{instrument.pk}/")
        assert detail.status_code == (200 if name in VIEW[role] else 404), (role, name)
        edit = client.get(f"/metrology/instruments/{instrument.pk}/edit/")
        assert edit.status_code == (200 if name in CHANGE[role] else 404), (role, name)
        posted = client.post(
            f"/metrology/instruments/{instrument.pk}/edit/",
            instrument_data(name="改过的名称", factory_number=instrument.factory_number),
        )
        changed = Instrument.objects.get(pk=instrument.pk).name == "改过的名称"
        assert changed == (name in CHANGE[role]), (role, name)
        if name not in CHANGE[role]:
            assert posted.status_code == 404
        Instrument.objects.filter(pk=instrument.pk).update(name=instrument.name)
    create = client.get("/metrology/instruments/new/")
    assert create.status_code == (200 if role in CREATE else 403)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_scope_through_api(world, api, matrix, role):
    client = api(world.users[role])
    listed = client.get("/api/v1/instruments/")
    assert listed.status_code == 200
    assert {i["id"] for i in listed.json()["results"]} == {matrix[n].pk for n in VIEW[role]}
    for name in sorted(BOTH):
        instrument = matrix[name]
        detail = client.get(f"/api/v1/instruments/{instrument.pk}/")
        assert detail.status_code == (200 if name in VIEW[role] else 404), (role, name)
        patched = client.patch(f"/api/v1/instruments/{instrument.pk}/", {"location": "新位置"}, format="json")
        if name in CHANGE[role]:
            assert patched.status_code == 200 and patched.json()["location"] == "新位置"
            Instrument.objects.filter(pk=instrument.pk).update(location=instrument.location)
        else:
            assert patched.status_code == (403 if name in VIEW[role] else 404), (role, name)
            assert set(patched.json()) >= {"detail", "code"}
            assert Instrument.objects.get(pk=instrument.pk).location == instrument.location
    created = client.post("/api/v1/instruments/", instrument_data(factory_number="API-1"), format="json")
    assert created.status_code == (201 if role in CREATE else 403), (role, created.content)


@pytest.mark.django_db
def test_guessing_another_enterprises_id_is_not_found(world, web, api, matrix):
    other = matrix["xincheng"]
    for path in (
        f"/metrology/instruments/{other.pk}/",
        f"/metrology/instruments/{other.pk}/edit/",
        "/metrology/instruments/999999/",
    ):
        assert web(world.users["ent_manager"]).get(path).status_code == 404
    response = api(world.users["ent_manager"]).get(f"/api/v1/instruments/{other.pk}/")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


@pytest.mark.django_db
def test_viewer_reads_but_cannot_change(world, web, api, matrix):
    viewer = world.users["ent_viewer"]
    instrument = matrix["kundulun"]
    html = web(viewer).get(f"/metrology/instruments/{instrument.pk}/").content.decode()
    assert 'data-testid="status-form"' not in html and "/edit/" not in html
    assert "/metrology/instruments/new/" not in web(viewer).get("/metrology/instruments/").content.decode()
    assert web(viewer).post(f"/metrology/instruments/{instrument.pk}/status/", {"status": "stopped"}).status_code == 302
    assert Instrument.objects.get(pk=instrument.pk).status == "in_use"
    response = api(viewer).patch(f"/api/v1/instruments/{instrument.pk}/", {"location": "x"}, format="json")
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"


# --- Regulators' reads are recorded --------------------------------------------------------


@pytest.mark.django_db
def test_regulator_reads_are_recorded(world, web, api, matrix):
    regulator = world.users["baotou"]
    instrument = matrix["kundulun"]
    client = web(regulator)
    client.get("/metrology/instruments/", {"use_field": "trade"})
    client.get(f"/metrology/instruments/{instrument.pk}/")
    client.get("/metrology/instruments/export.xlsx")
    api(regulator).get("/api/v1/instruments/")
    api(regulator).get(f"/api/v1/instruments/{instrument.pk}/")
    events = list(AuditEvent.objects.filter(actor=regulator, action__startswith="data.").order_by("seq"))
    assert [(e.action, e.details["kind"], e.details["count"]) for e in events] == [
        ("data.query", "list", 1),
        ("data.query", "detail", 1),
        ("data.export", "export", 1),
        ("data.query", "list", 1),
        ("data.query", "detail", 1),
    ]
    assert all(e.target_type == INSTRUMENT for e in events)
    assert events[0].details["params"] == {"use_field": "trade"}
    assert events[0].organization_name == world.baotou_reg.name


@pytest.mark.django_db
def test_enterprise_reads_are_not_recorded_but_exports_are(world, web, matrix):
    client = web(world.users["ent_manager"])
    client.get("/metrology/instruments/")
    client.get(f"/metrology/instruments/{matrix['kundulun'].pk}/")
    assert not AuditEvent.objects.filter(action="data.query").exists()
    client.get("/metrology/instruments/export.xlsx")
    assert AuditEvent.objects.filter(action="data.export", actor=world.users["ent_manager"]).count() == 1


# --- Query counts --------------------------------------------------------------------------


def _fill(world, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        instrument_create(
            actor=world.users["ent_manager"], data=instrument_data(catalogue_item="3.1", factory_number=f"Q{i:04d}")
        )


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["ent_manager", "baotou"])
def test_list_page_queries_do_not_grow_with_rows(world, web, django_assert_max_num_queries, role):
    client = web(world.users[role])
    _fill(world, 2)
    client.get("/metrology/instruments/")  # warm the session and caches
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert client.get("/metrology/instruments/").status_code == 200
    _fill(world, 40, start=2)
    with django_assert_max_num_queries(len(few)):
        response = client.get("/metrology/instruments/")
    assert len(response.context["page"].object_list) == 42
    with django_assert_max_num_queries(15):  # 7 for an enterprise, 13 for a regulator (audit write)
        client.get("/metrology/instruments/")


@pytest.mark.django_db
def test_api_list_queries_do_not_grow_with_rows(world, api, django_assert_max_num_queries):
    client = api(world.users["ent_manager"])
    _fill(world, 2)
    client.get("/api/v1/instruments/")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get("/api/v1/instruments/")
    _fill(world, 40, start=2)
    with django_assert_max_num_queries(len(few)):
        assert client.get("/api/v1/instruments/").json()["count"] == 42
