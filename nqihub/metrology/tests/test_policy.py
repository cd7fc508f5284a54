# ruff: noqa: F811 - fixtures imported from test_documents are used as parameters
"""The verification service policy: read by everyone signed in, changed only by the system
administrator (page and service), every bad value refused with a message and nothing changed,
and the application deadline and the reminder stages follow it."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from nqihub.audit.models import AuditEvent
from nqihub.core.errors import Forbidden, InvalidInput
from nqihub.metrology.models import MetrologyPolicy
from nqihub.metrology.services import reminders
from nqihub.metrology.services.policy import current_policy, policy_update

pytestmark = pytest.mark.django_db

from .test_documents import issued, make_result, periodic_item, signers  # noqa: E402, F401 - fixtures

GOOD = {
    "acceptance_working_days": "3",
    "reminder_days": "60, 30，7",
    "validity_ends_day_before": "on",
    "source": "包头市市场监督管理局通知（2026）",
}


def test_defaults_before_anyone_changed_them(world):
    policy = current_policy()
    assert policy.acceptance_working_days == 2 and policy.reminder_stages() == [30, 15, 7]
    assert not MetrologyPolicy.objects.exists()  # reading writes nothing
    assert reminders.reminder_stages() == [30, 15, 7] and reminders.amber_days() == 30


def test_system_administrator_changes_it(world):
    policy = policy_update(actor=world.users["sysadmin"], data=GOOD)
    assert (policy.acceptance_working_days, policy.reminder_days) == (3, "60,30,7")
    assert reminders.reminder_stages() == [60, 30, 7] and reminders.amber_days() == 60
    event = AuditEvent.objects.filter(action="metrology_policy.update").latest("pk")
    assert event.outcome == "success" and event.details["changes"]["acceptance_working_days"] == [2, 3]


@pytest.mark.parametrize("who", ["region", "baotou", "ent_manager", "inst", "secadmin", "auditor"])
def test_nobody_else_may_change_it(world, who):
    with pytest.raises(Forbidden):
        policy_update(actor=world.users[who], data=GOOD)
    assert not MetrologyPolicy.objects.exists()
    assert AuditEvent.objects.filter(action="metrology_policy.update", outcome="denied").count() == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("acceptance_working_days", "0"),
        ("acceptance_working_days", "31"),
        ("acceptance_working_days", "两天"),
        ("acceptance_working_days", ""),
        ("reminder_days", ""),
        ("reminder_days", "30,30"),
        ("reminder_days", "30,-1"),
        ("reminder_days", "400"),
        ("reminder_days", "90,60,30,15,7,1"),
        ("source", "  "),
        ("source", "x" * 301),
    ],
)
def test_bad_values_are_refused_and_nothing_changes(world, field, value):
    policy_update(actor=world.users["sysadmin"], data=GOOD)
    with pytest.raises(InvalidInput) as refused:
        policy_update(
            actor=world.users["sysadmin"],
            data={**GOOD, field: value, "acceptance_working_days": "5"}
            if field != "acceptance_working_days"
            else {**GOOD, field: value},
        )
    assert field in refused.value.errors
    policy = MetrologyPolicy.objects.get()
    assert (policy.acceptance_working_days, policy.reminder_days) == (3, "60,30,7")


def test_page_reads_for_everyone_and_edits_for_the_administrator(world, web):
    url = reverse("metrology:policy")
    page = web(world.users["ent_manager"]).get(url)
    assert page.status_code == 200 and b'data-testid="policy-form"' not in page.content
    forged = web(world.users["baotou"]).post(url, GOOD)
    assert forged.status_code == 403 and not MetrologyPolicy.objects.exists()

    admin = web(world.users["sysadmin"])
    assert b'data-testid="policy-form"' in admin.get(url).content
    bad = admin.post(url, {**GOOD, "reminder_days": "三十"})
    assert bad.status_code == 400 and 'data-field="reminder_days"' in bad.content.decode()
    assert not MetrologyPolicy.objects.exists()
    assert admin.post(url, GOOD).status_code == 302
    assert MetrologyPolicy.objects.get().reminder_days == "60,30,7"


def test_system_administrator_finds_the_reference_data_from_home(world, web):
    home = web(world.users["sysadmin"]).get("/").content.decode()
    for name in ("metrology:catalogue_list", "metrology:tariff_list", "metrology:policy", "workcalendar:list"):
        assert f'href="{reverse(name)}"' in home, name


def test_the_validity_convention_is_policy_data(world, issued):
    """有效期至 = verification date + period − 1 day is practice, not checked law: the system
    administrator may switch it, and certificates issued afterwards follow."""
    from nqihub.metrology.services.documents import certificate_valid_until

    assert issued.valid_until == datetime.date(2027, 1, 30)
    policy_update(actor=world.users["sysadmin"], data={**GOOD, "validity_ends_day_before": ""})
    assert current_policy().validity_ends_day_before is False
    assert certificate_valid_until(issued.result) == datetime.date(2027, 1, 31)
