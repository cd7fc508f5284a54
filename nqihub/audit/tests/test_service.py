"""The write-service decorator and the locked lookup: permission before input, the refusal
recorded outside the rolled-back transaction, the success committed with the change, 404
before 403."""

import pytest
from django.utils import translation
from django.utils.translation import gettext_lazy

from nqihub.audit.actions import label_for
from nqihub.audit.models import AuditEvent
from nqihub.audit.service import audited_service, locked_for, requires
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
    # Registered lazily: the label is read in the reader's language.
    with translation.override("en"):
        assert str(label_for(ACTION)) == "Test write"
    with translation.override("zh-hans"):
        assert str(label_for(ACTION)) == "测试写入"


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


CONFLICT_ACTION = "test_service.conflict"


@audited_service(
    CONFLICT_ACTION,
    check=requires("configuration.manage"),
    target="day",
    prepare=lambda kw: {**kw, "name": str(kw.get("name", "")).strip()},
    details=lambda actor, **kw: {"name": kw["name"]} if "name" in kw else None,
    conflict=lambda: INVALID("taken", field="date"),
)
def add_entry(*, actor, day, name):
    seen.append(name)
    return CalendarEntry.objects.create(date=day, kind="day_off", name=name, source="x")


def test_an_integrity_error_becomes_the_conflict_recorded_against_the_named_target(world):
    import datetime

    day = datetime.date(2027, 10, 2)
    add_entry(actor=world.users["sysadmin"], day=day, name="  国庆节 ")
    assert CalendarEntry.objects.get(date=day).name == "国庆节"  # prepared before the body
    with pytest.raises(type(INVALID("x"))):
        add_entry(actor=world.users["sysadmin"], day=day, name="again")
    [event] = AuditEvent.objects.filter(action=CONFLICT_ACTION)
    assert (event.outcome, event.target_repr, event.details) == (
        "failure",
        str(day),
        {"code": "invalid", "name": "again"},
    )
    assert CalendarEntry.objects.filter(date=day).count() == 1


def test_ask_permission_runs_the_check_alone_and_records_it_as_the_service_would(world):
    from nqihub.audit.service import ask_permission

    seen.clear()
    ask_permission(add_entry, actor=world.users["sysadmin"])  # allowed: nothing recorded
    with pytest.raises(Forbidden):
        ask_permission(add_entry, actor=world.users["applicant"], day="2027-10-03")
    assert seen == []
    [event] = AuditEvent.objects.filter(action=CONFLICT_ACTION)
    assert (event.outcome, event.target_repr, event.details) == ("denied", "2027-10-03", {"code": "permission_denied"})


def test_may_answers_404_before_403_on_the_named_row(world):
    import datetime

    from nqihub.audit.service import may

    entry = CalendarEntry.objects.create(date=datetime.date(2027, 10, 4), kind="day_off", name="x", source="x")
    check = may(CalendarEntry, "change", "entry", forbidden="not yours")
    check(world.users["sysadmin"], entry=entry)
    with pytest.raises(Forbidden) as refused:
        check(world.users["applicant"], entry=entry.pk)
    assert str(refused.value) == "not yours"
    with pytest.raises(NotFound):
        check(world.users["sysadmin"], entry="no-such-id")


def test_apply_changes_sets_and_describes_only_what_changed():
    from nqihub.audit.service import apply_changes

    entry = CalendarEntry(name="a", source="b")
    assert apply_changes(entry, {"name": "a", "source": "c"}, str.upper) == {"source": ["B", "C"]}
    assert entry.source == "c"
