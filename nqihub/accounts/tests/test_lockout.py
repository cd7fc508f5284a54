"""Failed sign-ins as an attacker would use them (等保 8.1.4.1 b): a stranger cannot lock a
person out of their own browser, sprays from one address are slowed, each further failure waits
longer, only the security administrator unlocks, and sign-up tells nobody which names exist."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.core import signing
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from nqihub.accounts import lockout
from nqihub.accounts.models import SecurityPolicy
from nqihub.accounts.policy import clear_policy_cache
from nqihub.audit.models import AuditEvent
from nqihub.testing.factories import PASSWORD

LOGIN = "/accounts/login/"


def _set_policy(**values):
    from django.conf import settings

    SecurityPolicy.objects.update_or_create(pk=1, defaults={**settings.NQI_SECURITY_DEFAULTS, **values})
    clear_policy_cache()


def _sign_in(client, username, password=PASSWORD, address="127.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def _time_passes(seconds: int) -> None:
    """Move every recorded failure back in time, as if ``seconds`` had passed."""
    for attempt in AccessAttempt.objects.all():
        attempt.attempt_time -= timedelta(seconds=seconds)
        attempt.save(update_fields=["attempt_time"])


def _totp_now(device):
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def _full_sign_in_with_totp(client, user):
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    assert _sign_in(client, user.username).status_code == 302
    assert client.post("/accounts/otp/verify/", {"token": _totp_now(device)}).status_code == 302
    assert client.get("/").status_code == 200
    assert lockout.DEVICE_COOKIE in client.cookies
    client.post("/accounts/logout/")  # signing out keeps the browser known (Client.logout would drop cookies)
    return device


@pytest.fixture
def no_delays(settings):
    """For tests of the lock itself: failures follow each other without waiting."""
    settings.NQI_SIGNIN_DELAY_AFTER = 1000
    settings.NQI_SIGNIN_ADDRESS_FREE_FAILURES = 1000


@pytest.mark.django_db
def test_anonymous_traffic_cannot_lock_the_security_administrator_out_of_a_known_browser(world, no_delays):
    _set_policy(lockout_threshold=5, require_second_factor_for_staff=True)
    own = Client()
    device = _full_sign_in_with_totp(own, world.users["secadmin"])

    # A stranger (no account, another address) locks the account by name alone...
    stranger = Client()
    for _ in range(5):
        _sign_in(stranger, "secadmin", "guess-Passw0rd!", address="203.0.113.9")
    assert _sign_in(Client(), "secadmin", address="203.0.113.9").status_code == 403
    # ...also when the name is typed in another case or in full width.
    assert _sign_in(Client(), "ＳＥＣＡＤＭＩＮ", address="203.0.113.9").status_code == 403
    lock = AuditEvent.objects.filter(action="auth.lockout", actor_username="secadmin").order_by("seq").first()
    assert lock.source_address == "203.0.113.9"

    # ...but the owner's browser still signs in (and asks for the second factor).
    back_in = _sign_in(own, "secadmin")
    assert back_in.status_code == 302
    device.refresh_from_db()
    device.last_t = -1
    device.save()
    assert own.post("/accounts/otp/verify/", {"token": _totp_now(device)}).status_code == 302
    assert own.get("/accounts/security/").status_code == 200
    own.post("/accounts/logout/")

    # A forged or copied-by-hand cookie is a stranger's.
    forged = Client()
    forged.cookies[lockout.DEVICE_COOKIE] = own.cookies[lockout.DEVICE_COOKIE].value[:-2] + "xx"
    assert _sign_in(forged, "secadmin").status_code == 403
    # Typing the browser's key as the name does not reach its count either.
    device_id = signing.loads(own.cookies[lockout.DEVICE_COOKIE].value, salt=lockout._SALT)["d"]
    for _ in range(5):
        _sign_in(Client(), f"secadmin [device {device_id}]", "guess-Passw0rd!", address="203.0.113.9")
    assert _sign_in(own, "secadmin").status_code == 302
    own.post("/accounts/logout/")
    # The known browser is counted on its own: its own failures lock it.
    for _ in range(5):
        _sign_in(own, "secadmin", "typo-Passw0rd!")
    assert _sign_in(own, "secadmin").status_code == 403
    assert AccessAttempt.objects.filter(username__startswith="secadmin [device ").exists()


@pytest.mark.django_db
def test_the_known_browser_cookie_is_httponly_and_signed(world, no_delays):
    _set_policy(require_second_factor_for_staff=False)
    client = Client()
    assert _sign_in(client, "ent_clerk").status_code == 302
    client.get("/")
    cookie = client.cookies[lockout.DEVICE_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    assert signing.loads(cookie.value, salt=lockout._SALT)["a"] == ["ent_clerk"]
    with pytest.raises(signing.BadSignature):
        signing.loads(cookie.value.replace("ent", "x"), salt="another purpose")


@pytest.mark.django_db
def test_each_further_failure_waits_longer_before_the_lock(world, settings):
    _set_policy(lockout_threshold=5, require_second_factor_for_staff=False)
    settings.NQI_SIGNIN_DELAY_AFTER = 2
    settings.NQI_SIGNIN_DELAY_SECONDS = 2
    client = Client()
    for _ in range(2):
        assert _sign_in(client, "ent_clerk", "wrong-Passw0rd!").status_code == 200
    # Third try at once: refused unchecked, even with the right password, with the time to wait.
    waiting = _sign_in(client, "ent_clerk")
    assert waiting.status_code == 429 and waiting["Retry-After"] == "2"
    assert "2" in str(waiting.context["form"].non_field_errors())
    assert AccessAttempt.objects.get(username="ent_clerk").failures_since_start == 2  # not counted
    _time_passes(3)
    assert _sign_in(client, "ent_clerk", "wrong-Passw0rd!").status_code == 200
    assert _sign_in(client, "ent_clerk")["Retry-After"] == "4"
    _time_passes(5)
    assert _sign_in(client, "ent_clerk", "wrong-Passw0rd!").status_code == 200
    assert _sign_in(client, "ent_clerk")["Retry-After"] == "8"
    _time_passes(9)
    # The wait ends, the right password works (and resets the count).
    assert _sign_in(client, "ent_clerk").status_code == 302
    assert not AccessAttempt.objects.filter(username="ent_clerk").exists()
    client.post("/accounts/logout/")

    # Failures up to the threshold lock the key; the lock then answers, not a delay.
    for wait in (0, 3, 5, 9, 17):
        _time_passes(wait)
        assert _sign_in(client, "ent_clerk", "wrong-Passw0rd!").status_code in (200, 403)
    locked = _sign_in(client, "ent_clerk")
    assert locked.status_code == 403 and locked.context["locked_message"]


@pytest.mark.django_db
def test_a_spray_of_many_accounts_from_one_address_is_slowed_not_locked(world, settings):
    _set_policy(lockout_threshold=5, require_second_factor_for_staff=False)
    settings.NQI_SIGNIN_ADDRESS_FREE_FAILURES = 10
    settings.NQI_SIGNIN_ADDRESS_DELAY_MAX_SECONDS = 60
    known = Client()
    assert _sign_in(known, "ent_manager", address="198.51.100.7").status_code == 302
    known.get("/")
    known.post("/accounts/logout/")

    attacker = Client()
    answers = [_sign_in(attacker, f"person{i}", "Spr@y-2026!", address="198.51.100.7").status_code for i in range(30)]
    assert answers[:10] == [200] * 10
    assert answers[10] == 429  # the eleventh waits
    assert 429 in answers[11:]
    throttled = _sign_in(Client(), "ent_clerk", address="198.51.100.7")
    assert throttled.status_code == 429 and int(throttled["Retry-After"]) <= 60
    # Another address is not held, nor is a browser known to its account (the office behind the NAT).
    assert _sign_in(Client(), "ent_clerk", address="192.0.2.1").status_code == 302
    assert _sign_in(known, "ent_manager", address="198.51.100.7").status_code == 302
    # A delay, not a lock: once it has passed the address signs in again, and no account is locked.
    _time_passes(61)
    assert _sign_in(Client(), "ent_clerk", address="198.51.100.7").status_code == 302
    assert not lockout.locked_keys().exists()


@pytest.mark.django_db
def test_the_console_sign_in_waits_like_the_site(world, settings):
    _set_policy(require_second_factor_for_staff=False)
    settings.NQI_SIGNIN_DELAY_AFTER = 1
    client = Client()
    client.post("/console/login/", {"username": "sysadmin", "password": "wrong-Passw0rd!"})
    held = client.post("/console/login/", {"username": "sysadmin", "password": PASSWORD})
    assert held.status_code == 200 and "_auth_user_id" not in client.session
    assert held.context["form"].retry_after > 0


@pytest.mark.django_db
def test_only_the_security_administrator_unlocks_and_it_is_audited(world, no_delays):
    _set_policy(lockout_threshold=3, require_second_factor_for_staff=False)
    for address in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):  # spread over addresses: still one lock
        _sign_in(Client(), "ent_clerk", "wrong-Passw0rd!", address=address)
    assert _sign_in(Client(), "ent_clerk").status_code == 403

    for role in ("sysadmin", "auditor", "ent_manager"):
        other = Client()
        other.force_login(world.users[role], backend="django.contrib.auth.backends.ModelBackend")
        refused = other.post("/accounts/security/unlock/", {"username": "ent_clerk"})
        assert refused.status_code == 403
        assert "Only the security administrator" in refused.content.decode() or "安全管理员" in refused.content.decode()
    assert _sign_in(Client(), "ent_clerk").status_code == 403
    assert AuditEvent.objects.filter(action="account.unlock", actor_username="sysadmin", outcome="denied").exists()

    secadmin = Client()
    secadmin.force_login(world.users["secadmin"], backend="django.contrib.auth.backends.ModelBackend")
    page = secadmin.get("/accounts/security/")
    rows = page.context["locked"]
    # Three failures from three addresses, and the two refused tries while locked (they count too).
    assert [(row["account"], row["failures"], row["addresses"]) for row in rows] == [("ent_clerk", 5, 4)]
    done = secadmin.post("/accounts/security/unlock/", {"username": "ent_clerk"}, REMOTE_ADDR="10.9.9.9")
    assert done.status_code == 302
    assert _sign_in(Client(), "ent_clerk").status_code == 302
    unlock = AuditEvent.objects.get(action="account.unlock", actor_username="secadmin", outcome="success")
    assert (unlock.source_address, unlock.target_id, unlock.details["cleared"]) == (
        "10.9.9.9",
        str(world.users["ent_clerk"].pk),
        4,
    )


@pytest.mark.django_db
def test_unlocking_ends_the_known_browser_locks_too(world, no_delays):
    _set_policy(lockout_threshold=3, require_second_factor_for_staff=False)
    own = Client()
    assert _sign_in(own, "ent_clerk").status_code == 302
    own.get("/")
    own.post("/accounts/logout/")
    for _ in range(3):
        _sign_in(own, "ent_clerk", "wrong-Passw0rd!")
        _sign_in(Client(), "ent_clerk", "wrong-Passw0rd!")
    keys = {row["username"] for row in lockout.locked_keys()}
    assert len(keys) == 2 and "ent_clerk" in keys
    from nqihub.accounts import services

    assert services.account_unlock(actor=world.users["secadmin"], username="ENT_clerk") == 2
    assert _sign_in(own, "ent_clerk").status_code == 302


SIGNUP = "/accounts/signup/"


def _sign_up(client, username, address="127.0.0.1", password="Tiger#2026xyz"):
    return client.post(
        SIGNUP,
        {"username": username, "display_name": "新人", "password": password, "password_again": password},
        REMOTE_ADDR=address,
        follow=True,
    )


def _answer(response):
    messages = [str(m) for m in response.context["messages"]]
    return response.status_code, response.redirect_chain, messages


@pytest.mark.django_db
def test_sign_up_answers_the_same_whether_the_name_exists_or_not(world):
    User = get_user_model()
    before = User.objects.get(username="ent_manager").password
    taken = _answer(_sign_up(Client(), "ent_manager"))
    look_alike = _answer(_sign_up(Client(), "ＥＮＴ_ＭＡＮＡＧＥＲ"))
    free = _answer(_sign_up(Client(), "brand_new"))
    assert taken == look_alike == free
    assert free[1][0][0] == "/accounts/login/?next=/organizations/registrations/new/"
    assert User.objects.get(username="ent_manager").password == before
    assert User.objects.filter(username="brand_new").exists()
    assert not User.objects.filter(username__iexact="ent_manager").exclude(pk=world.users["ent_manager"].pk).exists()
    # The refusal is in the audit trail, for the security administrator, not on the page.
    assert AuditEvent.objects.filter(action="account.register").exclude(outcome="success").count() == 2
    # A weak password is refused alike for both names (checked before the name is).
    weak_taken = _sign_up(Client(), "ent_manager", password="P@ssw0rd123")
    weak_free = _sign_up(Client(), "other_new", password="P@ssw0rd123")
    assert weak_taken.status_code == weak_free.status_code == 200
    assert weak_taken.context["form"].errors == weak_free.context["form"].errors


@pytest.mark.django_db
def test_sign_up_is_throttled_per_address(world, settings):
    settings.NQI_SIGNUP_RATE_PER_HOUR = 3
    for i in range(3):
        assert _sign_up(Client(), f"newcomer{i}", address="198.51.100.20").redirect_chain
    held = _sign_up(Client(), "newcomer9", address="198.51.100.20")
    assert held.status_code == 429 and not get_user_model().objects.filter(username="newcomer9").exists()
    assert held["Retry-After"] == "3600"
    assert [str(m) for m in held.context["messages"]] == [
        "注册过于频繁：您所在网络的注册次数已达上限，请一小时后再试。"
    ]
    assert _sign_up(Client(), "newcomer9", address="198.51.100.21").redirect_chain
