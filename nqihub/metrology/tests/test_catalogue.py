"""The catalogue of instruments under mandatory management: the shipped data and its evidence
marks, the rule "mandatory = listed + used in one of the item's fields", and the system
administrator's edits through the service, the pages, the API and the console."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.utils import translation

from nqihub.audit.models import AuditEvent
from nqihub.core.errors import Conflict, Forbidden, InvalidInput
from nqihub.metrology.models import CatalogueItem, Evidence, Instrument, Supervision, VerificationMode
from nqihub.metrology.services.catalogue import (
    CATALOGUE_FIELDS,
    catalogue_item_clean_data,
    catalogue_item_create,
    catalogue_item_update,
)
from nqihub.metrology.services.instruments import instrument_create

from .conftest import instrument_data

MEMORY_SOURCE = "凭领域知识整理、未见原文，须按市场监管总局公告 2020 年第 42 号逐条核对"
PROVISIONAL = "序号为临时编号，待按官方目录核对"
ROLES = [
    "ent_manager",
    "ent_clerk",
    "ent_other",
    "kundulun",
    "baotou",
    "region",
    "xincheng",
    "inst",
    "applicant",
    "sysadmin",
    "secadmin",
    "auditor",
]

migration = importlib.import_module("nqihub.metrology.migrations.0002_load_catalogue")


def _by_name(name: str) -> CatalogueItem:
    return CatalogueItem.objects.get(name=name)


def _events(action: str):
    return AuditEvent.objects.filter(action=action).order_by("seq")


def new_item_data(**overrides) -> dict:
    data = {
        "level1_no": 40,
        "level1_name": "水分测定仪",
        "level2_no": 1,
        "name": "谷物水分测定仪",
        "supervision": "V",
        "verification_mode": "periodic",
        "use_trade": True,
        "period_months": 12,
        "regulation": "",
        "source": "transcribed from the official PDF",
        "evidence": "verified",
    }
    data.update(overrides)
    return data


# --- The shipped data ----------------------------------------------------------------------


@pytest.mark.django_db
def test_shipped_catalogue_loads_with_evidence_marks():
    items = list(CatalogueItem.objects.all())
    assert len(items) == len(migration.read_rows()) == 35
    evidence = {i.name: i.evidence for i in items}
    corroborated = {n for n, e in evidence.items() if e == Evidence.CORROBORATED}
    assert corroborated == {
        "电能表（有功）",
        "水表（DN15–DN25）",
        "水表（DN40–DN50）",
        "燃气表（G1.6–G16）",
        "玻璃体温计",
        "心电测量器具",
        "脉搏测量器具",
        "血氧饱和度测量器具",
    }
    # Nothing ships as verified against the official text: nobody has read it yet.
    assert Evidence.VERIFIED not in evidence.values()
    for item in items:
        assert PROVISIONAL in item.source, item  # every number is provisional, and says so
        if item.evidence == Evidence.UNVERIFIED:
            assert item.source.startswith(MEMORY_SOURCE), item
        else:
            assert "http" in item.source or "代码仓库" in item.source, item
    # Regulation numbers FACTS checked are marked as such in the source note.
    for name, number in [
        ("燃油加油机", "JJG 443-2023"),
        ("呼出气体酒精含量检测仪", "JJG 657-2019"),
        ("汽车排放气体测试仪", "JJG 688-2017"),
    ]:
        item = _by_name(name)
        assert number in item.regulation and "已核实" in item.source and "https://" in item.source, name


@pytest.mark.django_db
def test_shipped_intervals_service_lives_and_modes():
    expected = {
        "数字指示秤": (VerificationMode.PERIODIC, 12, None, "use_trade"),
        "出租汽车计价器": (VerificationMode.PERIODIC, 12, None, "use_trade"),
        "血压计、血压表": (VerificationMode.PERIODIC, 12, None, "use_medical"),
        "弹性元件式一般压力表、压力真空表和真空表": (VerificationMode.PERIODIC, 6, None, "use_safety"),
        "声级计": (VerificationMode.PERIODIC, 12, None, "use_environment"),
        "机动车测速仪": (VerificationMode.PERIODIC, 12, None, "use_safety"),
        "水表（DN15–DN25）": (VerificationMode.FIRST_LIMITED, None, 72, "use_trade"),
        "水表（DN40–DN50）": (VerificationMode.FIRST_LIMITED, None, 48, "use_trade"),
        "燃气表（G1.6–G16）": (VerificationMode.FIRST_LIMITED, None, 120, "use_trade"),
        "电能表（有功）": (VerificationMode.FIRST_LIMITED, None, 96, "use_trade"),
        "玻璃体温计": (VerificationMode.FIRST_SCRAP, None, None, "use_medical"),
    }
    for name, (mode, period, life, use) in expected.items():
        item = _by_name(name)
        assert (item.verification_mode, item.period_months, item.service_life_months) == (mode, period, life), name
        assert getattr(item, use), name
    assert _by_name("心电测量器具").supervision == Supervision.BOTH


@pytest.mark.django_db
def test_every_shipped_item_obeys_the_catalogue_rules():
    for item in CatalogueItem.objects.all():
        cleaned = catalogue_item_clean_data({}, instance=item)
        assert cleaned == {name: getattr(item, name) for name in CATALOGUE_FIELDS}, item.code


@pytest.mark.django_db
def test_migration_reverses_and_reloads_without_touching_other_items(p_only_item):
    editor = SimpleNamespace(connection=connection)
    codes = [row["code"] for row in migration.read_rows()]
    migration.unload(django_apps, editor)
    assert not CatalogueItem.objects.filter(code__in=codes).exists()
    assert CatalogueItem.objects.filter(pk=p_only_item.pk).exists()
    migration.load(django_apps, editor)
    migration.load(django_apps, editor)  # a second run keeps what is there
    assert CatalogueItem.objects.filter(code__in=codes).count() == len(codes)
    assert CatalogueItem.objects.get(name="水表（DN15–DN25）").service_life_months == 72


# --- Mandatory = listed + used in one of the item's fields ---------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "use_field, mandatory",
    [("trade", True), ("other", False), ("safety", False), ("medical", False), ("environment", False)],
)
def test_a_scale_is_mandatory_only_when_used_for_trade(world, scale, use_field, mandatory):
    instrument = instrument_create(
        actor=world.users["ent_manager"], data=instrument_data(catalogue_item=scale.code, use_field=use_field)
    )
    assert instrument.is_mandatory is mandatory
    assert instrument.compute_mandatory() is mandatory


@pytest.mark.django_db
@pytest.mark.parametrize("use_field", ["trade", "safety", "medical", "environment", "other"])
def test_a_type_approval_only_item_is_never_mandatory(world, p_only_item, use_field):
    instrument = instrument_create(
        actor=world.users["ent_manager"], data=instrument_data(catalogue_item=p_only_item.code, use_field=use_field)
    )
    assert instrument.is_mandatory is False


@pytest.mark.django_db
def test_an_instrument_outside_the_catalogue_is_not_mandatory(world):
    instrument = instrument_create(
        actor=world.users["ent_manager"], data=instrument_data(catalogue_item="", name="钢直尺")
    )
    assert instrument.catalogue_item is None and instrument.is_mandatory is False


@pytest.mark.django_db
def test_the_item_may_be_given_by_its_exact_name(world):
    instrument = instrument_create(
        actor=world.users["ent_manager"], data=instrument_data(catalogue_item="声级计", use_field="environment")
    )
    assert instrument.catalogue_item == _by_name("声级计") and instrument.is_mandatory


# --- The service ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_system_administrator_changes_an_item_and_it_is_recorded(world, scale):
    sysadmin = world.users["sysadmin"]
    item = catalogue_item_update(
        actor=sysadmin, item=scale, data={"evidence": "verified", "source": "SAMR 2020 No. 42 PDF, p. 3"}
    )
    assert (item.evidence, item.source, item.period_months) == ("verified", "SAMR 2020 No. 42 PDF, p. 3", 12)
    event = _events("catalogue_item.update").last()
    assert event.outcome == "success" and event.actor == sysadmin and event.target_id == str(scale.pk)
    assert event.details["changes"]["evidence"] == ["unverified", "verified"]


@pytest.mark.django_db
@pytest.mark.parametrize("role", [r for r in ROLES if r != "sysadmin"])
def test_nobody_else_changes_the_catalogue(world, scale, role):
    before = CatalogueItem.objects.get(pk=scale.pk)
    with pytest.raises(Forbidden):
        catalogue_item_update(actor=world.users[role], item=scale, data={"name": "改名"})
    with pytest.raises(Forbidden):
        catalogue_item_create(actor=world.users[role], data=new_item_data())
    assert CatalogueItem.objects.get(pk=scale.pk).name == before.name
    assert not CatalogueItem.objects.filter(name="谷物水分测定仪").exists()
    assert list(_events("catalogue_item.update").values_list("outcome", flat=True)) == ["denied"]
    assert list(_events("catalogue_item.create").values_list("outcome", flat=True)) == ["denied"]


@pytest.mark.django_db
def test_create_makes_the_code_from_the_numbers(world):
    item = catalogue_item_create(actor=world.users["sysadmin"], data=new_item_data())
    assert item.code == "40.1" and item.evidence == "verified"
    assert _events("catalogue_item.create").last().outcome == "success"
    with pytest.raises(Conflict) as refused:
        catalogue_item_create(actor=world.users["sysadmin"], data=new_item_data(name="另一个"))
    assert refused.value.code == "catalogue_code_taken"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "changes, field, text",
    [
        ({"code": "3.9"}, "code", "numbers joined by a dot (3.1)"),
        ({"supervision": "X"}, "supervision", "Choose one of the listed values"),
        ({"supervision": "P"}, "verification_mode", "type approval only has no mandatory verification"),
        ({"use_trade": False}, "use_trade", "Tick at least one field"),
        (
            {"verification_mode": "first_limited"},
            "period_months",
            "Only periodic verification has a verification interval",
        ),
        ({"service_life_months": 60}, "service_life_months", "limited service life"),
        ({"period_months": 0}, "period_months", "whole number from 1 to 600"),
        ({"name": "秤" * 101}, "name", "At most 100 characters (101 given)"),
        ({"name": "  "}, "name", "This field is required"),
        ({"source": ""}, "source", "This field is required"),
    ],
)
def test_bad_changes_are_refused_with_their_message_and_change_nothing(world, scale, changes, field, text):
    before = {name: getattr(scale, name) for name in CATALOGUE_FIELDS}
    with translation.override("en"), pytest.raises(InvalidInput) as refused:
        catalogue_item_update(actor=world.users["sysadmin"], item=scale, data=changes)
    assert field in refused.value.errors
    assert text in " ".join(refused.value.errors[field])
    scale.refresh_from_db()
    assert {name: getattr(scale, name) for name in CATALOGUE_FIELDS} == before
    event = _events("catalogue_item.update").last()
    assert event.outcome == "failure" and event.details["code"] == "invalid"


@pytest.mark.django_db
def test_changing_what_makes_it_mandatory_updates_the_instruments(world, scale, instruments):
    kundulun = instruments["kundulun"]
    other = instrument_create(
        actor=world.users["ent_manager"],
        data=instrument_data(catalogue_item=scale.code, factory_number="K-9", use_field="safety"),
    )
    assert Instrument.objects.get(pk=kundulun.pk).is_mandatory and not other.is_mandatory

    catalogue_item_update(actor=world.users["sysadmin"], item=scale, data={"use_trade": False, "use_safety": True})
    assert not Instrument.objects.get(pk=kundulun.pk).is_mandatory
    assert Instrument.objects.get(pk=other.pk).is_mandatory
    assert _events("catalogue_item.update").last().details["instruments_changed"] == 3

    catalogue_item_update(actor=world.users["sysadmin"], item=scale, data={"is_active": False})
    assert not Instrument.objects.filter(catalogue_item=scale, is_mandatory=True).exists()

    catalogue_item_update(
        actor=world.users["sysadmin"], item=scale, data={"is_active": True, "use_trade": True, "use_safety": False}
    )
    assert set(Instrument.objects.filter(catalogue_item=scale, is_mandatory=True).values_list("pk", flat=True)) == {
        instruments["kundulun"].pk,
        instruments["xincheng"].pk,
    }


# --- Pages ---------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_every_signed_in_user_reads_the_catalogue(world, web, role):
    client = web(world.users[role])
    client.cookies["nqi_language"] = "en"
    listed = client.get("/metrology/catalogue/")
    assert listed.status_code == 200
    assert listed.context["page"].paginator.count == 35
    detail = client.get(f"/metrology/catalogue/{_by_name('数字指示秤').pk}/")
    assert detail.status_code == 200


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/metrology/catalogue/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.django_db
def test_unverified_entries_are_visibly_marked(world, web):
    client = web(world.users["ent_manager"])
    client.cookies["nqi_language"] = "en"
    html = client.get("/metrology/catalogue/").content.decode()
    assert 'data-testid="catalogue-warning"' in html
    assert "35 entries have not been checked against the official catalogue" in html
    assert html.count("evidence-unverified") == 27
    assert html.count("evidence-corroborated") == 8

    unverified = client.get(f"/metrology/catalogue/{_by_name('燃油加油机').pk}/").content.decode()
    assert "evidence-unverified" in unverified and "written from memory" in unverified
    assert MEMORY_SOURCE in unverified
    corroborated = client.get(f"/metrology/catalogue/{_by_name('水表（DN15–DN25）').pk}/").content.decode()
    assert "evidence-corroborated" in corroborated and "ckjsq.com" in corroborated


@pytest.mark.django_db
def test_catalogue_filters(world, web):
    client = web(world.users["ent_manager"])
    count = lambda **q: client.get("/metrology/catalogue/", q).context["page"].paginator.count  # noqa: E731
    assert count(evidence="corroborated") == 8
    assert count(q="水表") == 3
    assert count(q="3.1") == 1
    assert count(use_field="environment") == 3
    assert count(supervision="P+V") == 3


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_only_the_system_administrator_may_edit_through_pages(world, web, scale, role):
    client = web(world.users[role])
    edit = client.get(f"/metrology/catalogue/{scale.pk}/edit/")
    create = client.get("/metrology/catalogue/new/")
    if role == "sysadmin":
        assert (edit.status_code, create.status_code) == (200, 200)
    else:
        assert (edit.status_code, create.status_code) == (404, 403)
        posted = client.post(f"/metrology/catalogue/{scale.pk}/edit/", {"name": "改名"})
        assert posted.status_code == 404
        assert CatalogueItem.objects.get(pk=scale.pk).name == scale.name


def _form_data(item: CatalogueItem, **overrides) -> dict:
    data = {}
    for name in CATALOGUE_FIELDS:
        value = getattr(item, name)
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        else:
            data[name] = "" if value is None else value
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not False}


@pytest.mark.django_db
def test_system_administrator_edits_through_the_page(world, web, scale):
    client = web(world.users["sysadmin"])
    client.cookies["nqi_language"] = "en"
    response = client.post(
        f"/metrology/catalogue/{scale.pk}/edit/", _form_data(scale, evidence="verified", regulation="JJG 539-2016")
    )
    assert response.status_code == 302
    scale.refresh_from_db()
    assert (scale.evidence, scale.regulation) == ("verified", "JJG 539-2016")

    refused = client.post(f"/metrology/catalogue/{scale.pk}/edit/", _form_data(scale, supervision="P"))
    assert refused.status_code == 200
    assert "type approval only has no mandatory verification" in refused.content.decode()
    assert CatalogueItem.objects.get(pk=scale.pk).supervision == "V"


@pytest.mark.django_db
def test_system_administrator_adds_through_the_page(world, web):
    client = web(world.users["sysadmin"])
    data = {k: ("on" if v is True else v) for k, v in new_item_data().items() if v is not False}
    data["code"] = ""
    response = client.post("/metrology/catalogue/new/", data)
    assert response.status_code == 302
    assert CatalogueItem.objects.get(code="40.1").name == "谷物水分测定仪"


# --- API -----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_api_reads_for_everyone_writes_for_the_system_administrator(world, api, scale, role):
    client = api(world.users[role])
    listed = client.get("/api/v1/catalogue/", {"page_size": 100})
    assert listed.status_code == 200 and listed.json()["count"] == 35
    assert client.get(f"/api/v1/catalogue/{scale.pk}/").json()["evidence"] == "unverified"
    patched = client.patch(f"/api/v1/catalogue/{scale.pk}/", {"regulation": "JJG 539-2016"}, format="json")
    created = client.post("/api/v1/catalogue/", new_item_data(), format="json")
    if role == "sysadmin":
        assert patched.status_code == 200 and patched.json()["regulation"] == "JJG 539-2016"
        assert created.status_code == 201 and created.json()["code"] == "40.1"
    else:
        assert patched.status_code == 403 and created.status_code == 403
        assert patched.json()["code"] == "permission_denied" and patched.json()["detail"]
        assert CatalogueItem.objects.get(pk=scale.pk).regulation == scale.regulation
    # The catalogue is reference data: reading it is not a recorded data query.
    assert not AuditEvent.objects.filter(action="data.query").exists()


@pytest.mark.django_db
def test_api_refusals_have_detail_code_and_field_errors(world, api, scale):
    client = api(world.users["sysadmin"])
    client.cookies["nqi_language"] = "en"
    response = client.patch(
        f"/api/v1/catalogue/{scale.pk}/", {"verification_mode": "first_scrap", "period_months": 12}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and "period_months" in body["errors"]
    assert body["detail"].startswith("Verification interval (months): Only periodic verification")
    missing = client.post("/api/v1/catalogue/", {"name": "只有名称"}, format="json")
    assert missing.status_code == 400 and set(missing.json()["errors"]) >= {
        "level1_no",
        "level1_name",
        "supervision",
        "source",
    }
    assert client.get("/api/v1/catalogue/999999/").json()["code"] == "not_found"


@pytest.mark.django_db
def test_api_filters(world, api):
    client = api(world.users["kundulun"])
    count = lambda **q: client.get("/api/v1/catalogue/", q).json()["count"]  # noqa: E731
    assert count(evidence="unverified") == 27
    assert count(use_field="medical") == 16
    assert count(is_active="true") == 35


# --- Console -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_console_saves_through_the_service(world, web, scale):
    client = web(world.users["sysadmin"])
    assert client.get("/console/metrology/catalogueitem/").status_code == 200
    url = f"/console/metrology/catalogueitem/{scale.pk}/change/"
    assert client.get(url).status_code == 200
    response = client.post(url, _form_data(scale, regulation="JJG 539-2016《数字指示秤》"))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert CatalogueItem.objects.get(pk=scale.pk).regulation == "JJG 539-2016《数字指示秤》"
    assert _events("catalogue_item.update").last().outcome == "success"

    refused = client.post(url, _form_data(scale, supervision="P"))
    assert refused.status_code == 200
    assert CatalogueItem.objects.get(pk=scale.pk).supervision == "V"


@pytest.mark.django_db
def test_console_adds_through_the_service(world, web):
    client = web(world.users["sysadmin"])
    data = {k: ("on" if v is True else v) for k, v in new_item_data(code="40.1").items() if v is not False}
    response = client.post("/console/metrology/catalogueitem/add/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert _events("catalogue_item.create").last().outcome == "success"


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["secadmin", "auditor", "ent_manager"])
def test_console_is_closed_to_others(world, web, scale, role):
    client = web(world.users[role])
    response = client.get(f"/console/metrology/catalogueitem/{scale.pk}/change/")
    assert response.status_code in (302, 403)
