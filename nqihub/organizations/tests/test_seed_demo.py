"""``manage.py seed_demo``: the demo Inner Mongolia is complete, valid, idempotent and the
same on every machine.

The command runs once per module, inside a transaction that is rolled back at the end, so
the other test modules still start from an empty database; each test runs in a savepoint
inside it (pytest-django's ``db``).
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Iterator
from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.db import transaction
from django.test import RequestFactory
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from nqihub.audit.models import AuditEvent
from nqihub.core.access import MembershipRole, OrganizationKind, get_actor
from nqihub.divisions.models import AdminDivision
from nqihub.organizations.credit_code import validate_credit_code
from nqihub.organizations.demo import (
    ACCOUNTS,
    DEMO_PASSWORD,
    NAMED_ENTERPRISES,
    NAMED_INSTITUTIONS,
    SEED,
    accounts_markdown,
    count_demo,
    load_divisions,
    plan_demo,
    totp_base32,
    totp_key_hex,
)
from nqihub.organizations.models import (
    AuthorisationScope,
    Discipline,
    EnterpriseRegistration,
    InstitutionDiscipline,
    Membership,
    Organization,
    OrganizationContact,
)

pytestmark = pytest.mark.django_db

STAFF = {"sysadmin": "system_admin", "secadmin": "security_admin", "auditor": "audit_admin"}
MEMBERS = {
    "nmg_admin": ("内蒙古自治区市场监督管理局", MembershipRole.CLERK),
    "baotou_reg": ("包头市市场监督管理局", MembershipRole.CLERK),
    "kundulun_reg": ("包头市昆都仑区市场监督管理局", MembershipRole.CLERK),
    "qingshan_reg": ("包头市青山区市场监督管理局", MembershipRole.CLERK),
    "hohhot_reg": ("呼和浩特市市场监督管理局", MembershipRole.CLERK),
    "baotou_jiliang": ("包头市质量技术监督检验测试所", MembershipRole.MANAGER),
    "nmg_jiliang": ("内蒙古自治区计量测试研究院", MembershipRole.MANAGER),
    "tianhe": ("包头天和磁材科技股份有限公司", MembershipRole.MANAGER),
    "tianhe_clerk": ("包头天和磁材科技股份有限公司", MembershipRole.CLERK),
    "luwang": ("内蒙古鹿王羊绒有限公司", MembershipRole.MANAGER),
}


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker) -> Iterator[str]:
    """Run the command once for the whole module; roll it all back afterwards."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            out = StringIO()
            call_command("seed_demo", stdout=out)
            yield out.getvalue()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def _county_codes() -> set[str]:
    return set(AdminDivision.objects.filter(level="county", is_current=True).values_list("code", flat=True))


def test_summary_is_printed(seeded):
    assert "Demo data loaded in" in seeded
    assert "enterprises" in seeded
    assert DEMO_PASSWORD in seeded
    for spec in ACCOUNTS:
        assert f"`{spec.username}`" in seeded


def test_at_least_2000_enterprises_in_every_county(seeded):
    enterprises = Organization.objects.filter(kind=OrganizationKind.ENTERPRISE)
    assert enterprises.count() >= 2000
    per_county = Counter(enterprises.values_list("division_id", flat=True))
    counties = _county_codes()
    assert len(counties) == 103
    assert set(per_county) == counties
    assert min(per_county.values()) >= 5
    # Weighted: the big city districts have many more than the pastoral banners.
    assert per_county["150203"] > 3 * per_county["152528"]


def test_credit_codes_valid_unique_and_registered_in_their_county(seeded):
    rows = list(Organization.objects.exclude(credit_code=None).values_list("kind", "credit_code", "division_id"))
    codes = [code for _kind, code, _division in rows]
    assert len(codes) == len(set(codes))
    known = {*_county_codes(), *AdminDivision.objects.filter(is_current=True).values_list("code", flat=True)}
    for kind, code, division in rows:
        assert validate_credit_code(code, division_exists=known.__contains__) == code
        assert code[2:8] == division
        if kind == OrganizationKind.ENTERPRISE:
            assert code.startswith("91")
    # One real database lookup per kind of code, as the model validator would do it.
    for kind in OrganizationKind.values:
        sample = Organization.objects.filter(kind=kind).exclude(credit_code=None).first()
        assert sample is not None
        validate_credit_code(sample.credit_code)


