"""Reading the live security policy (one row, created from the settings' defaults)."""

from __future__ import annotations

import time
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError

from .models import SecurityPolicy

_CACHE: dict[str, tuple[float, SecurityPolicy]] = {}
_TTL_SECONDS = 5.0


def get_policy() -> SecurityPolicy:
    """The policy in force. Cached for a few seconds per process: it is read on every
    request (idle timeout) and changes rarely; a change reaches every process within
    ``_TTL_SECONDS``, and this process at once (``clear_policy_cache`` runs on save)."""
    cached = _CACHE.get("policy")
    now = time.monotonic()
    if cached and now - cached[0] < _TTL_SECONDS:
        return cached[1]
    policy = SecurityPolicy.objects.filter(pk=1).first()
    if policy is None:
        seed = SecurityPolicy(pk=1, **settings.NQI_SECURITY_DEFAULTS)
        try:
            seed.full_clean(exclude=["updated_by"], validate_unique=False)
        except ValidationError as exc:
            raise ImproperlyConfigured(f"The NQI_* security defaults are out of bounds: {exc.message_dict}") from exc
        policy, _created = SecurityPolicy.objects.get_or_create(pk=1, defaults=settings.NQI_SECURITY_DEFAULTS)
    _CACHE["policy"] = (now, policy)
    return policy


def clear_policy_cache() -> None:
    _CACHE.clear()


def axes_failure_limit(request, credentials) -> int:
    return get_policy().lockout_threshold


def axes_cooloff_time(request=None) -> timedelta:
    return timedelta(minutes=get_policy().lockout_minutes)
