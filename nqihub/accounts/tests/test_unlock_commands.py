"""The command-line unlocks (the ``axes_reset*`` names an operator reads about in django-axes'
manual) end the account's counts with its known browsers' and are recorded in the audit trail
(found when tried: ``axes_reset_username`` unlocked with no trace)."""

from __future__ import annotations

import io

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command, get_commands
from django.utils import timezone

from nqihub.accounts import lockout
from nqihub.audit.models import AuditEvent


def _attempt(username: str, address: str = "198.51.100.7") -> AccessAttempt:
    return AccessAttempt.objects.create(
        username=username,
        ip_address=address,
        user_agent="test",
        failures_since_start=9,
        attempt_time=timezone.now(),
        get_data="",
        post_data="",
        http_accept="",
        path_info="/accounts/login/",
    )


def test_the_commands_are_this_projects():
    for name in ("axes_reset", "axes_reset_username", "axes_reset_ip", "axes_reset_ip_username"):
        assert get_commands()[name] == "nqihub.accounts", name


@pytest.mark.django_db
def test_reset_username_clears_known_browsers_and_is_audited(world):
    _attempt("ent_manager")
    _attempt(lockout.device_prefix("ent_manager") + "abc")
    _attempt("someone_else")
    out = io.StringIO()
    call_command("axes_reset_username", "ent_manager", stdout=out)
    assert "2 attempts removed" in out.getvalue()
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == ["someone_else"]
    event = AuditEvent.objects.filter(action="account.unlock").latest("pk")
    assert event.details["cleared"] == 2 and event.details["via"] == "command"
    assert event.target_id == str(world.users["ent_manager"].pk)


@pytest.mark.django_db
def test_reset_by_address_and_everything_are_audited(world):
    _attempt("a", "198.51.100.7")
    _attempt("b", "198.51.100.8")
    call_command("axes_reset_ip", "198.51.100.7", stdout=io.StringIO())
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == ["b"]
    call_command("axes_reset", stdout=io.StringIO())
    assert AccessAttempt.objects.count() == 0
    details = [e.details for e in AuditEvent.objects.filter(action="account.unlock").order_by("pk")]
    assert details[0]["address"] == "198.51.100.7" and details[0]["cleared"] == 1
    assert details[1]["all"] is True and details[1]["cleared"] == 1