def test_enterprises_have_profile_and_one_primary_contact(seeded):
    enterprises = Organization.objects.filter(kind=OrganizationKind.ENTERPRISE)
    assert not enterprises.filter(address="").exists()
    assert not enterprises.filter(legal_representative="").exists()
    assert not enterprises.filter(industry="").exists()
    # The enterprise created by approving an application has the phone of its contact only.
    assert not enterprises.filter(phone="", registration__isnull=True).exists()
    primaries = Counter(
        OrganizationContact.objects.filter(organization__kind="enterprise", is_primary=True).values_list(
            "organization_id", flat=True
        )
    )
    assert len(primaries) == enterprises.count()
    assert set(primaries.values()) == {1}
    names = list(enterprises.values_list("name", flat=True))
    assert len(names) == len(set(names))


def test_regulators_at_three_levels(seeded):
    regulators = Organization.objects.filter(kind=OrganizationKind.REGULATOR)
    assert regulators.count() == 1 + 12 + 103
    levels = Counter(regulators.values_list("division__level", flat=True))
    assert levels == {"province": 1, "prefecture": 12, "county": 103}
    assert Counter(regulators.values_list("division_id", flat=True)).most_common(1)[0][1] == 1
    assert set(regulators.filter(division__level="county").values_list("division_id", flat=True)) == _county_codes()
    expected = {
        "内蒙古自治区市场监督管理局": "150000",
        "包头市市场监督管理局": "150200",
        "锡林郭勒盟市场监督管理局": "152500",
        "包头市昆都仑区市场监督管理局": "150203",
        "满洲里市市场监督管理局": "150781",
        "太仆寺旗市场监督管理局": "152527",
    }
    for name, division in expected.items():
        assert regulators.get(name=name).division_id == division


def test_named_institutions_with_disciplines_and_scopes(seeded):
    for name, county, disciplines, _area in NAMED_INSTITUTIONS:
        org = Organization.objects.get(name=name, kind=OrganizationKind.INSTITUTION)
        assert org.division_id == county
        assert set(org.disciplines.values_list("discipline", flat=True)) == set(disciplines)
        if Discipline.METROLOGY in disciplines or Discipline.TESTING in disciplines:
            assert len(org.cma_number) == 12 and org.cma_number.isdigit()
    # Every 盟市 has a legal metrology institution authorised for it.
    metrology = AuthorisationScope.objects.filter(discipline=Discipline.METROLOGY)
    covered = set(metrology.values_list("areas__code", flat=True))
    prefectures = set(AdminDivision.objects.filter(level="prefecture", is_current=True).values_list("code", flat=True))
    assert prefectures <= covered
    assert Organization.objects.filter(name="呼和浩特市计量检定测试所").exists()
    baotou = Organization.objects.get(name="包头市质量技术监督检验测试所")
    assert set(baotou.authorisation_scopes.values_list("areas__code", flat=True)) == {"150200"}
    assert not InstitutionDiscipline.objects.exclude(organization__kind=OrganizationKind.INSTITUTION).exists()


def test_named_enterprises_exist_where_placed(seeded):
    for name, county, _industry in NAMED_ENTERPRISES:
        org = Organization.objects.get(name=name)
        assert org.kind == OrganizationKind.ENTERPRISE
        assert org.division_id == county
    assert Organization.objects.get(name="内蒙古太仆寺旗草原酿酒有限责任公司").division_id == "152527"
    assert Organization.objects.get(name="丰镇市海鹏食品股份有限公司").division_id == "150981"
    assert Organization.objects.get(name="内蒙古伊利实业集团股份有限公司").division.parent_id == "150100"
    assert not Organization.objects.filter(name__contains="医院").exists()


def test_accounts_roles_and_password(seeded):
    User = get_user_model()
    request = RequestFactory().post("/accounts/login/")
    for spec in ACCOUNTS:
        user = authenticate(request=request, username=spec.username, password=DEMO_PASSWORD)
        assert user is not None, spec.username
        assert user.display_name
    for username, role in STAFF.items():
        user = User.objects.get(username=username)
        assert user.staff_role == role and user.is_staff
        assert not Membership.objects.filter(user=user).exists()
    for username, (org_name, role) in MEMBERS.items():
        membership = Membership.objects.get(user__username=username)
        assert (membership.organization.name, membership.role, membership.is_default) == (org_name, role, True)
    multi = Membership.objects.filter(user__username="multi")
    assert multi.count() == 2
    assert set(multi.values_list("organization__kind", "role")) == {("enterprise", "clerk")}
    assert multi.filter(is_default=True).count() == 1
    for username in ("applicant", "applicant2", "applicant3"):
        assert not Membership.objects.filter(user__username=username).exists()
    assert not User.objects.filter(is_superuser=True).exists()
    assert User.objects.filter(username__in=MEMBERS, staff_role="").count() == len(MEMBERS)


