"""Role × object × action: who sees and changes which organisation, proved three ways —
the ``for_user`` queryset, the web pages and the API — so no channel can differ.

An object outside a person's scope answers 404 (as if it did not exist); an object they may
see but not change answers 403 on the API and 404 on the edit page (its URL is not theirs).
"""

from __future__ import annotations

import pytest

from nqihub.organizations.models import EnterpriseRegistration, Organization
from nqihub.organizations.services import registration_submit
from nqihub.testing.factories import valid_code

ALL = {
    "region_reg",
    "baotou_reg",
    "kundulun_reg",
    "qingshan_reg",
    "hohhot_reg",
    "xincheng_reg",
    "ent_kundulun",
    "ent_qingshan",
    "ent_xincheng",
    "institution",
}
BAOTOU = {"baotou_reg", "kundulun_reg", "qingshan_reg", "ent_kundulun", "ent_qingshan", "institution"}
KUNDULUN = {"kundulun_reg", "ent_kundulun", "institution"}

# Who may VIEW which organisation.
VIEW = {
    "region": ALL,
    "baotou": BAOTOU,
    "kundulun": KUNDULUN,
    "kundulun_viewer": KUNDULUN,
    "qingshan": {"qingshan_reg", "ent_qingshan"},
    "xincheng": {"xincheng_reg", "ent_xincheng"},
    "ent_manager": {"ent_kundulun"},
    "ent_clerk": {"ent_kundulun"},
    "ent_other": {"ent_xincheng"},
    "inst": {"institution"},
    "applicant": set(),
    "sysadmin": ALL,
    "secadmin": ALL,
    "auditor": set(),
}

# Who may CHANGE which organisation's profile.
CHANGE = {
    "region": set(),
    "baotou": set(),
    "kundulun": set(),
    "kundulun_viewer": set(),
    "qingshan": set(),
    "xincheng": set(),
    "ent_manager": {"ent_kundulun"},
    "ent_clerk": set(),
    "ent_other": {"ent_xincheng"},
    "inst": {"institution"},
    "applicant": set(),
    "sysadmin": ALL,
    "secadmin": set(),
    "auditor": set(),
}

ROLES = sorted(VIEW)


def _org(world, name):
    return getattr(world, name)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_view_scope_through_queryset(world, role):
    user = world.users[role]
    visible = set(Organization.objects.for_user(user, "view").values_list("pk", flat=True))
    expected = {_org(world, name).pk for name in VIEW[role]}
    assert visible == expected


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_change_scope_through_queryset(world, role):
    user = world.users[role]
    changeable = set(Organization.objects.for_user(user, "change").values_list("pk", flat=True))
    assert changeable == {_org(world, name).pk for name in CHANGE[role]}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_view_scope_through_pages(world, web, role):
    client = web(world.users[role])
    for name in sorted(ALL):
        org = _org(world, name)
        response = client.get(f"/organizations/{org.pk}/")
        expected = 200 if name in VIEW[role] else 404
        assert response.status_code == expected, (role, name, response.status_code)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_view_scope_through_list_page_and_export(world, web, role):
    client = web(world.users[role])
    response = client.get("/organizations/")
    assert response.status_code == 200
    shown = {o.pk for o in response.context["page"].object_list}
    assert shown == {_org(world, name).pk for name in VIEW[role]}

    from nqihub.testing.workbooks import export_sheet

    export = client.get("/organizations/export.xlsx")
    assert export.status_code == 200
    rows = export_sheet(export)[1:]
    assert {r[0] for r in rows} == {_org(world, name).name for name in VIEW[role]}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_view_scope_through_api(world, api, role):
    client = api(world.users[role])
    listed = client.get("/api/v1/organizations/", {"page_size": 500})
    assert listed.status_code == 200
    assert {o["id"] for o in listed.json()["results"]} == {_org(world, name).pk for name in VIEW[role]}
    for name in sorted(ALL):
        org = _org(world, name)
        response = client.get(f"/api/v1/organizations/{org.pk}/")
        expected = 200 if name in VIEW[role] else 404
        assert response.status_code == expected, (role, name)
        if expected == 404:
            assert response.json()["code"] == "not_found"


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_change_through_edit_page(world, web, role):
    client = web(world.users[role])
    for name in sorted(ALL):
        org = _org(world, name)
        response = client.get(f"/organizations/{org.pk}/edit/")
        assert response.status_code == (200 if name in CHANGE[role] else 404), (role, name)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_change_through_api(world, api, role):
    client = api(world.users[role])
    for name in sorted(ALL):
        org = _org(world, name)
        before = Organization.objects.get(pk=org.pk)
        response = client.patch(f"/api/v1/organizations/{org.pk}/", {"address": "新地址 8 号"}, format="json")
        if name in CHANGE[role]:
            assert response.status_code == 200, (role, name, response.content)
            assert Organization.objects.get(pk=org.pk).address == "新地址 8 号"
            Organization.objects.filter(pk=org.pk).update(address=before.address)
        else:
            expected = 403 if name in VIEW[role] else 404
            assert response.status_code == expected, (role, name, response.status_code)
            assert set(response.json()) >= {"detail", "code"}
            assert Organization.objects.get(pk=org.pk).address == before.address


