"""Fees and waivers: the quote rules, the bulk quoter, and editing tariffs and policies."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from nqihub.audit.models import AuditEvent
from nqihub.core.errors import Forbidden, InvalidInput
from nqihub.metrology.models import Tariff, WaiverPolicy
from nqihub.metrology.services.fees import (
    FeeQuoter,
    quote_fee,
    tariff_create,
    tariff_update,
    waived_amount,
    waiver_policy_create,
    waiver_policy_update,
)
from nqihub.organizations.credit_code import make_credit_code, make_organisation_code
from nqihub.testing.factories import OrganizationFactory

DAY = datetime.date(2025, 6, 1)
D = Decimal


def tariff(item, price, *, division=None, valid_from=datetime.date(2025, 1, 1), valid_until=None):
    return Tariff.objects.create(
        catalogue_item=item,
        division_id=division,
        price=D(price),
        valid_from=valid_from,
        valid_until=valid_until,
        source="test",
    )


def policy(percentage, basis=WaiverPolicy.Basis.CAMPAIGN, **kw):
    kw.setdefault("valid_from", datetime.date(2025, 1, 1))
    return WaiverPolicy.objects.create(name=f"p{percentage}", basis=basis, percentage=percentage, source="test", **kw)


def quote(item, org, day=DAY):
    return quote_fee(catalogue_item=item, organization=org, on_date=day)


@pytest.fixture
def getihu(world):
    """An individual business (个体工商户, credit code 92…) in 昆都仑区."""
    return OrganizationFactory(
        name="昆都仑区某水果店",
        division_id="150203",
        credit_code=make_credit_code(authority="9", category="2", body=make_organisation_code("30000001")),
    )


class TestTariff:
    def test_no_tariff_is_free_of_charge(self, world, scale):
        assert quote(scale, world.ent_kundulun) == (D("0.00"), D("0.00"), None)

    def test_most_specific_division_wins(self, world, scale):
        tariff(scale, "30")
        tariff(scale, "25", division="150000")
        tariff(scale, "20", division="150200")
        tariff(scale, "99", division="150100")  # 呼和浩特: not for Baotou enterprises
        assert quote(scale, world.ent_kundulun)[0] == D("20.00")
        assert quote(scale, world.ent_xincheng)[0] == D("99.00")  # 新城区 is in 呼和浩特
        Tariff.objects.filter(division="150100").delete()
        assert quote(scale, world.ent_xincheng)[0] == D("25.00")  # region-wide beats platform-wide
        tariff(scale, "18", division="150203")
        assert quote(scale, world.ent_kundulun)[0] == D("18.00")
        assert quote(scale, world.ent_qingshan)[0] == D("20.00")

    def test_validity_dates(self, world, scale):
        tariff(scale, "10", valid_from=datetime.date(2024, 1, 1), valid_until=datetime.date(2024, 12, 31))
        tariff(scale, "12", valid_from=datetime.date(2025, 1, 1))
        tariff(scale, "15", valid_from=datetime.date(2026, 1, 1))
        assert quote(scale, world.ent_kundulun, datetime.date(2024, 12, 31))[0] == D("10.00")
        assert quote(scale, world.ent_kundulun, datetime.date(2025, 1, 1))[0] == D("12.00")
        assert quote(scale, world.ent_kundulun, datetime.date(2026, 3, 1))[0] == D("15.00")  # the later start wins
        assert quote(scale, world.ent_kundulun, datetime.date(2023, 1, 1))[0] == D("0.00")

    def test_other_items_tariff_does_not_apply(self, world, scale, p_only_item):
        tariff(p_only_item, "40")
        assert quote(scale, world.ent_kundulun)[0] == D("0.00")


class TestWaiver:
    def test_item_basis(self, world, scale, p_only_item):
        tariff(scale, "30")
        p = policy(100, WaiverPolicy.Basis.ITEM, catalogue_item=scale)
        policy(100, WaiverPolicy.Basis.ITEM, catalogue_item=p_only_item)
        assert quote(scale, world.ent_kundulun) == (D("30.00"), D("30.00"), p)

    def test_user_type_basis(self, world, scale, getihu):
        tariff(scale, "30")
        p = policy(50, WaiverPolicy.Basis.USER_TYPE, credit_code_prefix="92")
        assert quote(scale, getihu) == (D("30.00"), D("15.00"), p)
        assert quote(scale, world.ent_kundulun) == (D("30.00"), D("0.00"), None)  # a 91… company

    def test_campaign_applies_to_all_within_its_dates(self, world, scale):
        tariff(scale, "30")
        p = policy(20, valid_until=datetime.date(2025, 5, 20))
        assert quote(scale, world.ent_kundulun, datetime.date(2025, 5, 20)) == (D("30.00"), D("6.00"), p)
        assert quote(scale, world.ent_kundulun, datetime.date(2025, 5, 21)) == (D("30.00"), D("0.00"), None)

    def test_inactive_policy_ignored(self, world, scale):
        tariff(scale, "30")
        policy(100, is_active=False)
        assert quote(scale, world.ent_kundulun)[1] == D("0.00")

    def test_highest_percentage_wins(self, world, scale, getihu):
        tariff(scale, "30")
        policy(30)
        best = policy(80, WaiverPolicy.Basis.USER_TYPE, credit_code_prefix="92")
        policy(50, WaiverPolicy.Basis.ITEM, catalogue_item=scale)
        assert quote(scale, getihu) == (D("30.00"), D("24.00"), best)
        assert quote(scale, world.ent_kundulun)[1:] == (D("15.00"), WaiverPolicy.objects.get(percentage=50))

    def test_division_limited_policy(self, world, scale):
        tariff(scale, "30")
        p = policy(100, division_id="150200")
        assert quote(scale, world.ent_kundulun) == (D("30.00"), D("30.00"), p)
        assert quote(scale, world.ent_xincheng) == (D("30.00"), D("0.00"), None)

    def test_rounding_half_up_to_the_cent(self, world, scale):
        tariff(scale, "0.05")
        policy(50)  # 0.025 → 0.03
        assert quote(scale, world.ent_kundulun)[:2] == (D("0.05"), D("0.03"))
        assert waived_amount(D("33.33"), 33) == D("11.00")  # 10.9989
        assert waived_amount(D("10.10"), 5) == D("0.51")  # 0.505

    def test_never_above_fee_and_nothing_when_no_fee(self, world, scale):
        assert waived_amount(D("12.34"), 100) == D("12.34")
        assert waived_amount(D("0"), 100) == D("0.00")
        policy(100)
        assert quote(scale, world.ent_kundulun) == (D("0.00"), D("0.00"), None)
        tariff(scale, "0")
        assert quote(scale, world.ent_kundulun) == (D("0.00"), D("0.00"), None)

    def test_two_queries(self, world, scale, django_assert_max_num_queries):
        tariff(scale, "30")
        policy(50)
        org = type(world.ent_kundulun).objects.select_related("division").get(pk=world.ent_kundulun.pk)
        with django_assert_max_num_queries(2):
            assert quote(scale, org)[1] == D("15.00")


class TestFeeQuoter:
    def test_same_answers_without_queries(self, world, scale, p_only_item, getihu, django_assert_num_queries):
        tariff(scale, "30")
        tariff(scale, "20", division="150200")
        tariff(p_only_item, "8.88")
        policy(50, WaiverPolicy.Basis.USER_TYPE, credit_code_prefix="92")
        policy(100, WaiverPolicy.Basis.ITEM, catalogue_item=p_only_item, division_id="150100")
        orgs = list(type(getihu).objects.select_related("division").filter(kind="enterprise"))
        with django_assert_num_queries(2):
            quoter = FeeQuoter(DAY)
        with django_assert_num_queries(0):
            answers = [
                quoter.quote(catalogue_item=item, organization=org) for org in orgs for item in (scale, p_only_item)
            ]
        assert answers == [quote(item, org) for org in orgs for item in (scale, p_only_item)]
        assert quoter.quote(catalogue_item=None, organization=orgs[0]) == (D("0.00"), D("0.00"), None)


def tariff_data(item, **kw):
    return {"catalogue_item": item.code, "price": "30.00", "valid_from": "2025-01-01", "source": "测试收费标准", **kw}


def policy_data(**kw):
    return {"name": "个体工商户免费检定", "basis": "user_type", "credit_code_prefix": "92", "percentage": "100",
            "valid_from": "2025-01-01", "source": "测试文件", **kw}  # fmt: skip


class TestEditing:
    def test_sysadmin_creates_and_changes_tariff_audited(self, world, scale):
        admin = world.users["sysadmin"]
        t = tariff_create(actor=admin, data=tariff_data(scale, division="150200"))
        assert (t.price, t.division_id) == (D("30.00"), "150200")
        t = tariff_update(actor=admin, tariff=t, data={"price": "32.5"})
        assert Tariff.objects.get().price == D("32.50")
        actions = list(AuditEvent.objects.filter(action__startswith="tariff.").values_list("action", flat=True))
        assert sorted(actions) == ["tariff.create", "tariff.update"]

    @pytest.mark.parametrize("who", ["region", "ent_manager", "secadmin", "auditor"])
    def test_others_refused_and_recorded(self, world, scale, who):
        with pytest.raises(Forbidden):
            tariff_create(actor=world.users[who], data=tariff_data(scale))
        with pytest.raises(Forbidden):
            waiver_policy_create(actor=world.users[who], data=policy_data())
        assert not Tariff.objects.exists() and not WaiverPolicy.objects.exists()
        assert AuditEvent.objects.filter(action="tariff.create", outcome="denied").count() == 1

    @pytest.mark.parametrize(
        "change, field",
        [
            ({"price": "-1"}, "price"),
            ({"price": "abc"}, "price"),
            ({"price": "1.234"}, "price"),
            ({"valid_until": "2024-12-31"}, "valid_until"),
            ({"source": ""}, "source"),
            ({"catalogue_item": ""}, "catalogue_item"),
            ({"catalogue_item": "no-such"}, "catalogue_item"),
        ],
    )
    def test_tariff_validation(self, world, scale, change, field):
        with pytest.raises(InvalidInput) as exc:
            tariff_create(actor=world.users["sysadmin"], data=tariff_data(scale, **change))
        assert field in exc.value.errors
        assert not Tariff.objects.exists()
        assert AuditEvent.objects.filter(action="tariff.create", outcome="failure").exists()

    @pytest.mark.parametrize(
        "change, field",
        [
            ({"percentage": "0"}, "percentage"),
            ({"percentage": "101"}, "percentage"),
            ({"credit_code_prefix": ""}, "credit_code_prefix"),
            ({"credit_code_prefix": "9I"}, "credit_code_prefix"),  # I is not in the charset
            ({"basis": "item"}, "catalogue_item"),
            ({"basis": "other"}, "basis"),
            ({"source": " "}, "source"),
            ({"valid_until": "2024-01-01"}, "valid_until"),
        ],
    )
    def test_policy_validation(self, world, change, field):
        with pytest.raises(InvalidInput) as exc:
            waiver_policy_create(actor=world.users["sysadmin"], data=policy_data(**change))
        assert field in exc.value.errors
        assert not WaiverPolicy.objects.exists()

    def test_policy_basis_fields_kept_consistent(self, world, scale):
        admin = world.users["sysadmin"]
        p = waiver_policy_create(actor=admin, data=policy_data(credit_code_prefix="n1", catalogue_item=scale.code))
        assert (p.credit_code_prefix, p.catalogue_item) == ("N1", None)  # an item only for item waivers
        p = waiver_policy_update(actor=admin, policy=p, data={"basis": "item", "catalogue_item": scale.pk})
        assert (p.basis, p.catalogue_item, p.credit_code_prefix) == ("item", scale, "")
        p = waiver_policy_update(actor=admin, policy=p, data={"is_active": False})
        assert WaiverPolicy.objects.get().is_active is False
