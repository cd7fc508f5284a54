"""The write-service decorator and the locked lookup: permission before input, the refusal
recorded outside the rolled-back transaction, the success committed with the change, 404
before 403."""

import pytest
from django.utils.translation import gettext_lazy

from nqihub.audit.actions import label_for
from nqihub.audit.models import AuditEvent
from nqihub.audit.service import audited_service, locked_for
from nqihub.audit.services import audit_record
from nqihub.core.errors import INVALID, Forbidden, NotFound
from nqihub.workcalendar.models import CalendarEntry

pytestmark = pytest.mark.django_db

ACTION = "test_service.write"
seen: list = []


def _only_sysadmin(actor, **_kwargs):
    if actor.username != "sysadmin":
        raise Forbidden()


@audited_service(ACTION, gettext_lazy("Test write"), check=_only_sysadmin, details=lambda actor, **kw: {"n": kw["n"]})
def write(*, actor, n):
    seen.append(n)
    audit_record(action=ACTION, actor=actor, details={"n": n})
    if n < 0:
        raise INVALID("negative", field="n")
    return n


def test_label_registered_by_the_decorator():
    assert str(label_for(ACTION)) == "Test write"


def test_permission_checked_before_the_body_and_recorded_as_denied(world):
    seen.clear()
    with pytest.raises(Forbidden):
        write(actor=world.users["applicant"], n=-1)
    assert seen == []  # the invalid input was never looked at
    [event] = AuditEvent.objects.filter(action=ACTION)
    assert (event.outcome, event.details) == ("denied", {"code": "permission_denied", "n": -1})


def test_invalid_input_rolls_back_but_the_failure_stays(world):
    with pytest.raises(type(INVALID("x"))):
        write(actor=world.users["sysadmin"], n=-2)
    [event] = AuditEvent.objects.filter(action=ACTION)  # the success record inside was rolled back
    assert event.outcome == "failure" and event.details["n"] == -2


def test_success_recorded_with_the_change(world):
    assert write(actor=world.users["sysadmin"], n=3) == 3
    [event] = AuditEvent.objects.filter(action=ACTION)
    assert event.outcome == "success"


def test_locked_for_answers_404_before_403():
    import datetime

    entry = CalendarEntry.objects.create(date=datetime.date(2027, 10, 1), kind="day_off", name="国庆节", source="x")
    everything = CalendarEntry.objects.all()
    with pytest.raises(NotFound):
        locked_for(everything.none(), everything, entry.pk)
    with pytest.raises(NotFound):
        locked_for(everything, everything, "not-a-number")
    with pytest.raises(Forbidden):
        locked_for(everything, everything.none(), entry.pk)
    with pytest.raises(Forbidden):
        locked_for(everything, lambda row: False, entry.pk)
    assert locked_for(everything, None, entry.pk) == entry
