"""Shared fixtures: a small Inner Mongolia with regulators at all three levels, two
enterprises in different counties, an institution, an applicant and the three staff roles.

Divisions come from the migrations (the shipped Inner Mongolia table).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from nqihub.accounts.policy import clear_policy_cache
from nqihub.core.access import MembershipRole, OrganizationKind, StaffRole
from nqihub.testing.factories import MembershipFactory, OrganizationFactory, UserFactory


@pytest.fixture(autouse=True)
def _fresh_policy_cache():
    """Every test starts with empty caches (the security policy's, and Django's: rate limits,
    cached counts), so nothing one test left behind can pass or fail another."""
    from django.core.cache import cache

    clear_policy_cache()
    cache.clear()
    yield
    clear_policy_cache()
    cache.clear()


@pytest.fixture(autouse=True)
def _default_language_after_each_test():
    """A request sent in English (``Accept-Language: en``) leaves English active in the
    thread (the locale middleware activates, nothing deactivates): every test ends with the
    default language again, so what one test asked for cannot change another's messages."""
    from django.utils import translation

    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _api_responses_match_the_schema(monkeypatch):
    """Every /api/v1/ response any test receives is checked against the committed OpenAPI
    schema (its status documented, its body of that status's shape), so every API test is
    also a schema test (``nqihub.testing.openapi``)."""
    from django.test.client import Client

    from nqihub.testing.openapi import check_response

    original = Client.request

    def request(self, **environ):
        response = original(self, **environ)
        check_response(environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", ""), response)
        return response

    monkeypatch.setattr(Client, "request", request)


@dataclass
class World:
    region_reg: object
    baotou_reg: object
    kundulun_reg: object
    qingshan_reg: object
    hohhot_reg: object
    xincheng_reg: object
    ent_kundulun: object
    ent_qingshan: object
    ent_xincheng: object
    institution: object
    users: dict


def _member(username: str, org, role=MembershipRole.MANAGER):
    user = UserFactory(username=username)
    MembershipFactory(user=user, organization=org, role=role)
    return user


@pytest.fixture
def world(db) -> World:
    reg = lambda name, code: OrganizationFactory(  # noqa: E731
        kind=OrganizationKind.REGULATOR, name=name, division_id=code, credit_code=None
    )
    region_reg = reg("内蒙古自治区市场监督管理局", "150000")
    baotou_reg = reg("包头市市场监督管理局", "150200")
    kundulun_reg = reg("包头市昆都仑区市场监督管理局", "150203")
    qingshan_reg = reg("包头市青山区市场监督管理局", "150204")
    hohhot_reg = reg("呼和浩特市市场监督管理局", "150100")
    xincheng_reg = reg("呼和浩特市新城区市场监督管理局", "150102")
    ent_kundulun = OrganizationFactory(name="包头天和磁材科技股份有限公司", division_id="150203")
    ent_qingshan = OrganizationFactory(name="内蒙古北方重型汽车股份有限公司", division_id="150204")
    ent_xincheng = OrganizationFactory(name="呼和浩特测试食品有限公司", division_id="150102")
    institution = OrganizationFactory(
        kind=OrganizationKind.INSTITUTION, name="包头市质量技术监督检验测试所", division_id="150203", credit_code=None
    )
    users = {
        "region": _member("region", region_reg, MembershipRole.CLERK),
        "baotou": _member("baotou", baotou_reg, MembershipRole.CLERK),
        "kundulun": _member("kundulun", kundulun_reg, MembershipRole.CLERK),
        "kundulun_viewer": _member("kundulun_viewer", kundulun_reg, MembershipRole.VIEWER),
        "qingshan": _member("qingshan", qingshan_reg, MembershipRole.CLERK),
        "xincheng": _member("xincheng", xincheng_reg, MembershipRole.CLERK),
        "ent_manager": _member("ent_manager", ent_kundulun, MembershipRole.MANAGER),
        "ent_clerk": _member("ent_clerk", ent_kundulun, MembershipRole.CLERK),
        "ent_other": _member("ent_other", ent_xincheng, MembershipRole.MANAGER),
        "inst": _member("inst", institution, MembershipRole.MANAGER),
        "applicant": UserFactory(username="applicant"),
        "sysadmin": UserFactory(username="sysadmin", staff_role=StaffRole.SYSTEM_ADMIN),
        "secadmin": UserFactory(username="secadmin", staff_role=StaffRole.SECURITY_ADMIN),
        "auditor": UserFactory(username="auditor", staff_role=StaffRole.AUDIT_ADMIN),
    }
    return World(
        region_reg,
        baotou_reg,
        kundulun_reg,
        qingshan_reg,
        hohhot_reg,
        xincheng_reg,
        ent_kundulun,
        ent_qingshan,
        ent_xincheng,
        institution,
        users,
    )


@pytest.fixture
def no_second_factor(db, settings):
    """Staff in most tests sign in without TOTP; the 2FA tests switch it back on."""
    from nqihub.accounts.models import SecurityPolicy

    SecurityPolicy.objects.update_or_create(
        pk=1, defaults={**settings.NQI_SECURITY_DEFAULTS, "require_second_factor_for_staff": False}
    )
    clear_policy_cache()


@pytest.fixture
def web(client, no_second_factor):
    """A function that signs a person in to the web UI and returns the client."""

    def _as(user):
        client.logout()
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    return _as


@pytest.fixture
def api(no_second_factor):
    """A function that returns an API client authenticated as the person (session)."""

    def _as(user):
        c = APIClient()
        c.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return c

    return _as
