"""The draw service: the stored pool file, seed and quotas re-run to the same list; redraws keep
the earlier draw and need a reason; inspectors are drawn with recusal; confirming opens the
sampling records, hidden from the sampled enterprise until the samples are taken."""

from __future__ import annotations

import io

import pytest

from nqihub.audit.models import AuditEvent
from nqihub.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from nqihub.sampling import draw as algorithm
from nqihub.sampling.models import Assignment, Batch, Draw, InspectorConflict, SamplingRecord, Selection
from nqihub.sampling.services import draws as services

pytestmark = pytest.mark.django_db


def _draw(sampling, world, **kwargs):
    return services.batch_draw(actor=world.users["baotou"], batch=sampling.batch, **kwargs)


def test_rerunning_a_stored_draw_from_its_pool_file_and_seed_gives_the_identical_list(sampling, world):
    drawn = _draw(sampling, world)
    assert services.rerun_objects(drawn) == services.stored_result(drawn)
    # The same through the verifier shipped in draw.py, from the files as published.
    with drawn.pool_file.open("rb") as handle:
        data = handle.read()
    assert algorithm.file_digest(data) == drawn.pool_sha256
    assert data.startswith(b"\xef\xbb\xbfobject_id,stratum,weight,")
    tmp = pytest.importorskip("tempfile")
    with tmp.TemporaryDirectory() as folder:
        pool, quotas = f"{folder}/pool.csv", f"{folder}/quotas.csv"
        open(pool, "wb").write(data)
        open(quotas, "wb").write(algorithm.quotas_csv(drawn.quotas))
        out = io.StringIO()
        assert algorithm.main(["--pool", pool, "--seed", drawn.seed, "--quotas", quotas], stdout=out) == 0
    listed = [line.split(",") for line in out.getvalue().splitlines() if line and not line.startswith("#")][1:]
    stored = [
        [s, str(rank), str(i)]
        for s, ids in sorted(services.stored_result(drawn).items())
        for rank, i in enumerate(ids, 1)
    ]
    assert listed == stored


def test_the_draw_keeps_its_inputs_strata_and_the_audit_trail(sampling, world):
    drawn = _draw(sampling, world)
    batch = Batch.objects.get(pk=sampling.batch.pk)
    assert batch.state == Batch.State.DRAWN
    assert drawn.seq == 1 and len(drawn.seed) == 32 and drawn.algorithm == algorithm.ALGORITHM
    # The pool: 包头市's active dairy objects (呼和浩特's is outside the area).
    assert drawn.pool_size == 8
    selected = Selection.objects.filter(draw=drawn, status=Selection.Status.SELECTED)
    assert selected.count() == 4
    assert sampling.objects["xincheng"].pk not in selected.values_list("pool_object_id", flat=True)
    assert {s.stratum.split("/")[1] for s in selected} == {"C01"}
    assert sum(drawn.quotas.values()) == 4
    record = AuditEvent.objects.filter(action="sampling.batch_draw").latest("pk")
    assert record.details["seed"] == drawn.seed
    assert record.details["pool_sha256"] == drawn.pool_sha256
    assert sorted(record.details["selected"]) == sorted(selected.values_list("pool_object_id", flat=True))


def test_a_redraw_needs_a_reason_and_keeps_the_earlier_draw(sampling, world):
    first = _draw(sampling, world)
    with pytest.raises(InvalidInput):
        _draw(sampling, world)
    assert Draw.objects.filter(batch=sampling.batch, purpose="objects").count() == 1
    assert AuditEvent.objects.filter(action="sampling.batch_draw", outcome="failure").exists()
    second = _draw(sampling, world, reason="抽取时名录库未更新")
    assert second.seq == 2 and second.reason == "抽取时名录库未更新"
    assert Selection.objects.filter(draw=first).count() >= 4  # the first draw stays
    assert set(services.effective_selections(sampling.batch).values_list("draw_id", flat=True)) == {second.pk}


