"""The cases kernel on its own: numbering, the state machine per kind, the working-day time limit,
the timeline, rating and attachments."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from nqihub.cases import kinds
from nqihub.cases import selectors as case_selectors
from nqihub.cases import services as cases
from nqihub.cases.models import Case, CaseAttachment, CaseEvent, NumberCounter
from nqihub.core.errors import Conflict, InvalidInput
from nqihub.testing.factories import UserFactory
from nqihub.workcalendar.models import CalendarEntry, DayKind

# A kind of the tests' own: uses "resubmitted" and every closing state, a 3-working-day limit, rated.
TEST_KIND = kinds.register(
    kinds.CaseKind(
        code="test_review",
        prefix="TR",
        label="test review",
        states=frozenset(kinds.ALL_STATES),
        withdraw_from=frozenset({kinds.DRAFT, kinds.SUBMITTED, kinds.RETURNED, kinds.RESUBMITTED}),
        resubmit_to=kinds.RESUBMITTED,
        time_limit=lambda: 3,
        steps={"approved": "approved (test)"},
        rated=True,
    )
)


def _at(y, m, d, h=10):
    return timezone.make_aware(datetime.datetime(y, m, d, h, 0))


@pytest.fixture
def clerk(db):
    return UserFactory(username="case_clerk")


# --- Numbers --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_numbers_are_prefix_year_sequence_from_the_counter(clerk):
    year = timezone.localdate().year
    first = cases.case_open(kind="test_review", actor=clerk)
    second = cases.case_open(kind="test_review", actor=clerk)
    assert (first.number, second.number) == (f"TR{year}000001", f"TR{year}000002")
    assert NumberCounter.objects.get(series="cases.test_review", year=year).last == 2
    # Never derived from a primary key: deleting rows and taking more numbers goes on counting.
    CaseEvent.objects.all().delete()
    Case.objects.all().delete()
    assert cases.case_open(kind="test_review", actor=clerk).number == f"TR{year}000003"


@pytest.mark.django_db
def test_each_kind_and_year_has_its_own_sequence(clerk):
    assert cases.next_number("test_review", on_date=datetime.date(2025, 12, 31)) == "TR2025000001"
    assert cases.next_number("test_review", on_date=datetime.date(2026, 1, 1)) == "TR2026000001"
    assert cases.next_number("enterprise_registration", on_date=datetime.date(2026, 1, 1)) == "QY2026000001"
    assert cases.next_number("test_review", on_date=datetime.date(2025, 6, 1)) == "TR2025000002"


@pytest.mark.django_db
def test_a_new_counter_starts_past_numbers_already_issued_in_its_form(clerk):
    now = timezone.now()
    # Issued before the counter existed (a moved row), in the new form; and old-form numbers
    # (date + sequence, as registrations had), which can never collide and are not counted.
    Case.objects.create(kind="test_review", number="TR2026000041", opened_at=now)
    Case.objects.create(kind="test_review", number="TR20260105000099", opened_at=now)
    assert cases.next_number("test_review", on_date=datetime.date(2026, 3, 1)) == "TR2026000042"
    # A number of the form written later outside the counter is skipped, never issued twice.
    Case.objects.create(kind="test_review", number="TR2026000043", opened_at=now)
    assert cases.next_numbers("test_review", year=2026, count=3) == ["TR2026000044", "TR2026000045", "TR2026000046"]


@pytest.mark.django_db
def test_interleaved_openings_never_share_a_number(clerk):
    """Kinds and years interleaved, as concurrent clerks would: every number differs and each
    counter ends at the count it handed out."""
    seen = []
    for i in range(30):
        kind = ("test_review", "instrument_filing", "enterprise_registration")[i % 3]
        seen.append(cases.next_number(kind, on_date=datetime.date(2025 + i % 2, 5, 1)))
    seen += cases.next_numbers("test_review", year=2025, count=5)
    assert len(seen) == len(set(seen)) == 35
    assert NumberCounter.objects.get(series="cases.test_review", year=2025).last == 5 + 5


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_connections_take_numbers_at_the_same_time():
    """Two threads with their own connections take numbers at once: the row lock serialises
    them, so all numbers differ."""
    import threading

    taken: list[str] = []
    errors: list[BaseException] = []

    def work():
        try:
            for _ in range(20):
                taken.append(cases.next_number("test_review", on_date=datetime.date(2030, 1, 1)))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(taken) == len(set(taken)) == 80


# --- The state machine per kind -------------------------------------------------------------------


@pytest.mark.django_db
def test_review_flow_with_resubmitted_state_and_timeline(clerk):
    reviewer = UserFactory(username="case_reviewer")
    case = cases.case_open(kind="test_review", actor=clerk, at=_at(2026, 3, 2))
    assert case.state == "submitted"
    case = cases.case_return(case, actor=reviewer, reason="缺少营业执照", at=_at(2026, 3, 3))
    assert case.state == "returned" and case.decided_by == reviewer
    case = cases.case_resubmit(case, actor=clerk, at=_at(2026, 3, 4))
    assert case.state == "resubmitted" and case.decided_at is None
    case = cases.case_approve(case, actor=reviewer, at=_at(2026, 3, 5))
    assert case.state == "approved" and case.closed_at == _at(2026, 3, 5)
    steps = case_selectors.timeline(case)
    assert [(e.kind, e.actor, e.note) for e in steps] == [
        ("submitted", clerk, ""),
        ("returned", reviewer, "缺少营业执照"),
        ("resubmitted", clerk, ""),
        ("approved", reviewer, ""),
    ]
    assert str(steps[-1].label) == "approved (test)"  # the kind's own wording


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "path", "refused"),
    [
        # 企业注册: no acceptance, no rejection; withdrawn while submitted or returned.
        ("enterprise_registration", [], "accept"),
        ("enterprise_registration", [], "reject"),
        ("enterprise_registration", ["approve"], "withdraw"),
        ("enterprise_registration", ["approve"], "return"),
        # 强检备案: never withdrawn, never accepted.
        ("instrument_filing", [], "withdraw"),
        ("instrument_filing", [], "accept"),
        ("instrument_filing", ["return"], "approve"),
        # 在线报检: no return, no approval; withdrawn only before acceptance.
        ("verification_application", [], "return"),
        ("verification_application", [], "approve"),
        ("verification_application", ["accept"], "withdraw"),
        ("verification_application", ["reject"], "accept"),
    ],
)
def test_each_kind_refuses_the_transitions_it_does_not_use(clerk, kind, path, refused):
    steps = {
        "accept": lambda c: cases.case_accept(c, actor=clerk),
        "approve": lambda c: cases.case_approve(c, actor=clerk),
        "reject": lambda c: cases.case_reject(c, actor=clerk, reason="r"),
        "return": lambda c: cases.case_return(c, actor=clerk, reason="r"),
        "withdraw": lambda c: cases.case_withdraw(c, actor=clerk),
    }
    case = cases.case_open(kind=kind, actor=clerk)
    for step in path:
        case = steps[step](case)
    before = (case.state, CaseEvent.objects.filter(case=case).count())
    with pytest.raises(Conflict) as exc:
        steps[refused](case)
    assert exc.value.code == "invalid_state"
    case.refresh_from_db()
    assert (case.state, CaseEvent.objects.filter(case=case).count()) == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "path", "allowed"),
    [
        ("enterprise_registration", ["return"], "withdraw"),
        ("enterprise_registration", ["return", "resubmit"], "approve"),
        ("instrument_filing", ["return", "resubmit"], "approve"),
        ("verification_application", [], "withdraw"),
        ("verification_application", ["accept"], "reject"),
    ],
)
def test_each_kind_allows_its_transitions(clerk, kind, path, allowed):
    steps = {
        "accept": lambda c: cases.case_accept(c, actor=clerk),
        "approve": lambda c: cases.case_approve(c, actor=clerk),
        "reject": lambda c: cases.case_reject(c, actor=clerk, reason="r"),
        "return": lambda c: cases.case_return(c, actor=clerk, reason="r"),
        "resubmit": lambda c: cases.case_resubmit(c, actor=clerk),
        "withdraw": lambda c: cases.case_withdraw(c, actor=clerk),
    }
    case = cases.case_open(kind=kind, actor=clerk)
    for step in [*path, allowed]:
        case = steps[step](case)
    assert case.state == {"approve": "approved", "reject": "rejected", "withdraw": "withdrawn"}[allowed]
    assert case.closed_at is not None
    # A resubmission goes back to "submitted" for these kinds (they do not use "resubmitted").
    assert "resubmitted" not in set(Case.objects.values_list("state", flat=True))


@pytest.mark.django_db
def test_the_state_is_protected(clerk):
    case = cases.case_open(kind="test_review", actor=clerk)
    with pytest.raises(AttributeError):
        case.state = "approved"


@pytest.mark.django_db
def test_a_draft_is_numbered_but_has_no_time_limit_until_submitted(clerk):
    case = cases.case_open(kind="test_review", actor=clerk, submit=False)
    assert case.state == "draft" and case.number.startswith("TR") and case.deadline is None
    case = cases.case_submit(case, actor=clerk, at=_at(2026, 3, 2))
    assert case.state == "submitted" and case.deadline == _at(2026, 3, 5)
    with pytest.raises(Conflict):
        cases.case_submit(case, actor=clerk)


def test_kinds_are_checked_when_registered():
    with pytest.raises(ValueError, match="unknown states"):
        kinds.CaseKind(code="x", prefix="XX", label="x", states=frozenset({"lost"}))
    with pytest.raises(ValueError, match="capital letters"):
        kinds.CaseKind(code="x", prefix="x1", label="x", states=frozenset())
    with pytest.raises(ValueError, match="prefix QY is taken"):
        kinds.register(kinds.CaseKind(code="other", prefix="QY", label="x", states=frozenset()))


# --- Time limits in working days ------------------------------------------------------------------


@pytest.mark.django_db
def test_time_limit_skips_weekends_and_holidays_and_counts_make_up_days(clerk):
    # Thursday 2030-04-04 at 10:00 + 3 working days: Friday is a holiday, the weekend is off
    # except Sunday, a make-up working day (调休): Sunday 7, Monday 8, Tuesday 9.
    CalendarEntry.objects.create(date=datetime.date(2030, 4, 5), kind=DayKind.DAY_OFF, name="清明节", source="test")
    CalendarEntry.objects.create(
        date=datetime.date(2030, 4, 7), kind=DayKind.WORKING_DAY, name="清明节调休", source="test"
    )
    case = cases.case_open(kind="test_review", actor=clerk, at=_at(2030, 4, 4))
    assert case.deadline == _at(2030, 4, 9)
    # The stored limit does not move when the calendar is edited later.
    CalendarEntry.objects.filter(date=datetime.date(2030, 4, 7)).delete()
    case.refresh_from_db()
    assert case.deadline == _at(2030, 4, 9)
    # Overdue and due-soon selections read it.
    assert list(case_selectors.overdue(now=_at(2030, 4, 9, 11))) == [case]
    assert list(case_selectors.overdue(now=_at(2030, 4, 9, 9))) == []
    assert list(case_selectors.due_soon(now=_at(2030, 4, 9, 9), within=datetime.timedelta(hours=2))) == [case]
    assert list(case_selectors.to_remind("test_review", now=_at(2030, 4, 8), within=datetime.timedelta(days=2))) == [
        case
    ]
    # A decided case is neither.
    cases.case_approve(case, actor=clerk)
    assert not case_selectors.overdue(now=_at(2031, 1, 1)).exists()


# --- Rating and attachments -----------------------------------------------------------------------


@pytest.mark.django_db
def test_rating_once_after_the_decision(clerk):
    case = cases.case_open(kind="test_review", actor=clerk)
    with pytest.raises(Conflict) as exc:
        cases.case_rate(case, actor=clerk, score=5)
    assert exc.value.code == "not_decided"
    case = cases.case_approve(case, actor=clerk)
    for bad in (0, 6, "five", None, True):
        with pytest.raises(InvalidInput):
            cases.case_rate(case, actor=clerk, score=bad)
    case = cases.case_rate(case, actor=clerk, score="4", comment="办理快")
    assert (case.rating_score, case.rating_comment, case.rated_by) == (4, "办理快", clerk)
    with pytest.raises(Conflict) as exc:
        cases.case_rate(case, actor=clerk, score=5)
    assert exc.value.code == "already_rated"
    # Kinds that are not rated refuse.
    filing = cases.case_approve(cases.case_open(kind="instrument_filing", actor=clerk), actor=clerk)
    with pytest.raises(Conflict) as exc:
        cases.case_rate(filing, actor=clerk, score=5)
    assert exc.value.code == "not_rated"


@pytest.mark.django_db
def test_attachments_within_limits(clerk, settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = str(tmp_path)
    case = cases.case_open(kind="test_review", actor=clerk)
    pdf = SimpleUploadedFile("../../营业执照.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    attachment = cases.case_attach(case, actor=clerk, upload=pdf)
    assert attachment.name == "营业执照.pdf" and attachment.size == 13 and len(attachment.sha256) == 64
    assert attachment.file.name.startswith("cases/") and ".." not in attachment.file.name
    assert attachment.file.read() == b"%PDF-1.4 test"
    for upload, code in [
        (SimpleUploadedFile("run.exe", b"MZ"), "attachment_type"),
        (SimpleUploadedFile("empty.pdf", b""), "attachment_empty"),
    ]:
        with pytest.raises(InvalidInput) as exc:
            cases.case_attach(case, actor=clerk, upload=upload)
        assert exc.value.code == code
    monkeypatch.setattr(cases, "MAX_ATTACHMENT_BYTES", 10)
    with pytest.raises(InvalidInput) as exc:
        cases.case_attach(case, actor=clerk, upload=SimpleUploadedFile("big.pdf", b"x" * 11))
    assert exc.value.code == "attachment_size"
    assert CaseAttachment.objects.count() == 1
    assert [e.kind for e in case_selectors.timeline(case)] == ["submitted", "attached"]
