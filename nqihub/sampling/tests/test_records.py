"""Field work on a sampling record: sampling or refusal, receipt, results — who may, what is
refused (and recorded), and the judgement at the limits."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from nqihub.audit.models import AuditEvent
from nqihub.cases.models import CaseEvent
from nqihub.core.errors import Forbidden, InvalidInput, NotFound, ServiceError
from nqihub.sampling.models import Conclusion, SamplingRecord, TestResult
from nqihub.sampling.services.records import record_refuse, record_results, record_sample

from .records_setup import field_fixture, photo, receive, result_rows, sample, sampling_data  # noqa: F401

pytestmark = pytest.mark.django_db


def _last(action: str) -> AuditEvent:
    return AuditEvent.objects.filter(action=action).latest("seq")


# --- sampling ------------------------------------------------------------------------------------


def test_organiser_takes_and_seals_the_samples(field):
    record = sample(field)
    record.refresh_from_db()
    assert record.stage == SamplingRecord.Stage.SAMPLED
    assert {p.pk for p in record.samplers.all()} == {
        field.sampling.inspectors["qs1"].pk,
        field.sampling.inspectors["bt1"].pk,
    }
    # The quantities default from the batch's implementation rules (4 + 4).
    assert (record.test_quantity, record.spare_quantity) == (4, 4)
    assert record.seal_numbers == "FY-0001, FY-0002"
    assert record.sample_price == Decimal("96.00")
    assert record.case.attachments.count() == 1
    assert CaseEvent.objects.filter(case=record.case, kind="sampled").exists()
    event = _last("sampling_record.sample")
    assert event.outcome == "success"
    assert event.details["notice_number"] == "包市监抽〔2026〕001号"


@pytest.mark.parametrize(
    ("user", "error"),
    [
        ("kundulun", Forbidden),  # sees the record in its county, but is not the organiser
        ("xincheng", NotFound),  # another city's county
        ("inst", Forbidden),  # the testing institution sees it, may not sample
        ("ent_manager", NotFound),  # the enterprise never sees a record before sampling
        ("ent_other", NotFound),
    ],
)
def test_only_the_organiser_samples(field, user, error):
    with pytest.raises(error):
        record_sample(actor=field.world.users[user], record=field.record, data=sampling_data(field), files=[photo()])
    assert SamplingRecord.objects.get(pk=field.record.pk).stage == SamplingRecord.Stage.ASSIGNED
    assert _last("sampling_record.sample").outcome == "denied"


def test_viewer_of_the_organiser_may_not_sample(field, world):
    from nqihub.core.access import MembershipRole
    from nqihub.testing.factories import MembershipFactory, UserFactory

    viewer = MembershipFactory(
        user=UserFactory(username="bt_viewer"), organization=world.baotou_reg, role=MembershipRole.VIEWER
    ).user
    with pytest.raises(Forbidden):
        record_sample(actor=viewer, record=field.record, data=sampling_data(field), files=[photo()])


@pytest.mark.parametrize(
    ("overrides", "code", "field_name"),
    [
        ({"samplers": []}, "samplers_too_few", "samplers"),
        ({"samplers": ["qs1"]}, "samplers_too_few", "samplers"),
        ({"samplers": ["qs1", "qs1"]}, "samplers_too_few", "samplers"),  # the same person twice is one
        ({"samplers": ["qs1", "kd1"]}, "sampler_not_assigned", "samplers"),  # recused
        ({"samplers": ["qs1", "kd2"]}, "sampler_not_assigned", "samplers"),  # never drawn
        ({"test_quantity": 3}, "quantity_too_small", "test_quantity"),
        ({"spare_quantity": 1}, "quantity_too_small", "spare_quantity"),
        ({"seal_numbers": "FY-0001"}, "seals_required", "seal_numbers"),
        ({"seal_numbers": "FY-0001 FY-0001"}, "seals_required", "seal_numbers"),
        ({"notice_number": ""}, "required", "notice_number"),
        ({"party_signatory": " "}, "required", "party_signatory"),
        ({"sample_price": "-1"}, "invalid", "sample_price"),
        ({"lot_size": 5}, "invalid", "lot_size"),  # 8 units cannot come from a lot of 5
        ({"sampled_at": "2099-01-01T10:00:00"}, "invalid", "sampled_at"),
    ],
)
def test_sampling_input_is_checked(field, overrides, code, field_name):
    inspectors = field.sampling.inspectors
    if "samplers" in overrides:
        overrides["samplers"] = [inspectors[key].pk for key in overrides["samplers"]]
    with pytest.raises(InvalidInput) as caught:
        record_sample(
            actor=field.world.users["baotou"],
            record=field.record,
            data=sampling_data(field, **overrides),
            files=[photo()],
        )
    assert caught.value.code == code
    assert caught.value.field == field_name
    record = SamplingRecord.objects.get(pk=field.record.pk)
    assert record.stage == SamplingRecord.Stage.ASSIGNED
    assert not record.samplers.exists() and not record.case.attachments.exists()
    event = _last("sampling_record.sample")
    assert event.outcome == "failure"


def test_the_minimum_of_samplers_is_the_rule(field):
    """Not a constant: raising the rule to 3 refuses two samplers."""
    from nqihub.sampling.models import SamplingRule

    SamplingRule.objects.filter(code="min_inspectors").update(value=3)
    with pytest.raises(InvalidInput) as caught:
        sample(field)
    assert caught.value.code == "samplers_too_few"
    inspectors = field.sampling.inspectors
    record = sample(field, samplers=[inspectors[k].pk for k in ("qs1", "bt1", "bt2")])
    assert record.samplers.count() == 3


def test_a_sampler_with_an_expired_certificate_is_refused(field):
    import datetime

    from nqihub.sampling.models import Inspector

    yesterday = datetime.date.today() - datetime.timedelta(days=1)
    Inspector.objects.filter(pk=field.sampling.inspectors["bt1"].pk).update(certificate_valid_until=yesterday)
    with pytest.raises(InvalidInput) as caught:
        sample(field)
    assert caught.value.code == "sampler_certificate_expired"
    # Valid on the day of sampling (two days ago) is enough.
    record = sample(field, sampled_at=(timezone.now() - datetime.timedelta(days=2)).isoformat())
    assert record.stage == SamplingRecord.Stage.SAMPLED


def test_sampling_needs_the_photos(field):
    with pytest.raises(InvalidInput) as caught:
        record_sample(actor=field.world.users["baotou"], record=field.record, data=sampling_data(field), files=[])
    assert caught.value.code == "evidence_required"


def test_a_record_is_sampled_once(field):
    sample(field)
    with pytest.raises(ServiceError) as caught:
        sample(field)
    assert caught.value.code == "invalid_state"


def test_a_message_in_chinese_by_default(field):
    from django.utils import translation

    with translation.override("zh-hans"), pytest.raises(InvalidInput) as caught:
        sample(field, samplers=[field.sampling.inspectors["qs1"].pk])
    assert "抽样人员" in str(caught.value.message)


# --- refusal -------------------------------------------------------------------------------------


def test_refusal_needs_reason_and_evidence(field):
    user = field.world.users["baotou"]
    with pytest.raises(InvalidInput) as caught:
        record_refuse(actor=user, record=field.record, reason="", evidence=[photo()])
    assert caught.value.code == "reason_required"
    with pytest.raises(InvalidInput) as caught:
        record_refuse(actor=user, record=field.record, reason="企业负责人拒绝在抽样单上签字并阻止抽样", evidence=[])
    assert caught.value.code == "evidence_required"
    assert _last("sampling_record.refuse").outcome == "failure"
    record = record_refuse(
        actor=user, record=field.record, reason="企业负责人拒绝抽样", evidence=[photo("拒检现场.png")]
    )
    assert record.stage == SamplingRecord.Stage.REFUSED
    assert record.case.attachments.get().name == "拒检现场.png"
    assert CaseEvent.objects.filter(case=record.case, kind="refused").exists()
    assert _last("sampling_record.refuse").outcome == "success"
    # From the refusal on, the sampled enterprise sees the record.
    assert SamplingRecord.objects.for_user(field.world.users["ent_manager"], "view").filter(pk=record.pk).exists()


def test_refusal_by_another_regulator_is_refused_and_recorded(field):
    with pytest.raises(Forbidden):
        record_refuse(actor=field.world.users["qingshan"], record=field.other, reason="x", evidence=[photo()])
    assert _last("sampling_record.refuse").outcome == "denied"


# --- receipt -------------------------------------------------------------------------------------


def test_the_institution_receives(field):
    sample(field)
    record = receive(field)
    assert record.stage == SamplingRecord.Stage.RECEIVED
    assert record.received_by == field.world.users["inst"]
    assert record.sample_condition.startswith("封条完好")
    assert CaseEvent.objects.filter(case=record.case, kind="received").exists()


@pytest.mark.parametrize(("user", "error"), [("retest", NotFound), ("baotou", Forbidden), ("ent_manager", Forbidden)])
def test_only_the_records_institution_receives(field, user, error):
    from nqihub.sampling.services.records import record_receive

    sample(field)
    users = {**field.world.users, **field.sampling.users}
    with pytest.raises(error):
        record_receive(actor=users[user], record=field.record, condition="完好")
    assert _last("sampling_record.receive").outcome == "denied"


def test_receipt_needs_the_condition_and_a_sampled_record(field):
    from nqihub.sampling.services.records import record_receive

    with pytest.raises(ServiceError) as caught:
        receive(field)  # not sampled yet
    assert caught.value.code == "invalid_state"
    sample(field)
    with pytest.raises(InvalidInput) as caught:
        record_receive(actor=field.world.users["inst"], record=field.record, condition="  ")
    assert caught.value.code == "required"


# --- results -------------------------------------------------------------------------------------


def _received(field):
    sample(field)
    return receive(field)


def test_values_equal_to_a_limit_pass(field):
    _received(field)
    record = record_results(
        actor=field.world.users["inst"], record=field.record, rows=result_rows(field, "2.9", "100000")
    )
    assert record.conclusion == Conclusion.PASS
    judged = dict(TestResult.objects.filter(record=record).values_list("test_item__seq", "conclusion"))
    assert judged == {1: "pass", 2: "pass", 3: "pass"}
    assert CaseEvent.objects.filter(case=record.case, kind="result").exists()


@pytest.mark.parametrize(
    ("protein", "colonies", "label", "failed"),
    [
        ("2.8999", "100000", "pass", {1}),
        ("2.9", "100000.0001", "pass", {2}),
        ("3", "10", "fail", {3}),
        ("1", "200000", "fail", {1, 2, 3}),
    ],
)
def test_any_failed_item_fails_the_record(field, protein, colonies, label, failed):
    _received(field)
    record = record_results(
        actor=field.world.users["inst"], record=field.record, rows=result_rows(field, protein, colonies, label)
    )
    assert record.conclusion == Conclusion.FAIL
    judged = TestResult.objects.filter(record=record, conclusion="fail").values_list("test_item__seq", flat=True)
    assert set(judged) == failed


def test_results_may_be_entered_again_before_the_report(field):
    _received(field)
    user = field.world.users["inst"]
    record_results(actor=user, record=field.record, rows=result_rows(field, "1"))
    record = record_results(actor=user, record=field.record, rows=result_rows(field, "3"))
    assert record.conclusion == Conclusion.PASS
    assert TestResult.objects.filter(record=record).count() == 3
    assert _last("sampling_record.results").details["replaced"] == 3


@pytest.mark.parametrize(
    ("rows", "code"),
    [
        (lambda f: result_rows(f)[:2], "result_missing"),  # the text item left out
        (lambda f: [{**r, "value": ""} if i == 0 else r for i, r in enumerate(result_rows(f))], "result_missing"),
        (lambda f: [{**r, "value": "约3克"} if i == 0 else r for i, r in enumerate(result_rows(f))], "result_invalid"),
        (lambda f: [{**r, "value": "NaN"} if i == 0 else r for i, r in enumerate(result_rows(f))], "result_invalid"),
        (
            lambda f: [{**r, "value": "3.12345"} if i == 0 else r for i, r in enumerate(result_rows(f))],
            "result_invalid",
        ),
        (lambda f: [{**r, "conclusion": ""} if i == 2 else r for i, r in enumerate(result_rows(f))], "result_invalid"),
        (lambda f: [{**r, "measured": ""} if i == 2 else r for i, r in enumerate(result_rows(f))], "result_missing"),
        (lambda f: [*result_rows(f), {"test_item": 999999, "value": "1"}], "result_invalid"),
        (lambda f: "3.1", "invalid"),
    ],
)
def test_results_are_checked(field, rows, code):
    _received(field)
    with pytest.raises(InvalidInput) as caught:
        record_results(actor=field.world.users["inst"], record=field.record, rows=rows(field))
    assert caught.value.code == code
    assert not TestResult.objects.filter(record=field.record).exists()
    assert SamplingRecord.objects.get(pk=field.record.pk).conclusion == ""
    assert _last("sampling_record.results").outcome == "failure"


@pytest.mark.parametrize(("user", "error"), [("retest", NotFound), ("baotou", Forbidden), ("xincheng", NotFound)])
def test_only_the_records_institution_records_results(field, user, error):
    _received(field)
    users = {**field.world.users, **field.sampling.users}
    with pytest.raises(error):
        record_results(actor=users[user], record=field.record, rows=result_rows(field))
    assert _last("sampling_record.results").outcome == "denied"


def test_results_need_received_samples(field):
    sample(field)
    with pytest.raises(ServiceError) as caught:
        record_results(actor=field.world.users["inst"], record=field.record, rows=result_rows(field))
    assert caught.value.code == "invalid_state"


# --- who sees a record ---------------------------------------------------------------------------


def test_the_enterprise_sees_its_record_only_from_sampling_on(field):
    ent = field.world.users["ent_manager"]
    visible = SamplingRecord.objects.for_user(ent, "view")
    assert not visible.filter(pk=field.record.pk).exists()
    sample(field)
    assert visible.filter(pk=field.record.pk).exists()
    assert not visible.filter(pk=field.other.pk).exists()  # another enterprise's record
    assert not SamplingRecord.objects.for_user(field.world.users["ent_other"], "view").exists()
