"""``manage.py seed_sampling_demo``: a year of supervision sampling on the demo organisations —
every stage and batch type present, invariants the services keep, the public page showing the
published results, a demo draw that re-runs to the same list, idempotent.

The commands run once per module inside a transaction rolled back at the end (as the metrology
demo's tests do)."""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import Count
from django.test import Client

from nqihub.cases.models import Case, CaseDeadline, CaseEvent
from nqihub.sampling import draw as algorithm
from nqihub.sampling.models import (
    AnnualPlan,
    Assignment,
    Batch,
    Disposal,
    Draw,
    Objection,
    SamplingRecord,
    Selection,
)
from nqihub.sampling.models import (
    TestResult as Result,
)
from nqihub.sampling.services.analysis import sampling_analysis
from nqihub.sampling.services.disclosure import public_results

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker) -> Iterator[str]:
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            call_command("seed_demo", stdout=StringIO())
            out = StringIO()
            call_command("seed_sampling_demo", stdout=out)
            yield out.getvalue()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def test_refuses_without_seed_demo():
    with pytest.raises(CommandError):
        call_command("seed_sampling_demo", stdout=StringIO())


def test_every_stage_and_type_is_there(seeded):
    assert "loaded" in seeded
    assert set(SamplingRecord.objects.values_list("stage", flat=True)) == set(SamplingRecord.Stage.values)
    assert set(Batch.objects.values_list("kind", flat=True)) == set(Batch.Kind.values)
    assert set(Batch.objects.values_list("state", flat=True)) == set(Batch.State.values)
    assert AnnualPlan.objects.filter(division_id="150000").count() == 2  # this year and last
    assert AnnualPlan.objects.exclude(division_id="150000").count() == 3
    assert SamplingRecord.objects.filter(final_conclusion="fail").exists()
    assert Objection.objects.filter(conclusion="pass").exists() and Objection.objects.filter(conclusion="").exists()
    assert Result.objects.filter(round="recheck").exists()
    assert set(Disposal.objects.values_list("state", flat=True)) >= {"ordered", "corrected", "passed", "announced"}
    assert CaseDeadline.objects.filter(escalated_at__isnull=False).exists()  # overdue, reported above
    assert CaseDeadline.objects.filter(state="open", code="objection").exists()
    assert Batch.objects.filter(state="closed", disclosure_due__isnull=False).exists()


def test_invariants_the_services_keep(seeded):
    # Every record has its case (numbered by the kernel's counter) and a timeline.
    records = SamplingRecord.objects.select_related("case")
    assert all(r.case.number.startswith("CY") and r.case.kind == "sampling_record" for r in records)
    assert Case.objects.filter(kind="sampling_record").count() == records.count()
    no_events = Case.objects.filter(kind__startswith="sampling_").annotate(n=Count("events")).filter(n=0)
    assert not no_events.exists()
    assert len(set(Case.objects.values_list("number", flat=True))) == Case.objects.count()
    # At least two samplers for every sampled record, two drawn inspectors per drawn object.
    sampled = SamplingRecord.objects.exclude(stage__in=["assigned", "refused"]).annotate(n=Count("samplers"))
    assert sampled.exists() and not sampled.filter(n__lt=2).exists()
    assert not Selection.objects.annotate(n=Count("assignments")).filter(n__lt=2).exists()
    # Tested records have a result per test item, and the conclusion follows the results.
    for record in SamplingRecord.objects.filter(stage="final"):
        first = record.results.filter(round="initial")
        assert first.count() == record.batch.rules.test_items.count()
        assert (record.conclusion == "fail") == first.filter(conclusion="fail").exists()
    # A refused record was not tested; a final one has its final conclusion.
    assert not Result.objects.filter(record__stage="refused").exists()
    assert not SamplingRecord.objects.filter(stage="final", final_conclusion="").exists()
    assert Assignment.objects.count() > 0


def test_a_demo_draw_re_runs_to_the_same_list(seeded):
    draw = Draw.objects.filter(purpose="objects").order_by("pk").first()
    with draw.pool_file.open("rb") as handle:
        data = handle.read()
    assert algorithm.file_digest(data) == draw.pool_sha256
    again = algorithm.draw(algorithm.read_pool_csv(data), seed=draw.seed, quotas=draw.quotas)
    assert again == {row["stratum"]: row["object_ids"] for row in draw.result}
    assert set(draw.selections.values_list("pool_object_id", flat=True)) == {i for ids in again.values() for i in ids}


def test_the_public_page_shows_the_published_results(seeded):
    published = public_results()
    assert published.exists()
    assert not published.exclude(batch__state="disclosed").exists()
    html = Client().get("/sampling/results/").content.decode()
    record = published.select_related("organization").first()
    assert record.organization.name in html
    assert "拒绝抽样" in html and "不合格" in html


def test_the_analysis_has_figures(seeded):
    from nqihub.organizations.models import Membership

    region_user = (
        Membership.objects.filter(organization__division_id="150000", organization__kind="regulator").first().user
    )
    year = Batch.objects.filter(state="disclosed").order_by("-plan__year").first().plan.year
    result = sampling_analysis(region_user, year=year)
    assert result.total.tested > 0 and result.last_total.tested > 0
    assert result.failures_by_item


def test_idempotent(seeded):
    before = SamplingRecord.objects.count()
    out = StringIO()
    call_command("seed_sampling_demo", stdout=out)
    assert "already" in out.getvalue()
    assert SamplingRecord.objects.count() == before
    assert CaseEvent.objects.filter(case__kind="sampling_record").exists()
