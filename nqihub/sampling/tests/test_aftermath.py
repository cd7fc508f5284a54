"""After the result: notice, objection and re-test (final), the conclusion made final, the handling
of an unqualified product with its deadlines and the second re-check's window — each deadline
computed from the rule data, each refusal recorded, nobody crossing the line."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from nqihub.audit.models import AuditEvent
from nqihub.cases.models import Case, CaseDeadline, CaseEvent
from nqihub.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from nqihub.notifications.models import Notice
from nqihub.organizations.models import Organization
from nqihub.sampling.models import Conclusion, Disposal, Objection, SamplingRecord, SamplingRule
from nqihub.sampling.models import TestResult as Result
from nqihub.sampling.services import aftermath as services
from nqihub.testing.factories import MembershipFactory, OrganizationFactory, UserFactory

from .aftermath_setup import record_at_result

DAY = datetime.timedelta(days=1)


def _deadline(record, code, state=CaseDeadline.State.OPEN):
    return CaseDeadline.objects.get(case_id=record.case_id, code=code, state=state)


def _shift(record, code, days):
    """Move a running deadline ``days`` into the past (time passing, without a clock mock)."""
    d = _deadline(record, code)
    CaseDeadline.objects.filter(pk=d.pk).update(
        started_at=d.started_at - days * DAY,
        due_at=d.due_at - days * DAY,
        not_before=(d.not_before - days * DAY) if d.not_before else None,
    )


def _refused(action, outcome):
    return AuditEvent.objects.filter(action=action, outcome=outcome).exists()


@pytest.fixture
def record(world, sampling):
    return record_at_result(world, sampling, failing=(2,))


@pytest.fixture
def organiser(world):
    return world.users["baotou"]


def _notified(record, organiser):
    return services.record_notify(actor=organiser, record=record)


# --- Notice ------------------------------------------------------------------------------------


def test_notice_reaches_the_party_and_the_named_producer_and_starts_the_objection_period(world, sampling, organiser):
    producer = world.ent_qingshan
    record = record_at_result(world, sampling, failing=(2,), producer=producer)
    done = _notified(record, organiser)
    assert done.stage == SamplingRecord.Stage.NOTIFIED
    told = set(Notice.objects.filter(kind=services.NOTICE_KIND).values_list("organization_id", flat=True))
    assert told == {world.ent_kundulun.pk, producer.pk}
    deadline = _deadline(record, services.OBJECTION)
    assert deadline.due_at == done.notified_at + datetime.timedelta(days=15)
    assert CaseEvent.objects.filter(case_id=record.case_id, kind="notified").exists()
    # The named producer now sees the record (and not before).
    producer_user = MembershipFactory(user=UserFactory(username="producer_clerk"), organization=producer).user
    assert SamplingRecord.objects.for_user(producer_user).filter(pk=record.pk).exists()


def test_the_objection_period_follows_the_rule_data(record, organiser):
    SamplingRule.objects.filter(code="objection_days").update(value=20)
    done = _notified(record, organiser)
    assert _deadline(record, services.OBJECTION).due_at == done.notified_at + datetime.timedelta(days=20)


def test_only_the_organiser_notifies(world, sampling, record):
    with pytest.raises(Forbidden):  # the county regulator sees the record but did not organise it
        services.record_notify(actor=world.users["kundulun"], record=record)
    with pytest.raises(NotFound):  # another city's regulator does not even see it
        services.record_notify(actor=world.users["xincheng"], record=record)
    with pytest.raises(Forbidden):  # the sampled enterprise sees it, but does not notify
        services.record_notify(actor=world.users["ent_manager"], record=record)
    with pytest.raises(NotFound):
        services.record_notify(actor=world.users["ent_other"], record=record)
    assert _refused("sampling_record.notify", "denied")
    record.refresh_from_db()
    assert record.stage == SamplingRecord.Stage.TESTED


def test_notify_twice_is_refused(record, organiser):
    _notified(record, organiser)
    with pytest.raises(Conflict):
        _notified(record, organiser)


# --- Objection ---------------------------------------------------------------------------------


def test_objection_within_the_period_opens_a_case(world, sampling, record, organiser):
    _notified(record, organiser)
    items = [sampling.test_items[1].pk]
    objection = services.objection_submit(
        actor=world.users["ent_clerk"], record=record, reason="复检菌落总数", disputed_items=items
    )
    assert objection.case.kind == "sampling_objection"
    assert objection.case.state == Case.State.SUBMITTED
    assert objection.case.handling_organization_id == world.baotou_reg.pk
    assert objection.case.deadline is not None  # working days from the rule data
    assert list(objection.disputed_items.values_list("pk", flat=True)) == items
    record.refresh_from_db()
    assert record.stage == SamplingRecord.Stage.OBJECTED
    assert _deadline(record, services.OBJECTION, CaseDeadline.State.MET)
    assert Notice.objects.filter(organization=world.baotou_reg, kind=services.NOTICE_KIND).exists()


def test_objection_after_the_period_is_refused_with_the_date(world, sampling, record, organiser):
    _notified(record, organiser)
    _shift(record, services.OBJECTION, 16)
    ended = timezone.localdate(_deadline(record, services.OBJECTION).due_at).isoformat()
    with pytest.raises(Conflict) as refused:
        services.objection_submit(
            actor=world.users["ent_manager"], record=record, reason="x", disputed_items=[sampling.test_items[1].pk]
        )
    assert refused.value.code == "objection_period_over"
    assert ended in str(refused.value.message)
    assert not Objection.objects.exists()
    assert _refused("sampling_objection.submit", "failure")


def test_objection_by_another_enterprise_or_a_regulator_is_refused(world, sampling, record, organiser):
    _notified(record, organiser)
    item = [sampling.test_items[1].pk]
    with pytest.raises(NotFound):
        services.objection_submit(actor=world.users["ent_other"], record=record, reason="x", disputed_items=item)
    with pytest.raises(Forbidden):
        services.objection_submit(actor=world.users["baotou"], record=record, reason="x", disputed_items=item)
    with pytest.raises(Forbidden):
        services.objection_submit(actor=world.users["inst"], record=record, reason="x", disputed_items=item)
    assert not Objection.objects.exists()


def test_the_named_producer_may_object(world, sampling, organiser):
    producer = world.ent_qingshan
    record = record_at_result(world, sampling, failing=(2,), producer=producer)
    _notified(record, organiser)
    clerk = MembershipFactory(user=UserFactory(username="producer_clerk2"), organization=producer).user
    objection = services.objection_submit(
        actor=clerk, record=record, reason="产品非本厂生产", disputed_items=[sampling.test_items[1].pk]
    )
    assert objection.case.applicant_organization_id == producer.pk


def test_disputed_items_must_be_the_records_and_a_reason_given(world, sampling, record, organiser):
    _notified(record, organiser)
    actor = world.users["ent_manager"]
    with pytest.raises(InvalidInput) as none:
        services.objection_submit(actor=actor, record=record, reason="x", disputed_items=[])
    assert none.value.code == "disputed_items_required"
    other = OrganizationFactory(name="无关")  # noqa: F841 - a foreign item id below
    with pytest.raises(InvalidInput) as foreign:
        services.objection_submit(actor=actor, record=record, reason="x", disputed_items=[999999])
    assert foreign.value.code == "disputed_item_unknown"
    with pytest.raises(InvalidInput) as reason:
        services.objection_submit(actor=actor, record=record, reason="  ", disputed_items=[sampling.test_items[0].pk])
    assert reason.value.code == "reason_required"


def _objection(world, sampling, record, organiser, items=(1,)):
    _notified(record, organiser)
    return services.objection_submit(
        actor=world.users["ent_manager"],
        record=record,
        reason="异议",
        disputed_items=[sampling.test_items[i].pk for i in items],
    )


def test_the_retest_institution_is_qualified_and_not_the_first(world, sampling, record, organiser):
    objection = _objection(world, sampling, record, organiser)
    with pytest.raises(InvalidInput) as same:
        services.objection_accept(actor=organiser, objection=objection, institution=sampling.institution)
    assert same.value.code == "retest_same_institution"
    unqualified = OrganizationFactory(kind="institution", name="无资质机构", division_id="150203", credit_code=None)
    with pytest.raises(InvalidInput) as bad:
        services.objection_accept(actor=organiser, objection=objection, institution=unqualified)
    assert bad.value.code == "retest_not_qualified"
    with pytest.raises(Forbidden):
        services.objection_accept(
            actor=world.users["kundulun"], objection=objection, institution=sampling.retest_institution
        )
    accepted = services.objection_accept(actor=organiser, objection=objection, institution=sampling.retest_institution)
    assert accepted.recheck_institution_id == sampling.retest_institution.pk
    assert accepted.case.state == Case.State.ACCEPTED
    assert Notice.objects.filter(organization=sampling.retest_institution, kind=services.NOTICE_KIND).exists()


def test_retest_by_the_first_institution_is_refused(world, sampling, record, organiser):
    objection = _objection(world, sampling, record, organiser, items=(1,))
    services.objection_accept(actor=organiser, objection=objection, institution=sampling.retest_institution)
    rows = [{"test_item": sampling.test_items[1].pk, "value": "120000"}]
    with pytest.raises(Forbidden):
        services.objection_retest(actor=world.users["inst"], objection=objection, rows=rows)
    with pytest.raises(NotFound):
        services.objection_retest(actor=world.users["ent_other"], objection=objection, rows=rows)
    assert not Result.objects.filter(round=Result.Round.RECHECK).exists()


def test_retest_rows_must_be_the_disputed_items_only(world, sampling, record, organiser):
    objection = _objection(world, sampling, record, organiser, items=(1,))
    services.objection_accept(actor=organiser, objection=objection, institution=sampling.retest_institution)
    retester = sampling.users["retest"]
    with pytest.raises(InvalidInput):
        services.objection_retest(
            actor=retester,
            objection=objection,
            rows=[
                {"test_item": sampling.test_items[1].pk, "value": "1"},
                {"test_item": sampling.test_items[0].pk, "value": "3"},
            ],
        )
    with pytest.raises(InvalidInput) as value:
        services.objection_retest(
            actor=retester, objection=objection, rows=[{"test_item": sampling.test_items[1].pk, "value": "很多"}]
        )
    assert value.value.code == "result_value_required"


def test_retest_that_passes_is_final_and_the_organiser_pays(world, sampling, record, organiser):
    objection = _objection(world, sampling, record, organiser, items=(1,))
    services.objection_accept(actor=organiser, objection=objection, institution=sampling.retest_institution)
    done = services.objection_retest(
        actor=sampling.users["retest"],
        objection=objection,
        rows=[{"test_item": sampling.test_items[1].pk, "value": "90000"}],
    )
    assert done.conclusion == Conclusion.PASS
    record.refresh_from_db()
    assert record.stage == SamplingRecord.Stage.FINAL
    assert record.final_conclusion == Conclusion.PASS  # the re-test's conclusion is final
    assert not Disposal.objects.exists()
    assert services.retest_agrees(done) is False  # disagrees with the first: the organiser pays
    objection.case.refresh_from_db()
    assert objection.case.closed_at is not None
    with pytest.raises(Conflict):  # final: no second re-test
        services.objection_retest(
            actor=sampling.users["retest"],
            objection=objection,
            rows=[{"test_item": sampling.test_items[1].pk, "value": "1"}],
        )


def test_retest_that_fails_is_final_orders_the_disposal_and_the_party_pays(world, sampling, record, organiser):
    objection = _objection(world, sampling, record, organiser, items=(1,))
    services.objection_accept(actor=organiser, objection=objection, institution=sampling.retest_institution)
    done = services.objection_retest(
        actor=sampling.users["retest"],
        objection=objection,
        rows=[{"test_item": sampling.test_items[1].pk, "value": "300000"}],
    )
    assert services.retest_agrees(done) is True
    record.refresh_from_db()
    assert record.final_conclusion == Conclusion.FAIL
    assert Disposal.objects.get(record=record).state == Disposal.State.ORDERED


def test_an_undisputed_failure_stays_in_the_final_conclusion(world, sampling, organiser):
    record = record_at_result(world, sampling, failing=(1, 2))
    objection = _objection(world, sampling, record, organiser, items=(1,))
    services.objection_accept(actor=organiser, objection=objection, institution=sampling.retest_institution)
    services.objection_retest(
        actor=sampling.users["retest"],
        objection=objection,
        rows=[{"test_item": sampling.test_items[1].pk, "value": "10"}],
    )
    record.refresh_from_db()
    assert record.final_conclusion == Conclusion.FAIL


def test_a_rejected_objection_makes_the_first_conclusion_final(world, sampling, record, organiser):
    objection = _objection(world, sampling, record, organiser)
    with pytest.raises(InvalidInput):
        services.objection_reject(actor=organiser, objection=objection, reason="")
    services.objection_reject(actor=organiser, objection=objection, reason="超过期限的理由不成立")
    record.refresh_from_db()
    assert record.stage == SamplingRecord.Stage.FINAL
    assert record.final_conclusion == Conclusion.FAIL
    assert Disposal.objects.filter(record=record).exists()


# --- Final without objection -------------------------------------------------------------------


def test_the_organiser_makes_final_only_after_the_period(world, sampling, organiser):
    record = record_at_result(world, sampling)
    _notified(record, organiser)
    with pytest.raises(Conflict) as early:
        services.record_finalize(actor=organiser, record=record)
    assert early.value.code == "objection_period_running"
    _shift(record, services.OBJECTION, 16)
    done = services.record_finalize(actor=organiser, record=record)
    assert done.stage == SamplingRecord.Stage.FINAL and done.final_conclusion == Conclusion.PASS
    assert not Disposal.objects.exists()


# --- Handling of an unqualified product --------------------------------------------------------


@pytest.fixture
def disposal(world, sampling, record, organiser):
    _notified(record, organiser)
    _shift(record, services.OBJECTION, 16)
    services.record_finalize(actor=organiser, record=record)
    return Disposal.objects.get(record=record)


def test_a_final_failure_orders_stop_selling_with_deadlines_from_the_rules(world, record, disposal):
    correction = _deadline(record, services.CORRECTION)
    recheck = _deadline(record, services.RECHECK)
    assert correction.due_at == disposal.ordered_at + datetime.timedelta(days=60)
    assert recheck.due_at == disposal.ordered_at + datetime.timedelta(days=75)
    assert Notice.objects.filter(organization=world.ent_kundulun, kind=services.ORDER_NOTICE_KIND).exists()
    assert CaseEvent.objects.filter(case_id=record.case_id, kind="ordered").exists()


def test_changed_rules_give_other_disposal_dates(world, sampling, organiser):
    SamplingRule.objects.filter(code="correction_days").update(value=30)
    SamplingRule.objects.filter(code="recheck_days").update(value=45)
    record = record_at_result(world, sampling, failing=(3,))
    _notified(record, organiser)
    _shift(record, services.OBJECTION, 16)
    services.record_finalize(actor=organiser, record=record)
    ordered = Disposal.objects.get(record=record).ordered_at
    assert _deadline(record, services.CORRECTION).due_at == ordered + datetime.timedelta(days=30)
    assert _deadline(record, services.RECHECK).due_at == ordered + datetime.timedelta(days=45)


def test_correction_by_the_enterprise_only(world, record, disposal):
    with pytest.raises(NotFound):
        services.disposal_report_correction(actor=world.users["ent_other"], disposal=disposal, report="整改")
    with pytest.raises(Forbidden):
        services.disposal_report_correction(actor=world.users["baotou"], disposal=disposal, report="整改")
    with pytest.raises(InvalidInput):
        services.disposal_report_correction(actor=world.users["ent_clerk"], disposal=disposal, report=" ")
    done = services.disposal_report_correction(
        actor=world.users["ent_clerk"], disposal=disposal, report="更换原料供应商"
    )
    assert done.state == Disposal.State.CORRECTED
    assert _deadline(record, services.CORRECTION, CaseDeadline.State.MET)


def test_a_passed_recheck_closes_the_handling(world, record, disposal, organiser):
    with pytest.raises(Forbidden):
        services.disposal_recheck(actor=world.users["ent_manager"], disposal=disposal, passed=True)
    done = services.disposal_recheck(actor=organiser, disposal=disposal, passed=True, note="合格")
    assert done.state == Disposal.State.PASSED
    assert not CaseDeadline.objects.filter(case_id=record.case_id, state=CaseDeadline.State.OPEN).exists()


def test_a_failed_recheck_is_announced_and_opens_the_60_to_90_day_window(world, record, disposal, organiser):
    with pytest.raises(InvalidInput) as text:
        services.disposal_recheck(actor=organiser, disposal=disposal, passed=False)
    assert text.value.code == "announcement_required"
    done = services.disposal_recheck(
        actor=organiser, disposal=disposal, passed=False, announcement="复查不合格，予以公告"
    )
    assert done.state == Disposal.State.ANNOUNCED
    window = _deadline(record, services.SECOND_RECHECK)
    assert window.not_before == done.announced_at + datetime.timedelta(days=60)
    assert window.due_at == done.announced_at + datetime.timedelta(days=90)
    # The province (the region-level regulator) is told; the organiser's peers are not.
    told = set(
        Notice.objects.filter(kind=services.NOTICE_KIND, key__startswith="disposal:").values_list(
            "organization_id", flat=True
        )
    )
    assert world.region_reg.pk in told and world.hohhot_reg.pk not in told
    # Too early: refused with the date the window opens.
    with pytest.raises(Conflict) as early:
        services.disposal_second_recheck(actor=organiser, disposal=disposal, passed=True)
    assert early.value.code == "second_recheck_too_early"
    assert timezone.localdate(window.not_before).isoformat() in str(early.value.message)
    _shift(record, services.SECOND_RECHECK, 61)
    again = services.disposal_second_recheck(actor=organiser, disposal=disposal, passed=False, note="仍不合格")
    assert again.state == Disposal.State.FAILED_AGAIN
    assert _deadline(record, services.SECOND_RECHECK, CaseDeadline.State.MET)


def test_the_window_follows_the_rule_data(world, record, disposal, organiser):
    SamplingRule.objects.filter(code="second_recheck_from_days").update(value=30)
    SamplingRule.objects.filter(code="second_recheck_until_days").update(value=45)
    done = services.disposal_recheck(actor=organiser, disposal=disposal, passed=False, announcement="公告")
    window = _deadline(record, services.SECOND_RECHECK)
    assert window.not_before == done.announced_at + datetime.timedelta(days=30)
    assert window.due_at == done.announced_at + datetime.timedelta(days=45)


def test_scopes_of_objections_and_disposals(world, sampling, record, organiser):
    objection = _objection(world, sampling, record, organiser)
    sees = lambda user: Objection.objects.for_user(user).filter(pk=objection.pk).exists()  # noqa: E731
    assert sees(world.users["baotou"]) and sees(world.users["kundulun"]) and sees(world.users["region"])
    assert sees(world.users["ent_manager"]) and sees(world.users["inst"])
    assert not sees(world.users["xincheng"]) and not sees(world.users["ent_other"])
    assert not sees(world.users["qingshan"])
    assert not sees(sampling.users["retest"])  # not before it is named
    services.objection_accept(actor=organiser, objection=objection, institution=sampling.retest_institution)
    assert sees(sampling.users["retest"])
    assert not Organization.objects.none().exists()


# Role × action on an objection and on a disposal of 昆都仑区's record in 包头市's batch.
OBJECTION_MATRIX = {
    # who: (view, handle, retest)
    "region": (True, False, False),
    "baotou": (True, True, False),
    "kundulun": (True, False, False),
    "kundulun_viewer": (True, False, False),
    "qingshan": (False, False, False),
    "xincheng": (False, False, False),
    "ent_manager": (True, False, False),
    "ent_other": (False, False, False),
    "inst": (True, False, False),
    "retest": (True, False, True),
    "sysadmin": (False, False, False),
    "auditor": (False, False, False),
}
DISPOSAL_MATRIX = {
    # who: (view, handle, correct)
    "region": (True, False, False),
    "baotou": (True, True, False),
    "kundulun": (True, False, False),
    "qingshan": (False, False, False),
    "xincheng": (False, False, False),
    "ent_manager": (True, False, True),
    "ent_clerk": (True, False, True),
    "ent_other": (False, False, False),
    "inst": (False, False, False),
    "retest": (False, False, False),
    "sysadmin": (False, False, False),
}


def _user(world, sampling, name):
    return sampling.users.get(name) or world.users[name]


def test_permission_matrix_of_objections(world, sampling, record, organiser):
    objection = _objection(world, sampling, record, organiser)
    services.objection_accept(actor=organiser, objection=objection, institution=sampling.retest_institution)
    for name, expected in OBJECTION_MATRIX.items():
        user = _user(world, sampling, name)
        got = tuple(
            Objection.objects.for_user(user, step).filter(pk=objection.pk).exists()
            for step in ("view", "handle", "retest")
        )
        assert got == expected, name


def test_permission_matrix_of_disposals(world, sampling, record, disposal):
    from django.contrib.auth.models import AnonymousUser

    for name, expected in DISPOSAL_MATRIX.items():
        user = _user(world, sampling, name)
        got = tuple(
            Disposal.objects.for_user(user, step).filter(pk=disposal.pk).exists()
            for step in ("view", "handle", "correct")
        )
        assert got == expected, name
    assert not Disposal.objects.for_user(AnonymousUser(), "view").exists()