@pytest.mark.django_db
def test_manager_cannot_change_own_credit_code_or_division(world, api):
    client = api(world.users["ent_manager"])
    org = world.ent_kundulun
    response = client.patch(
        f"/api/v1/organizations/{org.pk}/", {"credit_code": valid_code(999), "division": "150102"}, format="json"
    )
    assert response.status_code == 200
    org.refresh_from_db()
    assert org.division_id == "150203"
    assert org.credit_code != valid_code(999)


# --- Registrations: who reviews -------------------------------------------------------

REVIEW = {
    # role: expected status of POST approve on an application in 昆都仑区 (150203)
    "kundulun": 200,
    "kundulun_viewer": 403,  # sees it, may not decide (viewer role)
    "baotou": 403,  # sees it (盟市), only the county decides
    "region": 403,
    "qingshan": 404,  # another county: does not exist for them
    "xincheng": 404,
    "ent_manager": 404,
    "inst": 404,
    "applicant": 403,  # their own application: visible, not theirs to approve
    "sysadmin": 403,
    "secadmin": 404,
    "auditor": 404,
}


@pytest.mark.django_db
@pytest.mark.parametrize("role", sorted(REVIEW))
def test_who_may_approve_a_registration(world, api, role):
    registration = registration_submit(
        actor=world.users["applicant"],
        data={
            "credit_code": valid_code(4242),
            "name": "包头市测试申请有限公司",
            "division": "150203",
            "address": "昆都仑区 1 号",
            "legal_representative": "李四",
            "contact_name": "李四",
            "contact_phone": "13800000000",
        },
    )
    response = api(world.users[role]).post(f"/api/v1/registrations/{registration.pk}/approve/")
    assert response.status_code == REVIEW[role], (role, response.content)
    registration = EnterpriseRegistration.objects.get(pk=registration.pk)
    if REVIEW[role] == 200:
        assert registration.state == EnterpriseRegistration.State.APPROVED
        assert Organization.objects.filter(credit_code=valid_code(4242)).exists()
    else:
        assert registration.state == EnterpriseRegistration.State.SUBMITTED
        assert not Organization.objects.filter(credit_code=valid_code(4242)).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", sorted(REVIEW))
def test_who_may_approve_through_the_page(world, web, role):
    registration = registration_submit(
        actor=world.users["applicant"],
        data={
            "credit_code": valid_code(4343),
            "name": "包头市页面申请有限公司",
            "division": "150203",
            "address": "昆都仑区 2 号",
            "legal_representative": "王五",
            "contact_name": "王五",
            "contact_phone": "13800000001",
        },
    )
    client = web(world.users[role])
    response = client.post(f"/organizations/registrations/{registration.pk}/approve/")
    registration = EnterpriseRegistration.objects.get(pk=registration.pk)
    if REVIEW[role] == 404:
        assert response.status_code == 404
    else:
        assert response.status_code == 302
    approved = registration.state == EnterpriseRegistration.State.APPROVED
    assert approved == (REVIEW[role] == 200)


@pytest.mark.django_db
def test_registrations_list_is_scoped(world, api):
    def submit(n, division):
        return registration_submit(
            actor=world.users["applicant"],
            data={
                "credit_code": valid_code(n, division),
                "name": f"申请企业{n}",
                "division": division,
                "address": "地址",
                "legal_representative": "赵六",
                "contact_name": "赵六",
                "contact_phone": "13800000002",
            },
        )

    in_kundulun = submit(1, "150203")
    in_xincheng = submit(2, "150102")
    seen = lambda role: {r["id"] for r in api(world.users[role]).get("/api/v1/registrations/").json()["results"]}  # noqa: E731
    assert seen("kundulun") == {in_kundulun.pk}
    assert seen("baotou") == {in_kundulun.pk}
    assert seen("xincheng") == {in_xincheng.pk}
    assert seen("region") == {in_kundulun.pk, in_xincheng.pk}
    assert seen("applicant") == {in_kundulun.pk, in_xincheng.pk}
    assert seen("ent_manager") == set()
    assert seen("auditor") == set()


@pytest.mark.django_db
def test_audit_trail_is_only_for_the_audit_administrator(world, api, web):
    for role in ROLES:
        listed = api(world.users[role]).get("/api/v1/audit-events/")
        assert listed.status_code == 200
        count = listed.json()["count"]
        assert (count > 0) == (role == "auditor"), role
        page = web(world.users[role]).get("/audit/")
        assert page.status_code == (200 if role == "auditor" else 403), role
