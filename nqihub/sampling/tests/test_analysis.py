"""The regulators' analysis (pass rates on a small known set, by category, region, type,
quarter; this year against last; failures by test item), its scoping, page, export and API; and
the risk score."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import openpyxl
import pytest

from nqihub.audit.models import AuditEvent
from nqihub.cases import services as case_services
from nqihub.core.errors import Forbidden, InvalidInput
from nqihub.sampling.models import AnnualPlan, Batch, PoolObject, SamplingRecord, SamplingRule
from nqihub.sampling.services.analysis import clean_filters, refresh_risk_scores, sampling_analysis

from .disclosure_records import make_record, set_state

FINAL, REFUSED, NOTIFIED = SamplingRecord.Stage.FINAL, SamplingRecord.Stage.REFUSED, SamplingRecord.Stage.NOTIFIED


def _last_year_batch(sampling, world) -> Batch:
    case = case_services.case_open(
        kind="sampling_plan",
        actor=world.users["baotou"],
        applicant_organization=world.baotou_reg,
        handling_organization=world.region_reg,
        division=world.baotou_reg.division,
    )
    plan = AnnualPlan.objects.create(
        case=case, regulator=world.baotou_reg, division_id="150200", year=2025, title="包头市2025年计划"
    )
    return Batch.objects.create(
        plan=plan,
        number="CC2025-0001",
        kind=Batch.Kind.SPECIAL,
        title="2025年乳制品专项抽查",
        item=sampling.item,
        rules=sampling.rules,
        organizer=world.baotou_reg,
        division_id="150200",
        object_count=1,
        starts_on=datetime.date(2025, 5, 10),
        ends_on=datetime.date(2025, 6, 30),
        created_by=world.users["baotou"],
        state=Batch.State.DISCLOSED,
    )


@pytest.fixture
def known(sampling, world):
    """2026 (batch started 2026-02-10, Q1, double-random), in 包头市:
    昆都仑区 150203: kundulun unqualified (蛋白质), more1 and more2 qualified;
    青山区 150204: qingshan qualified after 菌落总数 failed and was re-tested qualified, more3
    refused, more4 only notified (not counted). 2025 (Q2, special): more5 (150202) qualified."""
    actor = world.users["baotou"]
    batch = set_state(
        sampling.batch, Batch.State.SAMPLING, starts_on=datetime.date(2026, 2, 10), ends_on=datetime.date(2026, 4, 1)
    )
    o = sampling.objects
    make_record(sampling, o["kundulun"], actor=actor, batch=batch, fails=(1,))
    make_record(sampling, o["more1"], actor=actor, batch=batch)
    make_record(sampling, o["more2"], actor=actor, batch=batch)
    make_record(sampling, o["qingshan"], actor=actor, batch=batch, fails=(2,), retests={2: "pass"})
    make_record(sampling, o["more3"], actor=actor, batch=batch, stage=REFUSED)
    make_record(sampling, o["more4"], actor=actor, batch=batch, stage=NOTIFIED)
    make_record(sampling, o["more5"], actor=actor, batch=_last_year_batch(sampling, world))
    return batch


def _rows(rows):
    return {r.key: (r.tested, r.passed, r.failed, r.refused, r.pass_rate) for r in rows}


def test_pass_rates_of_the_city(known, world):
    result = sampling_analysis(world.users["baotou"], year=2026)
    assert (result.total.tested, result.total.passed, result.total.failed, result.total.refused) == (4, 3, 1, 1)
    assert result.total.pass_rate == Decimal("75.0")
    assert _rows(result.by_region) == {
        "150203": (3, 2, 1, 0, Decimal("66.7")),
        "150204": (1, 1, 0, 1, Decimal("100.0")),
    }
    assert _rows(result.by_category) == {"C01": (4, 3, 1, 1, Decimal("75.0"))}
    assert _rows(result.by_kind) == {"random": (4, 3, 1, 1, Decimal("75.0"))}
    assert _rows(result.by_quarter) == {"Q1": (4, 3, 1, 1, Decimal("75.0"))}
    # 菌落总数 failed the first test but the re-test is final: not a failure.
    assert result.failures_by_item == [("蛋白质", 1)]
    assert (result.last_total.tested, result.last_total.pass_rate) == (1, Decimal("100.0"))
    [dairy] = result.comparison
    assert (dairy.this_year.pass_rate, dairy.last_year.pass_rate, dairy.change) == (
        Decimal("75.0"),
        Decimal("100.0"),
        Decimal("-25.0"),
    )


def test_the_region_sees_its_cities_and_a_county_only_itself(known, world):
    region = sampling_analysis(world.users["region"], year=2026)
    assert _rows(region.by_region) == {"150200": (4, 3, 1, 1, Decimal("75.0"))}
    county = sampling_analysis(world.users["kundulun"], year=2026)
    assert _rows(county.by_region) == {"150203": (3, 2, 1, 0, Decimal("66.7"))}
    assert county.total.refused == 0
    assert county.last_total.tested == 0  # 150202 is not 昆都仑区's
    other = sampling_analysis(world.users["qingshan"], year=2026)
    assert _rows(other.by_region) == {"150204": (1, 1, 0, 1, Decimal("100.0"))}
    assert other.failures_by_item == []
    elsewhere = sampling_analysis(world.users["xincheng"], year=2026)
    assert elsewhere.total.tested == 0 and elsewhere.by_region == []


def test_filters(known, world):
    assert sampling_analysis(world.users["baotou"], year=2026, kind="special").total.tested == 0
    assert sampling_analysis(world.users["baotou"], year=2025, kind="special").total.tested == 1
    only = clean_filters({"year": "2026", "kind": "random", "category": "C01"})
    assert sampling_analysis(world.users["baotou"], **only).total.tested == 4
    for bad in ({"year": "20x6"}, {"kind": "nope"}, {"category": "C99"}, {"year": "1900"}):
        with pytest.raises(InvalidInput):
            clean_filters(bad)


@pytest.mark.parametrize("who", ["ent_manager", "inst", "applicant", "sysadmin"])
def test_only_regulators_analyse(known, world, who, web, api):
    with pytest.raises(Forbidden):
        sampling_analysis(world.users[who], year=2026)
    assert web(world.users[who]).get("/sampling/analysis/").status_code == 404
    assert web(world.users[who]).get("/sampling/analysis/export/").status_code == 404
    assert api(world.users[who]).get("/api/v1/sampling-analysis/").status_code == 403


def test_anonymous_is_sent_to_sign_in(known, client):
    assert client.get("/sampling/analysis/").status_code == 302
    assert client.get("/api/v1/sampling-analysis/").status_code == 401


def test_page_export_and_api(known, world, web, api):
    page = web(world.users["baotou"]).get("/sampling/analysis/?year=2026")
    assert page.status_code == 200
    html = page.content.decode()
    assert "75.0%" in html and "66.7%" in html and "蛋白质" in html and "昆都仑区" in html
    assert AuditEvent.objects.filter(action="data.query", details__kind="statistics").exists()
    bad = web(world.users["baotou"]).get("/sampling/analysis/?year=abc")
    assert bad.status_code == 400 and "不是有效的值" in bad.content.decode()

    export = web(world.users["baotou"]).get("/sampling/analysis/export/?year=2026")
    assert export.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(export.content)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert any(row[:8] == ["按地区", "150203", "昆都仑区", 3, 2, 1, 66.7, 0] for row in values)
    assert AuditEvent.objects.filter(action="data.export").exists()

    body = api(world.users["kundulun"]).get("/api/v1/sampling-analysis/?year=2026").json()
    assert body["jurisdiction"] == "150203"
    assert body["total"] == {
        "key": "total",
        "name": "total",
        "tested": 3,
        "passed": 2,
        "failed": 1,
        "pass_rate": "66.7",
        "refused": 0,
    }
    assert body["failures_by_item"] == [{"test_item": "蛋白质", "records": 1}]
    assert api(world.users["baotou"]).get("/api/v1/sampling-analysis/?kind=bad").status_code == 400


def test_the_region_name_is_chinese_in_the_region_breakdown(known, world):
    result = sampling_analysis(world.users["baotou"], year=2026)
    assert {r.name for r in result.by_region} == {"昆都仑区", "青山区"}


# --------------------------------------------------------------------------- risk


def test_risk_score_from_failures_complaints_and_the_abnormal_list(known, sampling, world):
    o = sampling.objects
    PoolObject.objects.filter(pk=o["more2"].pk).update(abnormal_listed=True)
    PoolObject.objects.filter(pk=o["xincheng"].pk).update(complaints=25, earlier_failures=2)
    updated = refresh_risk_scores()
    assert updated == PoolObject.objects.count()
    scores = dict(PoolObject.objects.values_list("pk", "risk_score"))
    # Default weights: 0.5 a complaint up to 6, 1 an earlier failure, 2 on the abnormal list.
    assert scores[o["kundulun"].pk] == Decimal("2.00")  # one final failure
    assert PoolObject.objects.get(pk=o["kundulun"].pk).earlier_failures == 1
    assert scores[o["qingshan"].pk] == Decimal("2.50")  # re-tested qualified; 3 complaints × 0.5
    assert scores[o["more2"].pk] == Decimal("3.00")  # abnormal list
    assert scores[o["more1"].pk] == Decimal("2.00")  # one imported earlier failure (fixture: n % 2)
    assert scores[o["xincheng"].pk] == Decimal("6.00")  # 2 failures + complaints capped at 6 × 0.5
    assert PoolObject.objects.get(pk=o["xincheng"].pk).earlier_failures == 2  # the imported count stays
    assert scores[o["more4"].pk] == Decimal("1.00")


def test_risk_weights_are_rule_data_and_actor_scoped(known, sampling, world):
    SamplingRule.objects.filter(code="risk_failure_weight_percent").update(value=250)
    o = sampling.objects
    # 昆都仑区 may change only its own objects.
    refresh_risk_scores(actor=world.users["kundulun"])
    kundulun, qingshan = PoolObject.objects.get(pk=o["kundulun"].pk), PoolObject.objects.get(pk=o["qingshan"].pk)
    assert kundulun.risk_score == Decimal("3.50")
    assert qingshan.risk_score == Decimal("1.00")  # not refreshed: another county's
    refresh_risk_scores(objects=[o["qingshan"].pk])
    assert PoolObject.objects.get(pk=o["qingshan"].pk).risk_score == Decimal("2.50")