def test_only_the_organiser_draws(sampling, world):
    with pytest.raises(NotFound):
        services.batch_draw(actor=world.users["xincheng"], batch=sampling.batch)
    with pytest.raises(Forbidden):  # the region sees the batch but does not organise it
        services.batch_draw(actor=world.users["region"], batch=sampling.batch)
    with pytest.raises(NotFound):
        services.batch_draw(actor=world.users["ent_manager"], batch=sampling.batch)
    with pytest.raises(Forbidden):  # the testing institution sees its batch, nothing more
        services.batch_draw(actor=world.users["inst"], batch=sampling.batch.pk)
    with pytest.raises(NotFound):  # a county below does not see the city's batch
        services.batch_draw(actor=world.users["kundulun_viewer"], batch=sampling.batch.pk)
    assert not Draw.objects.exists()


def test_each_object_gets_two_inspectors_with_recusal_kept(sampling, world):
    # 包头市 organises above county level: 昆都仑区's own inspectors recuse from its enterprises.
    InspectorConflict.objects.create(
        inspector=sampling.inspectors["bt1"],
        organization=world.ent_kundulun,
        reason="亲属在该企业任职",
        declared_at="2026-01-05T09:00:00+08:00",
    )
    drawn = _draw(sampling, world)
    inspector_draw = services.latest_draw(sampling.batch, Draw.Purpose.INSPECTORS)
    for selection in Selection.objects.filter(draw=drawn, status="selected").select_related("pool_object"):
        active = Assignment.objects.filter(selection=selection, recusal="")
        assert active.count() == 2
        obj = selection.pool_object
        assert all(a.inspector.division_id != obj.division_id for a in active)
        recused = list(Assignment.objects.filter(selection=selection).exclude(recusal=""))
        expected = algorithm.draw_inspectors(
            obj.pk,
            services.eligible_inspectors(sampling.batch).values_list("pk", flat=True),
            seed=inspector_draw.seed,
            count=2,
            exclude=[a.inspector_id for a in recused],
        )
        assert [a.inspector_id for a in active.order_by("rank")] == expected
        for row in recused:
            assert row.recusal in ("same_office", "declared")
        if recused:
            assert Assignment.objects.filter(selection=selection, replaces__in=recused).exists()
        if obj.organization_id == world.ent_kundulun.pk:
            assert sampling.inspectors["bt1"].pk not in expected


def test_too_few_inspectors_refuses_naming_the_object(sampling, world):
    for key in ("qs1", "qs2", "bt1", "bt2", "kd2"):
        sampling.inspectors[key].is_available = False
        sampling.inspectors[key].save()
    with pytest.raises(Conflict) as refused:
        _draw(sampling, world)
    assert refused.value.code == "too_few_inspectors"
    assert not Draw.objects.exists()
    assert Batch.objects.get(pk=sampling.batch.pk).state == Batch.State.DRAFT


def test_confirming_opens_records_round_robin_and_hides_them_from_the_enterprise(sampling, world):
    from nqihub.sampling.models import BatchInstitution

    BatchInstitution.objects.create(batch=sampling.batch, institution=sampling.retest_institution)
    _draw(sampling, world)
    services.batch_confirm(actor=world.users["baotou"], batch=sampling.batch)
    batch = Batch.objects.get(pk=sampling.batch.pk)
    assert batch.state == Batch.State.SAMPLING
    records = SamplingRecord.objects.filter(batch=batch).order_by("selection__stratum", "selection__rank")
    assert records.count() == 4
    assert {r.institution_id for r in records} == {world.institution.pk, sampling.retest_institution.pk}
    for record in records:
        assert record.case.kind == "sampling_record" and record.case.number.startswith("CY")
        assert record.division_id == record.pool_object.division_id
        assert record.stage == SamplingRecord.Stage.ASSIGNED
    # No enterprise sees a record before its samples are taken.
    for user in ("ent_manager", "ent_clerk", "ent_other"):
        assert not SamplingRecord.objects.for_user(world.users[user], "view").exists()
    # Sampling has started: no redraw.
    with pytest.raises(Conflict):
        _draw(sampling, world, reason="再抽一次")
    with pytest.raises(Conflict):
        services.batch_confirm(actor=world.users["baotou"], batch=sampling.batch)


def test_confirm_before_a_draw_is_refused(sampling, world):
    with pytest.raises(Conflict) as refused:
        services.batch_confirm(actor=world.users["baotou"], batch=sampling.batch)
    assert refused.value.code == "nothing_drawn"