def test_staff_have_confirmed_totp_devices_with_published_keys(seeded):
    table = accounts_markdown()
    for username in STAFF:
        device = TOTPDevice.objects.get(user__username=username)
        assert device.confirmed
        assert device.key == totp_key_hex(username)
        key_b32 = totp_base32(username)
        assert base64.b32decode(key_b32) == bytes.fromhex(device.key)
        assert key_b32 in table
        # A code computed from the published key is accepted.
        assert device.verify_token(f"{totp(device.bin_key):06d}")
    assert not TOTPDevice.objects.exclude(user__username__in=STAFF).exists()


def test_kundulun_reviewer_sees_three_submitted_applications(seeded):
    user = get_user_model().objects.get(username="kundulun_reg")
    actor = get_actor(user)
    assert actor.organization.name == "包头市昆都仑区市场监督管理局"
    review = EnterpriseRegistration.objects.for_user(user, "review")
    submitted = review.filter(state=EnterpriseRegistration.State.SUBMITTED)
    assert submitted.count() == 3
    assert set(submitted.values_list("applicant__username", flat=True)) == {"applicant", "applicant2", "applicant3"}
    returned = review.get(state=EnterpriseRegistration.State.RETURNED)
    assert returned.return_reason and returned.reviewed_by == user


def test_applications_went_through_the_services(seeded):
    approved = EnterpriseRegistration.objects.get(state=EnterpriseRegistration.State.APPROVED)
    assert approved.organization is not None
    assert approved.organization.credit_code == approved.credit_code
    assert Membership.objects.get(user=approved.applicant).organization == approved.organization
    assert approved.reviewed_by.username == "qingshan_reg"
    actions = Counter(AuditEvent.objects.values_list("action", flat=True))
    assert actions["registration.submit"] == 5
    assert actions["registration.return"] == 1
    assert actions["registration.approve"] == 1
    seed = AuditEvent.objects.get(action="demo.seed")
    assert seed.channel == "cli"
    assert seed.details["seed"] == SEED
    assert seed.details["counts"]["enterprises"] == Organization.objects.filter(kind="enterprise").count()


def test_second_run_changes_nothing(seeded):
    before = count_demo()
    audit_before = AuditEvent.objects.count()
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "already" in out.getvalue()
    assert count_demo() == before
    assert AuditEvent.objects.count() == audit_before


def test_plan_is_deterministic_and_matches_the_database(seeded):
    divisions = load_divisions()
    first = plan_demo(divisions, SEED)
    second = plan_demo(divisions, SEED)
    pairs = [(e.name, e.credit_code) for e in first.generated_enterprises]
    assert pairs == [(e.name, e.credit_code) for e in second.generated_enterprises]
    assert first.enterprises == second.enterprises
    assert first.regulators == second.regulators
    assert first.institutions == second.institutions
    assert first.applications == second.applications
    other = plan_demo(divisions, SEED + 1)
    assert [(e.name, e.credit_code) for e in other.generated_enterprises[:20]] != pairs[:20]
    # What the command wrote is that plan.
    stored = dict(Organization.objects.filter(kind="enterprise").values_list("name", "credit_code"))
    for name, code in pairs[:20]:
        assert stored[name] == code
    assert {e.name for e in first.enterprises} <= set(stored)


def test_county_helpers():
    """Allocation keeps the minimum and the exact total; names and addresses follow usage."""
    from nqihub.organizations.demo import County, Divisions, allocate

    counties = (
        County("150203", "昆都仑区", "150200", "包头市"),
        County("152527", "太仆寺旗", "152500", "锡林郭勒盟"),
        County("150781", "满洲里市", "150700", "呼伦贝尔市"),
    )
    assert sum(allocate(counties, 30).values()) == 30
    assert allocate(counties, 15) == {"150203": 5, "152527": 5, "150781": 5}
    divisions = Divisions(
        "内蒙古自治区", (("150200", "包头市"), ("150700", "呼伦贝尔市"), ("152500", "锡林郭勒盟")), counties
    )
    assert [c.name_prefix for c in counties] == ["包头市昆都仑区", "太仆寺旗", "满洲里市"]
    assert [c.place for c in counties] == ["包头市昆都仑区", "锡林郭勒盟太仆寺旗", "满洲里市"]
    assert divisions.counties[0].is_district and divisions.counties[2].is_city
