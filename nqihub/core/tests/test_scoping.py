"""The scoping base: every model people reach declares its scope, and the actor rules that
are written once in ``core.scoping`` hold for every model that uses them.

The tests try to cross the line: an anonymous user, a deactivated user, an enterprise of
another county, a city regulator where only a county regulator reviews, staff without the
capability, and an action nobody declared."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.auth.models import AnonymousUser

from nqihub.core.scoping import ScopedQuerySet
from nqihub.metrology.models import CatalogueItem, Tariff, WaiverPolicy
from nqihub.organizations.models import EnterpriseRegistration, Organization
from nqihub.organizations.services import registration_submit
from nqihub.testing.factories import valid_code

# Models nobody lists or opens by themselves, each with the reason.
UNSCOPED = {
    "accounts.User": "people are reached through memberships (Membership.for_user); auth owns the table",
    "accounts.SecurityPolicy": "one configuration row, read by sign-in and edited only through its service",
    "audit.AuditChainHead": "the counter that serialises audit appends; never shown",
    "core.RateCounter": "a rate-limit window counted by core.ratelimit; never shown",
    "cases.NumberCounter": "the locked number counter; never shown",
    "cases.CaseReminder": "a record of reminders sent, read by the daily job only",
    "cases.CaseEvent": "a timeline step, shown only with its case (Case.for_user)",
    "cases.CaseAttachment": "shown and downloaded only through its case (Case.for_user)",
    "cases.CaseDeadline": "a countdown shown only with its case (Case.for_user)",
    "organizations.InstitutionDiscipline": "part of an organisation's profile (Organization.for_user)",
    "organizations.OrganizationContact": "part of an organisation's profile (Organization.for_user)",
    "metrology.MetrologyPolicy": "one configuration row, read by the services that apply it",
    "metrology.ReminderLog": "a log of reminders sent once; never shown",
    "sampling.SamplingRule": "configuration rows read by the services that apply them",
    "sampling.BatchInstitution": "part of its batch (Batch.for_user)",
    "sampling.Selection": "shown only with its batch and draw (Batch.for_user, Draw.for_user)",
    "sampling.Assignment": "shown only with its drawn object's batch (Batch.for_user)",
    "sampling.SwitchingRules": "one configuration row (GB/T 2828.1 switching rules), shown to staff with the plans",
}


def _project_models():
    return [m for m in apps.get_models() if m.__module__.startswith("nqihub.")]


def test_every_model_people_reach_declares_a_scope():
    missing = [
        m._meta.label
        for m in _project_models()
        if m._meta.label not in UNSCOPED and not hasattr(m._default_manager, "for_user")
    ]
    assert missing == [], f"models without for_user (give them a scope or list why in UNSCOPED): {missing}"


def test_the_exceptions_are_still_real():
    labels = {m._meta.label for m in _project_models()}
    assert set(UNSCOPED) <= labels
    scoped = [label for label in UNSCOPED if hasattr(apps.get_model(label)._default_manager, "for_user")]
    assert scoped == [], f"these now have a scope; take them off the exception list: {scoped}"


def _scoped_models():
    return [m for m in _project_models() if isinstance(m._default_manager.all(), ScopedQuerySet)]


def test_the_hand_written_for_user_are_gone():
    hand_written = [
        m._meta.label
        for m in _project_models()
        if hasattr(m._default_manager, "for_user") and not isinstance(m._default_manager.all(), ScopedQuerySet)
    ]
    # An authorisation scope's rows follow its organisation's scope.
    assert hand_written == ["organizations.AuthorisationScope"]


@pytest.mark.django_db
@pytest.mark.parametrize("label", sorted(m._meta.label for m in _scoped_models()))
def test_anonymous_sees_nothing(label, world):
    model = apps.get_model(label)
    for user in (None, AnonymousUser()):
        for action in ("view", "export", "change", "review", "create"):
            assert model._default_manager.for_user(user, action).query.is_empty()


@pytest.mark.django_db
@pytest.mark.parametrize("label", sorted(m._meta.label for m in _scoped_models()))
def test_a_deactivated_user_sees_nothing(label, world):
    model = apps.get_model(label)
    for name in ("ent_manager", "region", "sysadmin", "secadmin", "auditor"):
        user = world.users[name]
        user.is_active = False
        user.save(update_fields=["is_active"])
        for action in ("view", "export", "change", "review", "create", "download"):
            assert model._default_manager.for_user(user, action).query.is_empty(), (name, action)


@pytest.mark.django_db
@pytest.mark.parametrize("label", sorted(m._meta.label for m in _scoped_models()))
def test_an_undeclared_action_grants_nothing(label, world):
    model = apps.get_model(label)
    for user in world.users.values():
        assert model._default_manager.for_user(user, "no-such-action").query.is_empty()


@pytest.mark.django_db
def test_an_enterprise_of_another_county_sees_nothing_of_this_one(world):
    other = world.users["ent_other"]  # 新城区, Hohhot
    assert not Organization.objects.for_user(other).filter(pk=world.ent_kundulun.pk).exists()
    assert not Organization.objects.for_user(other, "change").filter(pk=world.ent_kundulun.pk).exists()
    assert list(Organization.objects.for_user(other).values_list("pk", flat=True)) == [world.ent_xincheng.pk]


def _registration(world, n=4243):
    return registration_submit(
        actor=world.users["applicant"],
        data={
            "credit_code": valid_code(n),
            "name": "包头市测试申请有限公司",
            "division": "150203",
            "address": "昆都仑区 1 号",
            "legal_representative": "李四",
            "contact_name": "李四",
            "contact_phone": "13800000000",
        },
    )


@pytest.mark.django_db
def test_a_city_regulator_sees_but_only_a_county_regulator_reviews(world):
    registration = _registration(world)
    regs = EnterpriseRegistration.objects
    for name in ("baotou", "region", "kundulun", "kundulun_viewer"):
        assert regs.for_user(world.users[name]).filter(pk=registration.pk).exists(), name
    assert regs.for_user(world.users["kundulun"], "review").filter(pk=registration.pk).exists()
    for name in ("baotou", "region", "kundulun_viewer", "qingshan", "xincheng", "ent_manager", "sysadmin"):
        assert not regs.for_user(world.users[name], "review").exists(), name


@pytest.fixture
def fees(world):
    item = CatalogueItem.objects.order_by("pk").first()
    assert item is not None, "the catalogue is loaded by its data migration"
    tariff = Tariff.objects.create(
        catalogue_item=item, price=Decimal("10.00"), valid_from=datetime.date(2026, 1, 1), source="测试"
    )
    policy = WaiverPolicy.objects.create(
        name="测试减免",
        basis=WaiverPolicy.Basis.ITEM,
        catalogue_item=item,
        percentage=100,
        valid_from=datetime.date(2026, 1, 1),
        source="测试",
    )
    return tariff, policy


@pytest.mark.django_db
@pytest.mark.parametrize("model", [Tariff, WaiverPolicy])
def test_fee_configuration_is_read_by_regulators_and_changed_by_the_system_administrator(world, fees, model):
    for name, user in world.users.items():
        may_view = name in {"region", "baotou", "kundulun", "kundulun_viewer", "qingshan", "xincheng", "sysadmin"}
        pk = fees[0 if model is Tariff else 1].pk
        assert model.objects.for_user(user, "view").filter(pk=pk).exists() == may_view, name
        assert model.objects.for_user(user, "change").filter(pk=pk).exists() == (name == "sysadmin"), name
        if not may_view:
            assert not model.objects.for_user(user, "view").exists(), name


@pytest.mark.django_db
def test_staff_without_the_capability_see_no_business_data(world):
    registration = _registration(world, 4244)
    for name in ("auditor", "secadmin"):
        user = world.users[name]
        assert not EnterpriseRegistration.objects.for_user(user).filter(pk=registration.pk).exists()
        assert not CatalogueItem.objects.for_user(user, "change").exists()
    # The security administrator sees organisations (to grant roles) but changes none.
    assert Organization.objects.for_user(world.users["secadmin"]).count() == Organization.objects.count()
    assert not Organization.objects.for_user(world.users["secadmin"], "change").exists()
    assert not Organization.objects.for_user(world.users["auditor"]).exists()
