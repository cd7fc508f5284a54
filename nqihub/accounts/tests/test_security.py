"""Sign-in security (等保 level 3): lockout, policy, idle timeout, second factor, password
expiry, tokens — and the three separate staff roles, none able to do another's work."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from nqihub.accounts import services
from nqihub.accounts.middleware import LAST_ACTIVITY_KEY
from nqihub.accounts.models import ApiToken, SecurityPolicy
from nqihub.accounts.policy import clear_policy_cache
from nqihub.audit.models import AuditEvent
from nqihub.core.access import StaffRole
from nqihub.core.errors import Forbidden, InvalidInput
from nqihub.organizations.services import membership_grant
from nqihub.testing.factories import PASSWORD, UserFactory


def _sign_in(client, username, password=PASSWORD):
    return client.post("/accounts/login/", {"username": username, "password": password})


def _set_policy(**values):
    from django.conf import settings

    SecurityPolicy.objects.update_or_create(pk=1, defaults={**settings.NQI_SECURITY_DEFAULTS, **values})
    clear_policy_cache()


@pytest.mark.django_db
def test_sign_in_success_and_failure_are_audited(world, client):
    _set_policy(require_second_factor_for_staff=False)
    assert _sign_in(client, "ent_manager", "wrong-password").status_code == 200
    assert _sign_in(client, "ent_manager").status_code == 302
    records = list(
        AuditEvent.objects.filter(action="auth.login").order_by("seq").values_list("actor_username", "outcome")
    )
    assert records == [("ent_manager", "failure"), ("ent_manager", "success")]
    assert AuditEvent.objects.filter(action="auth.login").first().source_address == "127.0.0.1"


@pytest.mark.django_db
def test_lockout_after_threshold_then_unlock(world, client, settings):
    _set_policy(lockout_threshold=3, require_second_factor_for_staff=False)
    settings.NQI_SIGNIN_DELAY_AFTER = 1000  # the lock itself; the delays before it: test_lockout.py
    for _ in range(3):
        _sign_in(client, "ent_clerk", "wrong-password")
    locked = _sign_in(client, "ent_clerk")  # even the right password is refused now
    assert locked.status_code == 403
    assert "locked" in locked.context["locked_message"] or "锁定" in locked.context["locked_message"]
    assert AuditEvent.objects.filter(action="auth.lockout", actor_username="ent_clerk").exists()
    # Another account is not affected (lockout is per account).
    assert _sign_in(Client(), "ent_manager").status_code == 302

    # Only the security administrator unlocks.
    with pytest.raises(Forbidden):
        services.account_unlock(actor=world.users["sysadmin"], username="ent_clerk")
    secadmin = Client()
    secadmin.force_login(world.users["secadmin"], backend="django.contrib.auth.backends.ModelBackend")
    page = secadmin.get("/accounts/security/")
    assert "ent_clerk" in page.content.decode()
    secadmin.post("/accounts/security/unlock/", {"username": "ent_clerk"})
    assert _sign_in(Client(), "ent_clerk").status_code == 302
    assert AuditEvent.objects.filter(action="account.unlock", actor_username="secadmin").exists()


@pytest.mark.django_db
def test_security_admin_changes_policy_and_it_applies_at_once(world, client):
    _set_policy(require_second_factor_for_staff=False)
    secadmin = Client()
    secadmin.force_login(world.users["secadmin"], backend="django.contrib.auth.backends.ModelBackend")
    response = secadmin.post(
        "/accounts/security/",
        {
            "password_min_length": 12,
            "password_min_classes": 4,
            "password_max_age_days": 90,
            "lockout_threshold": 3,
            "lockout_minutes": 15,
            "idle_timeout_minutes": 10,
        },
    )
    assert response.status_code == 302
    policy = SecurityPolicy.objects.get(pk=1)
    assert (policy.password_min_length, policy.lockout_threshold, policy.require_second_factor_for_staff) == (
        12,
        3,
        False,
    )
    with pytest.raises(InvalidInput):  # 11 characters, fine before, too short now
        services.account_register(username="newbie", password="Abcdef1234!", display_name="新人")
    bad = secadmin.post(
        "/accounts/security/",
        {
            "password_min_length": 4,
            "password_min_classes": 9,
            "lockout_threshold": 1,
            "lockout_minutes": 0,
            "idle_timeout_minutes": 1,
            "password_max_age_days": 0,
        },
    )
    assert bad.status_code == 200 and bad.context["form"].errors
    assert SecurityPolicy.objects.get(pk=1).password_min_length == 12
    changes = AuditEvent.objects.get(action="security_policy.update").details["changes"]
    assert changes["password_min_length"] == [10, 12]


@pytest.mark.django_db
def test_policy_is_not_open_to_other_roles(world, web):
    for role in ("sysadmin", "auditor", "region", "ent_manager"):
        assert web(world.users[role]).get("/accounts/security/").status_code == 403
        with pytest.raises(Forbidden):
            services.security_policy_update(actor=world.users[role], data={"lockout_threshold": 10})


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("password", "fragment"),
    [("Ab1!", "10"), ("abcdefghijkl", "3"), ("Newbie-2026-xyz", "account name")],
)
def test_password_rules(world, password, fragment):
    from django.utils import translation

    with translation.override("en"), pytest.raises(InvalidInput) as exc:
        services.account_register(username="newbie", password=password, display_name="新人")
    assert fragment in str(exc.value.message)
    from django.contrib.auth import get_user_model

    assert not get_user_model().objects.filter(username="newbie").exists()


@pytest.mark.django_db
def test_signup_page_refuses_weak_password(world, client):
    # A taken name is not refused on the page (it would tell strangers which names exist):
    # test_lockout.py shows the same answer for both.
    response = client.post(
        "/accounts/signup/",
        {"username": "fresh", "display_name": "新人", "password": "short", "password_again": "short"},
    )
    assert response.status_code == 200 and response.context["form"].errors
    response = client.post(
        "/accounts/signup/",
        {
            "username": "fresh",
            "display_name": "新人",
            "password": "Str0ng-Passw0rd",
            "password_again": "Str0ng-Passw0rd",
        },
    )
    assert response.status_code == 302 and response.url == "/accounts/login/?next=/organizations/registrations/new/"
    from django.contrib.auth import get_user_model

    assert get_user_model().objects.filter(username="fresh").exists()


@pytest.mark.django_db
def test_idle_session_times_out(world, web, api):
    _set_policy(idle_timeout_minutes=10, require_second_factor_for_staff=False)
    client = web(world.users["ent_manager"])
    assert client.get("/").status_code == 200
    session = client.session
    session[LAST_ACTIVITY_KEY] = time.time() - 11 * 60
    session.save()
    response = client.get("/organizations/")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    assert client.get("/").context["user"].is_authenticated is False

    api_client = api(world.users["ent_manager"])
    api_client.get("/api/v1/me/")
    session = api_client.session
    session[LAST_ACTIVITY_KEY] = time.time() - 11 * 60
    session.save()
    expired = api_client.get("/api/v1/me/")
    assert expired.status_code == 401 and expired.json()["code"] == "session_expired"


def _totp_now(device):
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


@pytest.mark.django_db
def test_staff_must_enrol_and_use_a_second_factor(world, client):
    _set_policy(require_second_factor_for_staff=True)
    assert _sign_in(client, "auditor").status_code == 302
    # Signed in, but held at enrolment until a second factor is set up.
    held = client.get("/audit/")
    assert held.status_code == 302 and held.url.startswith("/accounts/otp/setup/")
    setup = client.get("/accounts/otp/setup/")
    assert "<svg" in setup.content.decode()
    device = TOTPDevice.objects.get(user=world.users["auditor"])
    wrong = client.post("/accounts/otp/setup/", {"token": "000000" if _totp_now(device) != "000000" else "111111"})
    assert wrong.status_code == 200 and wrong.context["form"].errors
    # A wrong code throttles further tries for a moment (django-otp); the person waits, the test resets.
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0, throttling_failure_timestamp=None)
    assert client.post("/accounts/otp/setup/", {"token": _totp_now(device), "next": "/audit/"}).status_code == 302
    assert client.get("/audit/").status_code == 200

    # Next sign-in: the code is asked for.
    fresh = Client()
    _sign_in(fresh, "auditor")
    held = fresh.get("/audit/")
    assert held.url.startswith("/accounts/otp/verify/")
    device.refresh_from_db()
    device.last_t = -1  # the same 30-second window may not be reused: allow it for the test
    device.save()
    assert fresh.post("/accounts/otp/verify/", {"token": _totp_now(device)}).status_code == 302
    assert fresh.get("/audit/").status_code == 200
    actions = set(AuditEvent.objects.filter(actor_username="auditor").values_list("action", "outcome"))
    assert {("auth.otp_enrol", "failure"), ("auth.otp_enrol", "success"), ("auth.otp_verify", "success")} <= actions


@pytest.mark.django_db
def test_ordinary_users_are_not_forced_to_enrol(world, client):
    _set_policy(require_second_factor_for_staff=True)
    _sign_in(client, "ent_manager")
    assert client.get("/").status_code == 200


@pytest.mark.django_db
def test_expired_password_must_be_changed(world, client):
    _set_policy(password_max_age_days=90, require_second_factor_for_staff=False)
    user = world.users["ent_manager"]
    type(user).objects.filter(pk=user.pk).update(password_changed_at=timezone.now() - timedelta(days=91))
    _sign_in(client, "ent_manager")
    held = client.get("/organizations/")
    assert held.status_code == 302 and held.url == "/accounts/password/"
    changed = client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": "Brand-new-Passw0rd", "new_password2": "Brand-new-Passw0rd"},
    )
    assert changed.status_code == 302
    assert client.get("/organizations/").status_code == 200
    assert AuditEvent.objects.filter(action="account.password_change", actor_username="ent_manager").exists()


# --- Tokens -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_token_acts_for_its_organisation_and_can_be_revoked(world):
    from rest_framework.test import APIClient

    user = world.users["ent_manager"]
    from nqihub.core.access import get_actor

    token, key = services.api_token_create(actor=user, name="LIMS", membership=get_actor(user).membership)
    assert ApiToken.objects.get(pk=token.pk).key_hash != key  # only the hash is stored
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    me = client.get("/api/v1/me/").json()
    assert me["acting_organization"] == world.ent_kundulun.pk
    assert {o["id"] for o in client.get("/api/v1/organizations/").json()["results"]} == {world.ent_kundulun.pk}
    assert client.get(f"/api/v1/organizations/{world.ent_xincheng.pk}/").status_code == 404

    services.api_token_revoke(actor=user, token=token)
    refused = client.get("/api/v1/me/")
    assert refused.status_code == 401 and refused.json()["code"] == "invalid_token"
    assert refused["WWW-Authenticate"] == "Token"


@pytest.mark.django_db
def test_bad_tokens_are_refused_with_a_code(world):
    from rest_framework.test import APIClient

    client = APIClient()
    for header in ("Token not-a-real-key", "Token", "Token a b"):
        client.credentials(HTTP_AUTHORIZATION=header)
        response = client.get("/api/v1/organizations/")
        assert response.status_code == 401
        assert set(response.json()) == {"detail", "code"}
    client.credentials()
    anonymous = client.get("/api/v1/organizations/")
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "not_authenticated"


@pytest.mark.django_db
def test_token_of_an_ended_membership_stops_working(world):
    from rest_framework.test import APIClient

    from nqihub.core.access import get_actor
    from nqihub.organizations.services import membership_revoke

    user = world.users["ent_clerk"]
    membership = get_actor(user).membership
    _token, key = services.api_token_create(actor=user, name="LIMS", membership=membership)
    membership_revoke(actor=world.users["secadmin"], membership=membership)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/me/").status_code == 401


@pytest.mark.django_db
def test_someone_elses_token_cannot_be_revoked(world, api):
    token, _key = services.api_token_create(actor=world.users["ent_manager"], name="LIMS")
    response = api(world.users["ent_other"]).post(f"/api/v1/tokens/{token.pk}/revoke/")
    assert response.status_code == 404
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


# --- Three separate staff roles (三员分立) ------------------------------------------------


@pytest.mark.django_db
def test_each_staff_role_does_only_its_own_work(world):
    sysadmin, secadmin, auditor = world.users["sysadmin"], world.users["secadmin"], world.users["auditor"]
    target = UserFactory(username="target")

    # System administrator: accounts and organisations, nothing else.
    services.account_create(actor=sysadmin, username="newaccount", password="Created-Passw0rd", display_name="新账号")
    with pytest.raises(Forbidden):
        services.staff_role_grant(actor=sysadmin, user=target, role=StaffRole.AUDIT_ADMIN)
    with pytest.raises(Forbidden):
        services.account_unlock(actor=sysadmin, username="target")
    with pytest.raises(Forbidden):
        membership_grant(actor=sysadmin, user=target, organization=world.ent_kundulun, role="clerk")

    # Security administrator: policy, grants, unlocking — not accounts or organisations.
    services.staff_role_grant(actor=secadmin, user=target, role=StaffRole.AUDIT_ADMIN)
    with pytest.raises(Forbidden):
        services.account_create(actor=secadmin, username="x1", password="Created-Passw0rd", display_name="x")
    from nqihub.organizations.services import organization_create

    with pytest.raises(Forbidden):
        organization_create(actor=secadmin, kind="institution", data={"name": "x", "division": "150203"})

    # Audit administrator: reads the trail, nothing else.
    for attempt in (
        lambda: services.account_create(actor=auditor, username="x2", password="Created-Passw0rd", display_name="x"),
        lambda: services.staff_role_grant(actor=auditor, user=target, role=""),
        lambda: services.account_unlock(actor=auditor, username="target"),
        lambda: services.security_policy_update(actor=auditor, data={}),
        lambda: organization_create(actor=auditor, kind="institution", data={"name": "x", "division": "150203"}),
    ):
        with pytest.raises(Forbidden):
            attempt()
    refused = AuditEvent.objects.filter(outcome="denied").count()
    assert refused >= 9


@pytest.mark.django_db
def test_no_self_grant_and_no_mixing_staff_with_memberships(world):
    secadmin = world.users["secadmin"]
    with pytest.raises(Forbidden):
        services.staff_role_grant(actor=secadmin, user=secadmin, role=StaffRole.SYSTEM_ADMIN)
    with pytest.raises(InvalidInput):
        services.staff_role_grant(actor=secadmin, user=world.users["ent_manager"], role=StaffRole.AUDIT_ADMIN)
    with pytest.raises(InvalidInput):
        membership_grant(actor=secadmin, user=world.users["auditor"], organization=world.ent_kundulun, role="clerk")
    secadmin.refresh_from_db()
    assert secadmin.staff_role == StaffRole.SECURITY_ADMIN


@pytest.mark.django_db
def test_console_is_divided_by_role(world, web):
    def console(role, path):
        return web(world.users[role]).get(path).status_code

    assert console("sysadmin", "/console/accounts/user/add/") == 200
    assert console("sysadmin", "/console/organizations/organization/add/") == 200
    assert console("secadmin", "/console/accounts/user/add/") == 403
    assert console("secadmin", "/console/organizations/membership/add/") == 200
    assert console("sysadmin", "/console/organizations/membership/add/") == 403
    assert console("auditor", "/console/") in (302, 403)
    assert console("ent_manager", "/console/") == 302  # not staff: sent to the console's sign-in
    assert console("sysadmin", "/console/organizations/organization/") == 200


@pytest.mark.django_db
def test_console_writes_are_audited(world, web):
    client = web(world.users["sysadmin"])
    response = client.post(
        "/console/accounts/user/add/",
        {
            "username": "console_made",
            "display_name": "后台创建",
            "email": "",
            "phone": "",
            "password": "Console-Passw0rd",
        },
    )
    assert response.status_code == 302, response.context and response.context.get("errors")
    assert AuditEvent.objects.filter(action="account.create", actor_username="sysadmin").exists()


# --- Forged requests and switching organisation -------------------------------------------


@pytest.mark.django_db
def test_forged_post_without_csrf_token_changes_nothing(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["kundulun"], backend="django.contrib.auth.backends.ModelBackend")
    from nqihub.organizations.services import registration_submit
    from nqihub.testing.factories import valid_code

    registration = registration_submit(
        actor=world.users["applicant"],
        data={
            "credit_code": valid_code(5),
            "name": "伪造测试",
            "division": "150203",
            "address": "a",
            "legal_representative": "b",
            "contact_name": "c",
            "contact_phone": "d",
        },
    )
    response = client.post(f"/organizations/registrations/{registration.pk}/approve/")
    assert response.status_code == 403
    from nqihub.organizations.models import EnterpriseRegistration

    assert EnterpriseRegistration.objects.get(pk=registration.pk).state == "submitted"


@pytest.mark.django_db
def test_switching_organisation(world, web):
    from nqihub.testing.factories import MembershipFactory

    user = world.users["ent_manager"]
    MembershipFactory(user=user, organization=world.ent_qingshan, role="clerk", is_default=False)
    client = web(user)
    assert client.get("/").context["actor"].organization == world.ent_kundulun
    client.post("/accounts/switch/", {"organization": world.ent_qingshan.pk})
    assert client.get("/").context["actor"].organization == world.ent_qingshan
    # A forged switch to an organisation they do not belong to is refused and changes nothing.
    client.post("/accounts/switch/", {"organization": world.ent_xincheng.pk})
    assert client.get("/").context["actor"].organization == world.ent_qingshan
    assert AuditEvent.objects.filter(action="membership.switch", outcome="denied").exists()


@pytest.mark.django_db
def test_the_api_holds_staff_at_the_second_factor_too(world, client):
    _set_policy(require_second_factor_for_staff=True)
    _sign_in(client, "auditor")  # password only
    response = client.get("/api/v1/audit-events/")
    assert response.status_code == 403 and response.json()["code"] == "second_factor_required"
    assert client.post("/api/v1/tokens/", {"name": "x"}).status_code == 403


@pytest.mark.django_db
def test_a_password_alone_cannot_change_the_password(world, client):
    """Found when tried: a staff session past the password step but not the second factor could
    change its password (and so keep the account after losing only the password)."""
    _set_policy(require_second_factor_for_staff=True)
    _sign_in(client, "auditor")  # password only
    from django.contrib.auth import get_user_model

    User = get_user_model()
    before = User.objects.get(username="auditor").password
    page = client.get("/accounts/password/")
    assert page.status_code == 302 and page.url.startswith("/accounts/otp/")
    changed = client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": "Tiger#2026xyz-new", "new_password2": "Tiger#2026xyz-new"},
    )
    assert changed.status_code == 302 and changed.url.startswith("/accounts/otp/")
    assert User.objects.get(username="auditor").password == before
    # The second-factor pages themselves and sign-out stay open.
    assert client.get("/accounts/otp/setup/").status_code == 200


@pytest.mark.django_db
def test_staff_cannot_hold_api_tokens(world):
    for role in ("sysadmin", "secadmin", "auditor"):
        with pytest.raises(Forbidden):
            services.api_token_create(actor=world.users[role], name="x")
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_console_validates_organisations_like_the_service(world, web):
    client = web(world.users["sysadmin"])
    response = client.post(
        "/console/organizations/organization/add/",
        {
            "kind": "enterprise",
            "name": "后台企业",
            "credit_code": "123",
            "division": "150200",
            "contacts-TOTAL_FORMS": 0,
            "contacts-INITIAL_FORMS": 0,
            "disciplines-TOTAL_FORMS": 0,
            "disciplines-INITIAL_FORMS": 0,
            "authorisation_scopes-TOTAL_FORMS": 0,
            "authorisation_scopes-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    from nqihub.organizations.models import Organization

    assert not Organization.objects.filter(name="后台企业").exists()


@pytest.mark.django_db
def test_console_refuses_a_membership_for_staff(world, web):
    client = web(world.users["secadmin"])
    response = client.post(
        "/console/organizations/membership/add/",
        {"user": world.users["auditor"].pk, "organization": world.ent_kundulun.pk, "role": "clerk"},
    )
    assert response.status_code == 200 and response.context["adminform"].form.errors
    from nqihub.organizations.models import Membership

    assert not Membership.objects.filter(user=world.users["auditor"]).exists()


@pytest.mark.django_db
def test_bootstrap_staff_account_command():
    from io import StringIO

    from django.contrib.auth import get_user_model
    from django.core.management import CommandError, call_command

    out = StringIO()
    call_command("create_staff_account", "firstadmin", "--role", "system_admin", "--generate-password", stdout=out)
    user = get_user_model().objects.get(username="firstadmin")
    assert user.staff_role == "system_admin" and user.is_staff and not user.is_superuser
    assert AuditEvent.objects.filter(action="account.create", target_id=str(user.pk)).exists()
    with pytest.raises(CommandError):
        call_command("create_staff_account", "firstadmin", "--role", "audit_admin", "--generate-password")
    # A full-width look-alike is the same name here too, as on sign-up.
    with pytest.raises(CommandError):
        call_command("create_staff_account", "ｆｉｒｓｔａｄｍｉｎ", "--role", "audit_admin", "--generate-password")


@pytest.mark.django_db
def test_superuser_flag_cannot_be_set(world):
    user = world.users["sysadmin"]
    user.is_superuser = True
    user.save()
    user.refresh_from_db()
    assert user.is_superuser is False


@pytest.mark.django_db
def test_becoming_staff_ends_api_tokens(world):
    from rest_framework.test import APIClient

    person = UserFactory(username="soon_staff")
    _token, key = services.api_token_create(actor=person, name="LIMS")
    services.staff_role_grant(actor=world.users["secadmin"], user=person, role=StaffRole.AUDIT_ADMIN)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/me/").status_code == 401


@pytest.mark.django_db
def test_bootstrap_refuses_a_bad_account_name():
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError):
        call_command("create_staff_account", "bad name!", "--role", "system_admin", "--generate-password")


@pytest.mark.django_db
def test_console_reports_a_taken_credit_code_on_the_form(world, web):
    client = web(world.users["sysadmin"])
    response = client.post(
        "/console/organizations/organization/add/",
        {
            "kind": "enterprise",
            "name": "重复代码企业",
            "credit_code": world.ent_kundulun.credit_code,
            "division": "150203",
            "contacts-TOTAL_FORMS": 0,
            "contacts-INITIAL_FORMS": 0,
            "disciplines-TOTAL_FORMS": 0,
            "disciplines-INITIAL_FORMS": 0,
            "authorisation_scopes-TOTAL_FORMS": 0,
            "authorisation_scopes-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 200
    assert "credit_code" in response.context["adminform"].form.errors
