"""Records that reached the result (stage ``tested``), for the tests of what follows: the case
opened with the kernel, the record, its first-test results, and the stage moved through the
record's own transitions in order (the field-work services are tested on their own)."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from nqihub.cases import services as case_services
from nqihub.sampling.models import Conclusion, Draw, SamplingRecord, Selection, TestResult


def draw_for(sampling, user) -> Draw:
    draw = Draw.objects.filter(batch=sampling.batch, purpose=Draw.Purpose.OBJECTS).first()
    if draw is None:
        draw = Draw.objects.create(
            batch=sampling.batch,
            purpose=Draw.Purpose.OBJECTS,
            seq=1,
            seed="0123456789abcdef",
            algorithm="test",
            pool_size=len(sampling.objects),
            pool_sha256="0" * 64,
            pool_file="",
            drawn_by=user,
            drawn_at=timezone.now(),
        )
    return draw


def record_at_result(
    world, sampling, key="kundulun", *, failing=(), producer=None, institution=None, obj=None
) -> SamplingRecord:
    """A record of pool object ``key`` tested by the batch's institution; the test items named
    (by sequence number) in ``failing`` failed."""
    user = world.users["baotou"]
    obj = obj or sampling.objects[key]
    draw = draw_for(sampling, user)
    selection = Selection.objects.create(
        batch=sampling.batch, draw=draw, pool_object=obj, stratum=obj.division_id, rank=Selection.objects.count() + 1
    )
    case = case_services.case_open(
        kind="sampling_record",
        actor=user,
        applicant_organization=None,
        handling_organization=sampling.batch.organizer,
        division=obj.division,
    )
    record = SamplingRecord(
        case=case,
        batch=sampling.batch,
        selection=selection,
        pool_object=obj,
        organization=obj.organization,
        producer=producer,
        division=obj.division,
        institution=institution or sampling.institution,
        sampled_at=timezone.now(),
    )
    record.save()
    record.mark_sampled()
    record.mark_received()
    record.mark_tested()
    record.tested_at = timezone.now()
    record.conclusion = Conclusion.FAIL if failing else Conclusion.PASS
    record.save()
    values = {1: ("3.1", Decimal("3.1")), 2: ("50000", Decimal("50000")), 3: ("符合", None)}
    failed_values = {1: ("2.5", Decimal("2.5")), 2: ("250000", Decimal("250000")), 3: ("不符合", None)}
    for item in sampling.test_items:
        measured, value = (failed_values if item.seq in failing else values)[item.seq]
        TestResult.objects.create(
            record=record,
            test_item=item,
            measured=measured,
            value=value,
            conclusion=Conclusion.FAIL if item.seq in failing else Conclusion.PASS,
            recorded_by=world.users["inst"],
            recorded_at=timezone.now(),
        )
    return record
