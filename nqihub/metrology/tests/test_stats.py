"""Regulators' statistics on a small hand-built data set.

TODAY = 2025-06-15, period = 2025. All instruments are made with ``bulk_create`` past the
services, so each test states exactly what is in the database. A document belongs to the period
of its verification (the result's ``verified_on``), not of its issue:

====  ========  ===========  =====  ========  ==========  ==============================================
      county    use field    filed  status    next due    documents: verified on (issued) fee/waived
====  ========  ===========  =====  ========  ==========  ==============================================
K1    昆都仑区  trade        yes    in use    2025-03-01  —                            (due, overdue)
K2    昆都仑区  trade        yes    in use    2026-05-01  cert 2025-05-01 30/30        (verified in period)
K3    昆都仑区  safety       yes    in use    —           notice 2025-04-01 30/15      (failed)
K4    昆都仑区  medical      no     scrapped  2025-01-01  cert 2024-12-30 (12-31) 30/30 (outside the period)
K5    昆都仑区  other (not mandatory)  in use  2025-01-01  —
Q1    青山区    trade        yes    in use    2025-12-31  cert 2025-02-01 20/20 superseded by its reissue
                                                          (same result, issued 2025-03-01) 20/0
Q2    青山区    environment  yes    stopped   2026-01-01  cert 2025-05-10 25/5 revoked
X1    新城区    trade        yes    in use    2026-01-02  cert 2024-12-31 (23:30) 10/0;
                                                          notice 2025-01-01 (00:10) 10/10
====  ========  ===========  =====  ========  ==========  ==============================================
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from nqihub.audit.models import AuditEvent
from nqihub.cases.services import case_open
from nqihub.metrology import selectors_stats
from nqihub.metrology.charts import bar_chart
from nqihub.metrology.models import (
    ApplicationItem,
    Instrument,
    IssuedDocument,
    Tariff,
    VerificationApplication,
    VerificationResult,
    WaiverPolicy,
)
from nqihub.metrology.selectors_stats import BadParameter, coverage_stats, parse_period, waiver_stats
from nqihub.metrology.services.documents import document_reissue
from nqihub.testing.factories import UserFactory
from nqihub.testing.workbooks import export_sheet

TODAY = datetime.date(2025, 6, 15)
YEAR = {"from": "2025-01-01", "to": "2025-12-31"}
SH = ZoneInfo("Asia/Shanghai")
D = Decimal
I = Instrument.Status  # noqa: E741


def at(y, m, d, hh=12, mm=0):
    return datetime.datetime(y, m, d, hh, mm, tzinfo=SH)


day = datetime.date


@pytest.fixture
def dataset(world, scale):
    def inst(key, org, use, *, filed=True, mandatory=True, status=I.IN_USE, due=None, verified=None):
        return Instrument(
            organization=org, division_id=org.division_id, catalogue_item=scale, name=key, factory_number=key,
            use_field=use, status=status, is_mandatory=mandatory, filed=filed, next_due_on=due, last_verified_on=verified,
        )  # fmt: skip

    k, q, x = world.ent_kundulun, world.ent_qingshan, world.ent_xincheng
    rows = [
        inst("K1", k, "trade", due=datetime.date(2025, 3, 1)),
        inst("K2", k, "trade", due=datetime.date(2026, 5, 1), verified=datetime.date(2025, 5, 1)),
        inst("K3", k, "safety"),
        inst("K4", k, "medical", filed=False, status=I.SCRAPPED, due=datetime.date(2025, 1, 1)),
        inst("K5", k, "other", filed=False, mandatory=False, due=datetime.date(2025, 1, 1)),
        inst("Q1", q, "trade", due=datetime.date(2025, 12, 31), verified=datetime.date(2025, 3, 1)),
        inst("Q2", q, "environment", status=I.STOPPED, due=datetime.date(2026, 1, 1)),
        inst("X1", x, "trade", due=datetime.date(2026, 1, 2), verified=datetime.date(2024, 12, 31)),
    ]
    Instrument.objects.bulk_create(rows)
    by = {i.factory_number: i for i in Instrument.objects.all()}
    make_documents(world, scale, by, [
        ("K2", "certificate", day(2025, 5, 1), at(2025, 5, 2), "30", "30", "valid"),
        ("K3", "notice", day(2025, 4, 1), at(2025, 4, 1), "30", "15", "valid"),
        ("K4", "certificate", day(2024, 12, 30), at(2024, 12, 31), "30", "30", "valid"),
        ("Q1", "certificate", day(2025, 2, 1), at(2025, 2, 1), "20", "20", "superseded"),
        ("Q1", "certificate", day(2025, 2, 1), at(2025, 3, 1), "20", "0", "valid"),
        ("Q2", "certificate", day(2025, 5, 10), at(2025, 5, 10), "25", "5", "revoked"),
        ("X1", "certificate", day(2024, 12, 31), at(2024, 12, 31, 23, 30), "10", "0", "valid"),
        ("X1", "notice", day(2025, 1, 1), at(2025, 1, 1, 0, 10), "10", "10", "valid"),
    ])  # fmt: skip
    return by


def make_documents(world, scale, instruments, specs):
    """``specs``: (instrument key, kind, verified on, issued at, fee, waived, state). Documents of
    the same instrument, kind and verification day share one result (a reissue); every result
    has its own application and item."""
    signers = [UserFactory(username=f"signer{n}") for n in range(3)]
    results = {}
    for key, kind, verified_on, _issued, *_rest in specs:
        if (key, kind, verified_on) in results:
            continue
        n = VerificationApplication.objects.count() + 1
        app = VerificationApplication.objects.create(
            case=case_open(kind="verification_application", actor=signers[0]),
            number=f"SQ-TEST-{n}", organization=instruments[key].organization, institution=world.institution,
            division_id=instruments[key].division_id, mode="drop_off", contact_name="张三",
            contact_phone="0472-0000000", submitted_by=signers[0], submitted_at=at(2024, 12, 1),
            accept_by=at(2024, 12, 5),
        )  # fmt: skip
        item = ApplicationItem.objects.create(application=app, instrument=instruments[key], catalogue_item=scale)
        results[(key, kind, verified_on)] = VerificationResult.objects.create(
            item=item, outcome="pass" if kind == "certificate" else "fail", verified_on=verified_on,
            verifier=signers[0], checker=signers[1], approver=signers[2], institution=world.institution,
            recorded_at=at(verified_on.year, verified_on.month, verified_on.day, 0),
        )  # fmt: skip
    IssuedDocument.objects.bulk_create(
        [
            IssuedDocument(
                number=f"DOC-{n}",
                kind=kind,
                result=results[(key, kind, verified_on)],
                instrument=instruments[key],
                institution=world.institution,
                organization=instruments[key].organization,
                division_id=instruments[key].division_id,
                issued_at=issued,
                verified_on=verified_on,
                fee=D(fee),
                waived=D(waived),
                state=state,
            )
            for n, (key, kind, verified_on, issued, fee, waived, state) in enumerate(
                specs, IssuedDocument.objects.count()
            )
        ]
    )


def row(rows, code):
    return next(r for r in rows if r.code == code)


def figures(r):
    return (r.filed, r.due, r.verified, r.overdue, r.failed, r.coverage)


# --------------------------------------------------------------------------- coverage


class TestCoverage:
    def test_baotou_by_county(self, world, dataset):
        stats = coverage_stats(world.users["baotou"], params=YEAR, today=TODAY)
        assert stats.level == "county"
        codes = {r.key for r in stats.by_region}
        assert {"150203", "150204"} <= codes and all(c.startswith("1502") for c in codes)  # only Baotou
        regions = {r.key: r for r in stats.by_region}
        assert figures(regions["150203"]) == (3, 3, 1, 1, 1, D("33.3"))
        assert figures(regions["150204"]) == (2, 1, 1, 0, 0, D("100.0"))
        assert figures(regions["150202"]) == (0, 0, 0, 0, 0, D("0.0"))  # 东河区: no data, due 0 → 0
        assert figures(stats.total) == (5, 4, 2, 1, 1, D("50.0"))
        uses = {r.key: r for r in stats.by_use_field}
        assert figures(uses["trade"]) == (3, 3, 2, 1, 0, D("66.7"))
        assert figures(uses["safety"]) == (1, 1, 0, 0, 1, D("0.0"))
        assert figures(uses["medical"]) == (0, 0, 0, 0, 0, D("0.0"))
        assert figures(uses["environment"]) == (1, 0, 0, 0, 0, D("0.0"))
        assert "other" not in uses
        assert [r.key for r in stats.by_use_field] == ["trade", "safety", "medical", "environment"]

    def test_region_by_league_and_city(self, world, dataset):
        stats = coverage_stats(world.users["region"], params=YEAR, today=TODAY)
        assert stats.level == "prefecture"
        regions = {r.key: r for r in stats.by_region}
        assert len(regions) == 12  # every 盟市, with or without data
        assert figures(regions["150200"]) == (5, 4, 2, 1, 1, D("50.0"))
        # X1: its certificate verified on 2024-12-31 (issued 23:30) is outside 2025; its notice
        # verified on 1 January (issued at 00:10, 16:10 UTC the day before) is inside. Verified in
        # the period, it was due in it, though its next due date lies after the period.
        assert figures(regions["150100"]) == (1, 1, 0, 0, 1, D("0.0"))
        assert figures(stats.total) == (6, 5, 2, 1, 2, D("40.0"))

    def test_region_can_ask_for_counties(self, world, dataset):
        stats = coverage_stats(world.users["region"], params={**YEAR, "level": "county"}, today=TODAY)
        regions = {r.key: r for r in stats.by_region}
        assert figures(regions["150203"])[:3] == (3, 3, 1)
        assert figures(regions["150102"])[:3] == (1, 1, 0)

    def test_county_sees_only_itself(self, world, dataset):
        stats = coverage_stats(world.users["kundulun"], params=YEAR, today=TODAY)
        assert [r.key for r in stats.by_region] == ["150203"]
        assert figures(stats.total) == (3, 3, 1, 1, 1, D("33.3"))
        with pytest.raises(BadParameter):
            coverage_stats(world.users["kundulun"], params={"level": "prefecture"}, today=TODAY)

    @pytest.mark.parametrize("who", ["ent_manager", "inst", "sysadmin", "auditor", "applicant"])
    def test_not_for_others(self, world, dataset, who):
        assert coverage_stats(world.users[who], params=YEAR, today=TODAY) is None
        assert waiver_stats(world.users[who], params=YEAR, today=TODAY) is None

    def test_period_month(self, world, dataset):
        stats = coverage_stats(world.users["baotou"], params={"period": "2025-05"}, today=TODAY)
        assert (stats.period.start, stats.period.end) == (datetime.date(2025, 5, 1), datetime.date(2025, 5, 31))
        # due by 31 May: K1, K3 (unknown), K2 (verified in May); Q1 due in December, verified in March
        assert figures(stats.total)[:3] == (5, 3, 1)

    def test_query_count_does_not_grow_with_rows(self, world, dataset, scale, django_assert_max_num_queries):
        user = world.users["region"]
        coverage_stats(user, params=YEAR, today=TODAY)  # resolves the acting membership once
        with django_assert_max_num_queries(3):  # instruments, documents, region names
            coverage_stats(user, params=YEAR, today=TODAY)
        with django_assert_max_num_queries(2):  # documents, region names
            waiver_stats(user, params=YEAR, today=TODAY)
        Instrument.objects.bulk_create(
            [
                Instrument(
                    organization=world.ent_qingshan,
                    division_id="150204",
                    catalogue_item=scale,
                    name="n",
                    factory_number=f"N{n}",
                    use_field="trade",
                    is_mandatory=True,
                    filed=True,
                )
                for n in range(200)
            ]
        )
        with django_assert_max_num_queries(3):
            stats = coverage_stats(user, params=YEAR, today=TODAY)
        assert stats.total.filed == 206


# --------------------------------------------------------------------------- waivers


def money(r):
    return (r.documents, r.waived_documents, r.free_documents, r.fee_total, r.waived_total)


class TestWaivers:
    def test_baotou(self, world, dataset):
        stats = waiver_stats(world.users["baotou"], params=YEAR, today=TODAY)
        assert money(row(stats.rows, "150203")) == (2, 2, 1, D("60.00"), D("45.00"))
        assert money(row(stats.rows, "150204")) == (2, 1, 0, D("45.00"), D("5.00"))  # superseded left out
        assert money(stats.total) == (4, 3, 1, D("105.00"), D("50.00"))
        assert all(r.code.startswith("1502") for r in stats.rows)

    def test_region_and_default_period(self, world, dataset):
        stats = waiver_stats(world.users["region"], params={}, today=TODAY)  # this year
        assert money(row(stats.rows, "150200")) == (4, 3, 1, D("105.00"), D("50.00"))
        assert money(row(stats.rows, "150100")) == (1, 1, 1, D("10.00"), D("10.00"))
        assert money(stats.total) == (5, 4, 2, D("115.00"), D("60.00"))
        stats = waiver_stats(world.users["region"], params={"from": "2024-01-01", "to": "2024-12-31"}, today=TODAY)
        assert money(stats.total) == (2, 1, 1, D("40.00"), D("30.00"))

    def test_county(self, world, dataset):
        stats = waiver_stats(world.users["qingshan"], params=YEAR, today=TODAY)
        assert [r.code for r in stats.rows] == ["150204"]
        assert money(stats.total) == (2, 1, 0, D("45.00"), D("5.00"))


def test_parse_period():
    assert parse_period({"period": "2025-Q2"}) == selectors_stats.Period(
        datetime.date(2025, 4, 1), datetime.date(2025, 6, 30)
    )
    assert parse_period({"period": "2024"}).end == datetime.date(2024, 12, 31)
    assert parse_period({}, today=TODAY) == selectors_stats.Period(
        datetime.date(2025, 1, 1), datetime.date(2025, 12, 31)
    )
    for bad in (
        {"period": "2025-13"},
        {"period": "x"},
        {"from": "2025-02-30"},
        {"from": "2025-05-01", "to": "2025-04-01"},
    ):
        with pytest.raises(BadParameter):
            parse_period(bad)


# --------------------------------------------------------------------------- pages, exports, API, charts


def xlsx_rows(response):
    return [list(r) for r in export_sheet(response)]


@pytest.fixture
def frozen_today(monkeypatch):
    monkeypatch.setattr(selectors_stats.timezone, "localdate", lambda *a, **k: TODAY)


class TestPages:
    def test_coverage_page_chart_and_audit(self, world, dataset, web, frozen_today):
        response = web(world.users["baotou"]).get("/metrology/statistics/", YEAR)
        assert response.status_code == 200
        html = response.content.decode()
        assert "昆都仑区" in html and "青山区" in html and "新城区" not in html
        assert html.count("<svg") == 2 and "33.3%" in html
        event = AuditEvent.objects.filter(action="data.query").latest("seq")
        assert event.details["kind"] == "statistics"

    @pytest.mark.parametrize("who", ["ent_manager", "inst", "sysadmin"])
    def test_pages_404_for_non_regulators(self, world, web, who):
        client = web(world.users[who])
        for url in ("/metrology/statistics/", "/metrology/statistics/export/",
                    "/metrology/statistics/waivers/", "/metrology/statistics/waivers/export/"):  # fmt: skip
            assert client.get(url).status_code == 404

    def test_coverage_export_has_the_page_numbers(self, world, dataset, web, frozen_today):
        response = web(world.users["baotou"]).get("/metrology/statistics/export/", YEAR)
        assert response.status_code == 200
        rows = xlsx_rows(response)
        by_code = {r[1]: r[3:] for r in rows[1:]}
        assert by_code["150203"] == [3, 3, 1, 33.3, 1, 1]
        assert by_code["safety"] == [1, 1, 0, 0.0, 0, 1]
        total = rows[-1]
        assert total[3:] == [5, 4, 2, 50.0, 1, 1]
        assert AuditEvent.objects.filter(action="data.export").exists()

    def test_waiver_page_and_export(self, world, dataset, web, frozen_today):
        client = web(world.users["region"])
        response = client.get("/metrology/statistics/waivers/", YEAR)
        assert response.status_code == 200
        html = response.content.decode()
        assert "包头市" in html and "60.00" in html and "<svg" in html
        rows = xlsx_rows(client.get("/metrology/statistics/waivers/export/", YEAR))
        baotou = next(r for r in rows if r[0] == "150200")
        assert baotou[2:] == [4, 3, 1, 105, 50]
        assert rows[-1][2:] == [5, 4, 2, 115, 60]

    def test_bad_period_shows_error(self, world, web):
        response = web(world.users["baotou"]).get("/metrology/statistics/", {"period": "nonsense"})
        assert response.status_code == 200 and response.context["error"] is not None


class TestApi:
    def test_waivers(self, world, dataset, api, frozen_today):
        response = api(world.users["baotou"]).get("/api/v1/stats/waivers/", YEAR)
        assert response.status_code == 200, response.content
        data = response.json()
        assert data["total"] == {"code": "150200", "name": data["total"]["name"], "documents": 4, "waived_documents": 3,
                                 "free_documents": 1, "fee_total": "105.00", "waived_total": "50.00"}  # fmt: skip
        assert data["level"] == "county"

    def test_metrology(self, world, dataset, api, frozen_today):
        response = api(world.users["region"]).get("/api/v1/stats/metrology/", {"period": "2025"})
        assert response.status_code == 200, response.content
        data = response.json()
        baotou = next(r for r in data["by_region"] if r["code"] == "150200")
        assert baotou | {"name": ""} == {"code": "150200", "name": "", "filed": 5, "due": 4, "verified": 2,
                                         "coverage": "50.0", "overdue": 1, "failed": 1}  # fmt: skip
        assert AuditEvent.objects.filter(action="data.query", details__kind="statistics").exists()

    @pytest.mark.parametrize("who", ["ent_manager", "inst", "sysadmin"])
    def test_refused_for_non_regulators(self, world, api, who):
        for url in ("/api/v1/stats/waivers/", "/api/v1/stats/metrology/"):
            response = api(world.users[who]).get(url)
            assert response.status_code == 403
            assert set(response.json()) >= {"detail", "code"}

    def test_bad_parameter_is_400(self, world, api):
        response = api(world.users["baotou"]).get("/api/v1/stats/metrology/", {"level": "province"})
        assert response.status_code == 400 and response.json()["code"] == "invalid"

    def test_tariff_api(self, world, api, scale):
        admin = api(world.users["sysadmin"])
        response = admin.post("/api/v1/tariffs/", {"catalogue_item": scale.code, "price": "12.5",
                                                   "valid_from": "2025-01-01", "source": "测试"}, format="json")  # fmt: skip
        assert response.status_code == 201, response.content
        assert api(world.users["baotou"]).get("/api/v1/tariffs/").json()["count"] == 1
        assert api(world.users["ent_manager"]).get("/api/v1/tariffs/").json()["count"] == 0

    POLICY = {
        "name": "小微企业减免",
        "basis": "campaign",
        "percentage": 50,
        "valid_from": "2025-01-01",
        "source": "测试",
    }

    @pytest.mark.parametrize("who", ["baotou", "ent_manager", "inst"])
    def test_only_the_system_administrator_writes_fee_configuration(self, world, api, scale, who):
        """Refused with exactly 403 whatever the body (valid, empty or nonsense): the right to
        write is checked before the input, and nothing is created or changed."""
        tariff = Tariff.objects.create(
            catalogue_item=scale, price=D("12.50"), valid_from=day(2025, 1, 1), source="测试"
        )
        policy = WaiverPolicy.objects.create(
            name="旧政策", basis="campaign", percentage=10, valid_from=day(2025, 1, 1), source="测试"
        )
        client = api(world.users[who])
        tariff_body = {"catalogue_item": scale.code, "price": "30", "valid_from": "2025-01-01", "source": "测试"}
        for url, body in (("/api/v1/tariffs/", tariff_body), ("/api/v1/waiver-policies/", self.POLICY)):
            for sent in (body, {}, {"price": "x", "percentage": "lots"}):
                response = client.post(url, sent, format="json")
                assert response.status_code == 403, (url, sent, response.content)
                assert response.json()["code"] == "permission_denied"
        # A regulator sees the rows, so changing one is refused with 403 (others do not see them: 404).
        expected = 403 if who == "baotou" else 404
        for url, body in ((f"/api/v1/tariffs/{tariff.pk}/", {"price": "99"}),
                          (f"/api/v1/waiver-policies/{policy.pk}/", {"percentage": 100}),
                          (f"/api/v1/waiver-policies/{policy.pk}/", {"percentage": "lots"})):  # fmt: skip
            assert client.patch(url, body, format="json").status_code == expected, url
        assert Tariff.objects.count() == 1 and Tariff.objects.get().price == D("12.50")
        assert WaiverPolicy.objects.count() == 1 and WaiverPolicy.objects.get().percentage == 10
        denied = AuditEvent.objects.filter(outcome="denied", action__in=["tariff.create", "waiver_policy.create"])
        assert denied.count() == 6
        if who == "baotou":
            assert (
                AuditEvent.objects.filter(
                    outcome="denied", action__in=["tariff.update", "waiver_policy.update"]
                ).count()
                == 3
            )

    def test_system_administrator_still_gets_input_errors(self, world, api):
        response = api(world.users["sysadmin"]).post("/api/v1/waiver-policies/", {}, format="json")
        assert response.status_code == 400 and WaiverPolicy.objects.count() == 0
        response = api(world.users["sysadmin"]).post("/api/v1/waiver-policies/", self.POLICY, format="json")
        assert response.status_code == 201, response.content


def test_chart_has_names_and_title():
    svg = str(bar_chart(title="受检率", bars=[("包头市", D("50.0")), ("呼和浩特<市>", 0)], unit="%", max_value=100))
    assert svg.startswith("<svg") and "<title" in svg and 'role="img"' in svg
    assert "包头市" in svg and "呼和浩特&lt;市&gt;" in svg and "50.0%" in svg


# --------------------------------------------------------------------------- periods of verification


class TestReissue:
    def test_a_reissue_changes_nothing_in_the_period_of_the_verification(self, world, dataset, monkeypatch):
        """K2's certificate (verified 2025-05-01, 30 yuan waived in full) is reissued in March
        2026: its fee, waiver and verification stay in 2025, and 2026 gets none of them."""
        baotou = world.users["baotou"]
        in_2026 = {"period": "2026"}

        def waivers_2025():
            return money(row(waiver_stats(baotou, params=YEAR, today=TODAY).rows, "150203"))

        def coverage_2025():
            return figures(coverage_stats(baotou, params=YEAR, today=TODAY).total)

        assert waivers_2025() == (2, 2, 1, D("60.00"), D("45.00"))
        assert coverage_2025() == (5, 4, 2, 1, 1, D("50.0"))
        certificate = IssuedDocument.objects.get(instrument=dataset["K2"], state="valid")
        monkeypatch.setattr(timezone, "now", lambda: at(2026, 3, 1, 9))
        new = document_reissue(actor=world.users["inst"], document=certificate, reason="单位名称更正")
        assert new.issued_at.year == 2026 and new.waived == D("30.00")
        assert IssuedDocument.objects.get(pk=certificate.pk).state == "superseded"

        assert waivers_2025() == (2, 2, 1, D("60.00"), D("45.00"))
        assert coverage_2025() == (5, 4, 2, 1, 1, D("50.0"))
        later = day(2026, 3, 2)
        assert money(waiver_stats(baotou, params=in_2026, today=later).total) == (0, 0, 0, D("0.00"), D("0.00"))
        assert coverage_stats(baotou, params=in_2026, today=later).total.verified == 0


class TestCoverageWithinDue:
    def test_verified_then_stopped_or_scrapped_cannot_push_coverage_over_100(self, world, dataset, scale):
        """青山区 gets S1 (verified in April, then stopped), S2 (verified, then scrapped), S3
        (verified in March 2025 and again in January 2026, so its dates point past 2025) and S4
        (stopped and overdue, never verified). Before, the certificates counted whatever the
        instrument's status and dates while "due" counted only instruments in use and due by
        date: 4 verified out of 2 due. Now all of them are in one population."""
        q = world.ent_qingshan

        def inst(key, status, due, verified=None):
            return Instrument(
                organization=q, division_id=q.division_id, catalogue_item=scale, name=key, factory_number=key,
                use_field="trade", status=status, is_mandatory=True, filed=True, next_due_on=due,
                last_verified_on=verified,
            )  # fmt: skip

        Instrument.objects.bulk_create([
            inst("S1", I.STOPPED, day(2026, 4, 1), day(2025, 4, 1)),
            inst("S2", I.SCRAPPED, day(2026, 4, 2), day(2025, 4, 2)),
            inst("S3", I.IN_USE, day(2027, 1, 15), day(2026, 1, 15)),
            inst("S4", I.STOPPED, day(2025, 2, 1)),
        ])  # fmt: skip
        by = {i.factory_number: i for i in Instrument.objects.filter(factory_number__startswith="S")}
        make_documents(world, scale, by, [
            ("S1", "certificate", day(2025, 4, 1), at(2025, 4, 1), "0", "0", "valid"),
            ("S2", "certificate", day(2025, 4, 2), at(2025, 4, 3), "0", "0", "valid"),
            ("S3", "certificate", day(2025, 3, 1), at(2025, 3, 1), "0", "0", "valid"),
            ("S3", "certificate", day(2026, 1, 15), at(2026, 1, 15), "0", "0", "valid"),
        ])  # fmt: skip
        stats = coverage_stats(world.users["baotou"], params=YEAR, today=TODAY)
        # filed: Q1, Q2, S1, S3, S4 (S2 scrapped); due: Q1, S4 by date, S1, S2, S3 verified in
        # 2025; verified: Q1, S1, S2, S3; overdue: S4.
        assert figures(row_of(stats.by_region, "150204")) == (5, 5, 4, 1, 0, D("80.0"))
        assert figures(stats.total) == (8, 8, 5, 2, 1, D("62.5"))
        for r in (*stats.by_region, *stats.by_use_field, stats.total, *stats.cells.values()):
            assert r.verified <= r.due and r.failed <= r.due and r.coverage <= 100, r
        # 2026: S3 is verified in January and its next date is in 2027 (due through it).
        stats = coverage_stats(world.users["baotou"], params={"period": "2026"}, today=day(2026, 6, 1))
        assert figures(row_of(stats.by_region, "150204"))[1:3] == (5, 1)  # Q1, Q2, S1, S4 by date; S3 verified


def row_of(rows, key):
    return next(r for r in rows if r.key == key)


# --------------------------------------------------------------------------- periods out of range

OUT_OF_RANGE = [
    {"period": "0000"},
    {"period": "9999"},
    {"period": "9999-12"},
    {"period": "0000-Q1"},
    {"period": "1948"},
    {"period": "2201-01"},
    {"from": "9999-12-31"},
    {"from": "0001-01-01", "to": "2025-01-01"},
    {"to": "9999-12-31"},
]


@pytest.mark.parametrize("params", OUT_OF_RANGE)
def test_years_out_of_range_are_a_bad_parameter(params):
    with pytest.raises(BadParameter) as caught:
        parse_period(params, today=TODAY)
    assert "1949" in caught.value.message and "2200" in caught.value.message
    assert caught.value.name in params


def test_the_years_at_the_edges_are_accepted():
    assert parse_period({"period": "1949"}).start == day(1949, 1, 1)
    assert parse_period({"period": "2200-12"}).bounds()[1].date() == day(2201, 1, 1)
    assert parse_period({"from": "2200-12-31"}).end == day(2200, 12, 31)


@pytest.mark.parametrize("params", OUT_OF_RANGE)
def test_pages_answer_out_of_range_periods_with_the_message(world, web, params):
    client = web(world.users["baotou"])
    for url in ("/metrology/statistics/", "/metrology/statistics/waivers/"):
        response = client.get(url, params)
        assert response.status_code == 200, url
        assert "1949" in response.context["error"].message
        assert "1949" in response.content.decode()
    for url in ("/metrology/statistics/export/", "/metrology/statistics/waivers/export/"):
        response = client.get(url, params)
        assert response.status_code == 302, url


@pytest.mark.parametrize("params", OUT_OF_RANGE)
def test_api_answers_out_of_range_periods_with_400(world, api, params):
    client = api(world.users["baotou"])
    for url in ("/api/v1/stats/metrology/", "/api/v1/stats/waivers/"):
        response = client.get(url, params)
        assert response.status_code == 400, (url, response.content)
        body = response.json()
        assert body["code"] == "invalid" and "1949" in body["detail"]
