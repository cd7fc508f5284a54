"""Failed sign-ins: who is counted, how long one waits, and which browsers an attacker
cannot lock out (等保 8.1.4.1 b, 登录失败处理).

django-axes records every failed sign-in (one database row per account key, address and
browser, so every process and server sees the same counts) and locks an account key after the
policy's threshold. This module decides three things around it:

* **The account key.** A sign-in from a browser that has completed a full sign-in for that
  account before (password and, where required, the second factor) carries a signed,
  HttpOnly "known device" cookie; its failures are counted under a key of its own,
  ``"<account> [device <id>]"``. Anonymous traffic counts under the plain ``"<account>"`` and
  can lock only that key: the person keeps signing in from their own browser, which is counted
  (and locked) separately. Submitted names lose their whitespace, so no request without the
  signed cookie can reach a device key.
* **The rising delay.** After ``NQI_SIGNIN_DELAY_AFTER`` failures for a key, each further try
  must wait ``NQI_SIGNIN_DELAY_SECONDS``, doubled at every failure (at most
  ``NQI_SIGNIN_DELAY_MAX_SECONDS``) before the password is even checked; tries within the
  wait are refused with the time to retry and are not counted.
* **The address throttle.** Failures across all accounts from one address within
  ``NQI_SIGNIN_ADDRESS_WINDOW_SECONDS`` beyond ``NQI_SIGNIN_ADDRESS_FREE_FAILURES`` impose the
  same doubling delay on the address (at most ``NQI_SIGNIN_ADDRESS_DELAY_MAX_SECONDS``). It is
  a delay, never a lock: a government office signs in from behind one address, and a spray
  from inside it must slow the office down, not shut it out. Known devices are not held by it.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.db.models import Count, Max, Q, QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from nqihub.core.middleware import client_address

from .policy import get_policy

DEVICE_COOKIE = "nqi_device"
_SALT = "nqihub.accounts.known-device"
_DEVICE_MARK = " [device "


def account_key(username: str | None) -> str:
    """The name failures are counted under: NFKC (as sign-up and sign-in read names),
    lower case (sign-up lets no two names differ only by case), without any whitespace (no
    account name has it, and a device key is then out of reach of a typed name)."""
    name = get_user_model().normalize_username(username or "")
    return "".join(name.split()).lower()[:150]


def _read_cookie(request: HttpRequest) -> dict | None:
    raw = request.COOKIES.get(DEVICE_COOKIE)
    if not raw:
        return None
    try:
        value = signing.loads(raw, salt=_SALT, max_age=timedelta(days=settings.NQI_KNOWN_DEVICE_DAYS))
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(value, dict) or not isinstance(value.get("d"), str) or not isinstance(value.get("a"), list):
        return None
    return value


def known_device(request: HttpRequest, username: str | None) -> str | None:
    """The device id if this browser has completed a full sign-in for the account before."""
    value = _read_cookie(request)
    key = account_key(username)
    if value is None or not key or key not in value["a"]:
        return None
    return value["d"]


def key_for(request: HttpRequest, username: str | None) -> str:
    key = account_key(username)
    device = known_device(request, username) if request is not None else None
    return f"{key}{_DEVICE_MARK}{device}]" if device else key


def axes_username(request: HttpRequest, credentials: dict | None) -> str:
    """``AXES_USERNAME_CALLABLE``: the key of this sign-in (see the module's note)."""
    username = (credentials or {}).get("username")
    if username is None and request is not None:
        username = request.POST.get("username")
    return key_for(request, username)


def account_of(key: str) -> str:
    """The account a key counts for (a device key's account, or the key itself)."""
    return key.split(_DEVICE_MARK, 1)[0]


def is_device_key(key: str) -> bool:
    return _DEVICE_MARK in key


def remember_device(request: HttpRequest, response: HttpResponse, user) -> None:
    """After a full sign-in: mark this browser as known for the account (kept for
    ``NQI_KNOWN_DEVICE_DAYS``, at most ``NQI_KNOWN_DEVICE_ACCOUNTS`` accounts per browser)."""
    key = account_key(user.get_username())
    value = _read_cookie(request) or {"d": secrets.token_hex(8), "a": []}
    if value["a"] and value["a"][-1] == key:
        return
    accounts = [name for name in value["a"] if name != key] + [key]
    value["a"] = accounts[-settings.NQI_KNOWN_DEVICE_ACCOUNTS :]
    response.set_cookie(
        DEVICE_COOKIE,
        signing.dumps(value, salt=_SALT),
        max_age=settings.NQI_KNOWN_DEVICE_DAYS * 86400,
        httponly=True,
        secure=settings.SESSION_COOKIE_SECURE,
        samesite="Strict",
    )


def _delay(failures: int, free: int, longest: int) -> int:
    if failures < free:
        return 0
    return min(settings.NQI_SIGNIN_DELAY_SECONDS * 2 ** min(failures - free, 20), longest)


def _remaining(failures: int | None, last, free: int, longest: int, now) -> int:
    if not failures or last is None:
        return 0
    wait = _delay(failures, free, longest)
    left = (last + timedelta(seconds=wait) - now).total_seconds()
    return max(0, int(left + 0.999))


def retry_after(request: HttpRequest, username: str | None) -> int:
    """Seconds this sign-in must still wait (0: it may be tried now)."""
    now = timezone.now()
    key = key_for(request, username)
    attempts = AccessAttempt.objects.filter(username=key).aggregate(
        failures=Sum("failures_since_start"), last=Max("attempt_time")
    )
    wait = 0
    if (attempts["failures"] or 0) < get_policy().lockout_threshold:
        # Once locked, the lock answers (with its own message), not a delay.
        wait = _remaining(
            attempts["failures"],
            attempts["last"],
            settings.NQI_SIGNIN_DELAY_AFTER,
            settings.NQI_SIGNIN_DELAY_MAX_SECONDS,
            now,
        )
    if not is_device_key(key):
        window = timedelta(seconds=settings.NQI_SIGNIN_ADDRESS_WINDOW_SECONDS)
        # Counted from the key-less rows too: a spray of names that exist nowhere is a spray.
        from_address = AccessAttempt.objects.filter(
            ip_address=client_address(request), attempt_time__gte=now - window
        ).aggregate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
        wait = max(
            wait,
            _remaining(
                from_address["failures"],
                from_address["last"],
                settings.NQI_SIGNIN_ADDRESS_FREE_FAILURES,
                settings.NQI_SIGNIN_ADDRESS_DELAY_MAX_SECONDS,
                now,
            ),
        )
    return wait


def locked_keys() -> QuerySet:
    """Account keys locked now: as many failures as the policy allows (summed over addresses
    and browsers, as django-axes counts them) within the lockout time."""
    policy = get_policy()
    since = timezone.now() - timedelta(minutes=policy.lockout_minutes)
    return (
        AccessAttempt.objects.filter(attempt_time__gte=since)
        .values("username")
        .annotate(
            failures=Sum("failures_since_start"),
            last_attempt=Max("attempt_time"),
            addresses=Count("ip_address", distinct=True),
        )
        .filter(failures__gte=policy.lockout_threshold)
        .order_by("-last_attempt")
    )


def device_prefix(key: str) -> str:
    """How the counts of the account ``key``'s known browsers begin."""
    return f"{key}{_DEVICE_MARK}"


def clear(username: str) -> int:
    """End every count of the account: the anonymous key and each of its device keys."""
    key = account_key(username)
    if not key:
        return 0
    count, _deleted = AccessAttempt.objects.filter(
        Q(username=key) | Q(username__startswith=device_prefix(key))
    ).delete()
    return count
