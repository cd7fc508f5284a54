"""Sampling records written straight to the tables for the disclosure and analysis tests (the
field-work services are tested on their own): a record of a pool object in a batch, at a stage,
with its results per test item, carrying private details the public must never see."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from nqihub.cases import services as case_services
from nqihub.sampling.models import Batch, Draw, SamplingRecord, Selection, TestResult

# Private details put on every record: none of them may reach the public page, export or API.
PRIVATE = {
    "party_signatory": "张保密",
    "seal_numbers": "FZ-SECRET-0077",
    "sample_price": Decimal("987.65"),
    "place": "包头市昆都仑区保密路999号",
    "sample_condition": "内部备注：包装完好",
    "notice_number": "TZ-INTERNAL-42",
}
PRIVATE_TEXTS = ["张保密", "FZ-SECRET-0077", "987.65", "保密路999号", "内部备注", "TZ-INTERNAL-42", "拒绝理由保密"]


def set_state(batch: Batch, state: str, **values) -> Batch:
    Batch.objects.filter(pk=batch.pk).update(state=state, **values)
    return Batch.objects.get(pk=batch.pk)


def _draw(batch: Batch, actor) -> Draw:
    draw = Draw.objects.filter(batch=batch, purpose=Draw.Purpose.OBJECTS).order_by("-seq").first()
    if draw is None:
        draw = Draw.objects.create(
            batch=batch,
            purpose=Draw.Purpose.OBJECTS,
            seq=1,
            seed="0" * 64,
            algorithm="test",
            pool_size=0,
            pool_sha256="0" * 64,
            pool_file="sampling/draws/test.csv",
            drawn_by=actor,
            drawn_at=timezone.now(),
        )
    return draw


def make_record(
    sampling,
    obj,
    *,
    actor,
    batch: Batch | None = None,
    stage: str = SamplingRecord.Stage.FINAL,
    fails: tuple[int, ...] = (),
    retests: dict[int, str] | None = None,
    production_batch: str = "20260301",
) -> SamplingRecord:
    """A record of ``obj`` in ``batch`` at ``stage``. Test items whose ``seq`` is in ``fails``
    fail the first test; ``retests`` maps a seq to the re-test's judgement (``pass``/``fail``).
    The conclusion follows (any failing deciding item: unqualified)."""
    batch = batch or sampling.batch
    draw = _draw(batch, actor)
    rank = Selection.objects.filter(batch=batch).count() + 1
    selection = Selection.objects.create(batch=batch, draw=draw, pool_object=obj, stratum=obj.division_id, rank=rank)
    case = case_services.case_open(
        kind="sampling_record", actor=actor, handling_organization=batch.organizer, division=obj.division
    )
    retests = retests or {}
    deciding = {item.seq: ("fail" if item.seq in fails else "pass") for item in sampling.test_items}
    deciding.update(retests)
    tested = stage not in (SamplingRecord.Stage.ASSIGNED, SamplingRecord.Stage.SAMPLED, SamplingRecord.Stage.REFUSED)
    first = "fail" if any(item.seq in fails for item in sampling.test_items) else "pass"
    final = "fail" if "fail" in deciding.values() else "pass"
    now = timezone.now()
    record = SamplingRecord.objects.create(
        case=case,
        batch=batch,
        selection=selection,
        pool_object=obj,
        organization=obj.organization,
        producer=obj.producer,
        division_id=obj.division_id,
        institution=sampling.institution,
        stage=stage,
        production_batch=production_batch,
        sampled_at=None if stage == SamplingRecord.Stage.REFUSED else now - datetime.timedelta(days=20),
        refusal_reason="拒绝理由保密：负责人不在" if stage == SamplingRecord.Stage.REFUSED else "",
        conclusion=first if tested else "",
        final_conclusion=final if stage == SamplingRecord.Stage.FINAL else "",
        final_at=now if stage == SamplingRecord.Stage.FINAL else None,
        **PRIVATE,
    )
    if tested:
        for item in sampling.test_items:
            TestResult.objects.create(
                record=record,
                test_item=item,
                measured="不符合" if item.seq in fails else "符合",
                conclusion="fail" if item.seq in fails else "pass",
                recorded_by=actor,
                recorded_at=now,
            )
        for seq, judgement in retests.items():
            TestResult.objects.create(
                record=record,
                test_item=next(i for i in sampling.test_items if i.seq == seq),
                round=TestResult.Round.RECHECK,
                measured=judgement,
                conclusion=judgement,
                recorded_by=actor,
                recorded_at=now,
            )
    return record
