"""Sampling records for the field-work tests, on top of the ``sampling`` fixture.

The draw's confirmation (another area) creates the records; here they are written straight to
the tables with the kernel's case: a draw of objects and one of inspectors for the draft batch,
and a record per chosen object with its case (kind ``sampling_record``).

For the object in 昆都仑区 (``kundulun``), the inspectors drawn are 赵执法 (qs1) and 孙执法 (bt1);
王执法 (kd1) was drawn first but recused (same office) and 周执法 (bt2) drawn in his place;
李执法 (kd2) was not drawn at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from nqihub.cases import services as case_services
from nqihub.sampling.models import Assignment, Batch, Draw, SamplingRecord, Selection

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


def photo(name: str = "封样照片.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG, content_type="image/png")


@dataclass
class Field:
    sampling: object
    world: object
    record: SamplingRecord  # 昆都仑区's enterprise, assigned
    other: SamplingRecord  # 青山区's enterprise, assigned
    draw: Draw


def make_record(sampling, world, key: str, selection: Selection) -> SamplingRecord:
    obj = sampling.objects[key]
    case = case_services.case_open(
        kind="sampling_record",
        actor=world.users["baotou"],
        handling_organization=sampling.batch.organizer,
        division=obj.division,
    )
    return SamplingRecord.objects.create(
        case=case,
        batch=sampling.batch,
        selection=selection,
        pool_object=obj,
        organization=obj.organization,
        division=obj.division,
        institution=sampling.institution,
    )


@pytest.fixture(name="field")
def field_fixture(sampling, world) -> Field:
    batch = sampling.batch
    now = timezone.now()
    user = world.users["baotou"]
    objects_draw = Draw.objects.create(
        batch=batch,
        purpose=Draw.Purpose.OBJECTS,
        seq=1,
        seed="0" * 64,
        algorithm="test",
        pool_size=9,
        pool_sha256="0" * 64,
        pool_file="sampling/draws/test.csv",
        drawn_by=user,
        drawn_at=now,
    )
    inspectors_draw = Draw.objects.create(
        batch=batch,
        purpose=Draw.Purpose.INSPECTORS,
        seq=1,
        seed="1" * 64,
        algorithm="test",
        pool_size=6,
        pool_sha256="1" * 64,
        pool_file="sampling/draws/test-inspectors.csv",
        drawn_by=user,
        drawn_at=now,
    )
    Batch.objects.filter(pk=batch.pk).update(state=Batch.State.SAMPLING)
    selections = {}
    for rank, key in enumerate(("kundulun", "qingshan"), start=1):
        selections[key] = Selection.objects.create(
            batch=batch, draw=objects_draw, pool_object=sampling.objects[key], stratum="150200", rank=rank
        )
    inspectors = sampling.inspectors

    def assign(selection, key, rank, recusal="", replaces=None):
        return Assignment.objects.create(
            selection=selection,
            draw=inspectors_draw,
            inspector=inspectors[key],
            rank=rank,
            recusal=recusal,
            replaces=replaces,
        )

    recused = assign(selections["kundulun"], "kd1", 1, recusal=Assignment.Recusal.SAME_OFFICE)
    assign(selections["kundulun"], "qs1", 2)
    assign(selections["kundulun"], "bt1", 3)
    assign(selections["kundulun"], "bt2", 4, replaces=recused)
    assign(selections["qingshan"], "bt1", 1)
    assign(selections["qingshan"], "bt2", 2)
    record = make_record(sampling, world, "kundulun", selections["kundulun"])
    other = make_record(sampling, world, "qingshan", selections["qingshan"])
    return Field(sampling=sampling, world=world, record=record, other=other, draw=inspectors_draw)


def sampling_data(field: Field, **overrides) -> dict:
    inspectors = field.sampling.inspectors
    data = {
        "samplers": [inspectors["qs1"].pk, inspectors["bt1"].pk],
        "notice_number": "包市监抽〔2026〕001号",
        "sampled_at": (timezone.now() - timezone.timedelta(hours=2)).isoformat(),
        "place": "包头市昆都仑区钢铁大街 12 号成品库",
        "production_batch": "20260501A",
        "lot_size": 500,
        "seal_numbers": "FY-0001, FY-0002",
        "sample_price": "96.00",
        "party_signatory": "张保管",
    }
    data.update(overrides)
    return data


def sample(field: Field, record=None, **overrides) -> SamplingRecord:
    from nqihub.sampling.services.records import record_sample

    return record_sample(
        actor=field.world.users["baotou"],
        record=record or field.record,
        data=sampling_data(field, **overrides),
        files=[photo()],
    )


def receive(field: Field, record=None) -> SamplingRecord:
    from nqihub.sampling.services.records import record_receive

    return record_receive(
        actor=field.world.users["inst"], record=record or field.record, condition="封条完好，样品与抽样单一致"
    )


def result_rows(field: Field, protein="3.1", colonies="5000", label="pass") -> list[dict]:
    items = field.sampling.test_items
    return [
        {"test_item": items[0].pk, "value": protein},
        {"test_item": items[1].pk, "value": colonies},
        {"test_item": items[2].pk, "measured": "标签内容完整", "conclusion": label},
    ]
