"""``manage.py seed_metrology_demo``: instruments, filings and verification history on top of
seed_demo — consistent with the catalogue, the three-signature rule and the fees, idempotent
and the same on every machine.

Both commands run once per module inside a transaction rolled back at the end (as in
``organizations/tests/test_seed_demo.py``), with a small number of instruments.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from io import StringIO
from itertools import islice

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import F, Q
from django.test import RequestFactory
from django.utils import timezone

from nqihub.core.access import OrganizationKind
from nqihub.metrology.demo import (
    HISTORY_USERNAME,
    REGION_CODE,
    SEED,
    SPECIALIST_CODES,
    count_metrology_demo,
    load_enterprises,
    metrology_institutes,
    plan_instruments,
)
from nqihub.metrology.models import (
    ApplicationItem,
    CatalogueItem,
    Instrument,
    InstrumentFiling,
    IssuedDocument,
    Tariff,
    VerificationApplication,
    VerificationResult,
    WaiverPolicy,
)
from nqihub.organizations.demo import DEMO_PASSWORD
from nqihub.organizations.models import AuthorisationScope, Discipline, Membership

pytestmark = pytest.mark.django_db

N = 2000


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker) -> Iterator[str]:
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            call_command("seed_demo", stdout=StringIO())
            out = StringIO()
            call_command("seed_metrology_demo", "--instruments", str(N), stdout=out)
            yield out.getvalue()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def test_refuses_without_seed_demo():
    with pytest.raises(CommandError, match="seed_demo"):
        call_command("seed_metrology_demo", "--instruments", "10", stdout=StringIO())
    assert not Instrument.objects.exists()


def test_summary_and_counts(seeded):
    assert "Metrology demo data loaded in" in seeded
    for key in ("instruments", "mandatory", "filed", "certificates", "notices", "due within 30 days", "overdue"):
        assert key in seeded
    assert Instrument.objects.count() == N
    mandatory = Instrument.objects.filter(is_mandatory=True).count()
    assert 0.7 * N < mandatory < 0.99 * N
    filed = Instrument.objects.filter(filed=True)
    assert 0.55 * mandatory < filed.count() < 0.97 * mandatory
    assert not filed.filter(is_mandatory=False).exists()
    # Meters dominate, as in reality.
    meters = Instrument.objects.filter(catalogue_item__code__in=["5.1", "6.1", "6.2", "6.3", "7.1", "8.1"]).count()
    assert meters > 0.45 * N
    statuses = set(Instrument.objects.values_list("status", flat=True))
    assert statuses == {"in_use", "stopped", "scrapped"}
    assert Instrument.objects.filter(status="in_use").count() > 0.85 * N


def test_instruments_belong_to_enterprises_and_follow_the_catalogue(seeded):
    assert not Instrument.objects.exclude(organization__kind=OrganizationKind.ENTERPRISE).exists()
    assert not Instrument.objects.exclude(division_id=F("organization__division_id")).exists()
    items = {item.pk: item for item in CatalogueItem.objects.all()}
    for item_id, use_field, mandatory in Instrument.objects.values_list(
        "catalogue_item_id", "use_field", "is_mandatory"
    ):
        expected = item_id is not None and items[item_id].mandatory_for(use_field)
        assert mandatory == expected
    pairs = list(Instrument.objects.values_list("organization_id", "factory_number"))
    assert len(pairs) == len(set(pairs))
    assert all(
        code.startswith("JL") and len(code) == 14 for code in Instrument.objects.values_list("platform_code", flat=True)
    )


def test_filings_are_approved_and_hold_the_filed_instruments(seeded):
    filings = InstrumentFiling.objects.all()
    assert filings.exists()
    assert set(filings.values_list("state", flat=True)) == {"approved"}
    linked = set(InstrumentFiling.instruments.through.objects.values_list("instrument_id", flat=True))
    assert linked == set(Instrument.objects.filter(filed=True).values_list("pk", flat=True))
    assert not filings.exclude(organization_id=F("instruments__organization_id")).exists()


def test_results_signed_by_three_members_of_the_institution(seeded):
    results = VerificationResult.objects.select_related("item__application")
    assert results.exists()
    members = set(Membership.objects.values_list("organization_id", "user_id"))
    for r in results:
        signers = {r.verifier_id, r.checker_id, r.approver_id}
        assert len(signers) == 3
        assert all((r.institution_id, user) in members for user in signers)
        assert r.institution_id == r.item.application.institution_id
    request = RequestFactory().post("/accounts/login/")
    assert authenticate(request=request, username="jl_150200_1", password=DEMO_PASSWORD) is not None
    assert authenticate(request=request, username=HISTORY_USERNAME, password=DEMO_PASSWORD) is None


def test_institutions_are_authorised_for_the_item_and_the_area(seeded):
    scopes = set(
        AuthorisationScope.objects.filter(discipline=Discipline.METROLOGY)
        .exclude(subject_code="")
        .values_list("organization_id", "subject_code", "areas__code")
    )
    institutes = metrology_institutes()
    assert (institutes["150200"].pk, "3.1", "150200") in scopes
    assert (institutes[REGION_CODE].pk, "18.1", REGION_CODE) in scopes
    assert not any(code in SPECIALIST_CODES and area != REGION_CODE for _org, code, area in scopes)
    for org, code, division in ApplicationItem.objects.values_list(
        "application__institution_id", "catalogue_item__code", "application__division_id"
    ):
        assert (org, code, division[:4] + "00") in scopes or (org, code, REGION_CODE) in scopes
    assert set(VerificationApplication.objects.values_list("state", flat=True)) == {"completed"}


def test_documents_fees_and_policies(seeded):
    documents = IssuedDocument.objects.all()
    assert documents.count() == VerificationResult.objects.count()
    assert not documents.filter(waived__gt=F("fee")).exists()
    assert not ApplicationItem.objects.filter(waived__gt=F("fee")).exists()
    certificates = documents.filter(kind="certificate")
    notices = documents.filter(kind="notice")
    assert notices.exists() and notices.count() < 0.1 * documents.count()
    assert not notices.exclude(result__outcome="fail").exists()
    assert not certificates.exclude(result__outcome="pass").exists()
    assert not notices.filter(valid_until__isnull=False).exists()
    numbers = list(documents.values_list("institution_id", "number"))
    assert len(numbers) == len(set(numbers))
    assert all(n.startswith(("JD-", "TZ-")) for _i, n in numbers)
    assert not notices.exclude(number__startswith="TZ-").exists()
    assert not documents.exclude(pdf="").exists()
    # Written past the issuing service, they still carry the hash of their content.
    assert not documents.filter(content_sha256="").exists()
    sample = documents.order_by("?")[:20]
    assert all(d.content_sha256 == d.compute_content_sha256() for d in sample)
    # A certificate in force is the instrument's due date.
    for instrument in Instrument.objects.filter(is_mandatory=True, next_due_on__isnull=False)[:200]:
        latest = instrument.documents.order_by("-result__verified_on").first()
        assert latest.valid_until == instrument.next_due_on
        assert latest.result.verified_on == instrument.last_verified_on
    assert Tariff.objects.count() == CatalogueItem.objects.active().count()
    assert not Tariff.objects.exclude(source__contains="演示数据").exists()
    assert not WaiverPolicy.objects.exclude(source__contains="演示数据").exists()
    assert set(WaiverPolicy.objects.values_list("basis", flat=True)) == {"campaign", "user_type", "item"}
    # Baotou's 2026 campaign waived trade-settlement verifications in full.
    waived = ApplicationItem.objects.filter(waiver_policy__basis="campaign")
    assert waived.exists()
    assert not waived.exclude(waived=F("fee")).exists()
    assert not waived.exclude(application__division__parent_id="150200").exists()


def test_some_due_soon_some_overdue_some_failed(seeded):
    today = timezone.localdate()
    in_use = Instrument.objects.filter(is_mandatory=True, status="in_use")
    assert in_use.filter(next_due_on__gte=today, next_due_on__lte=today + timedelta(days=30)).exists()
    assert in_use.filter(next_due_on__lt=today).exists()
    assert (
        in_use.filter(next_due_on__gt=today + timedelta(days=30)).count()
        > 5 * in_use.filter(next_due_on__lt=today).count()
    )
    assert VerificationResult.objects.filter(outcome="fail").exists()
    assert not Instrument.objects.filter(Q(last_verified_on__isnull=True), ~Q(next_due_on=None)).exists()


def test_second_run_changes_nothing(seeded):
    before = count_metrology_demo()
    out = StringIO()
    call_command("seed_metrology_demo", "--instruments", str(N), stdout=out)
    assert "already" in out.getvalue()
    assert count_metrology_demo() == before


def test_deterministic_and_matches_the_database(seeded):
    enterprises = load_enterprises()
    catalogue = {item.code: item for item in CatalogueItem.objects.active()}
    local = {code for code in metrology_institutes() if code != REGION_CODE}
    today = timezone.localdate()

    def first(seed):
        plans = (
            p for _i, ps in plan_instruments(enterprises, catalogue, local, total=N, seed=seed, today=today) for p in ps
        )
        return [(p.factory_number, p.platform_code) for p in islice(plans, 20)]

    assert first(SEED) == first(SEED)
    assert first(SEED) != first(SEED + 1)
    stored = list(Instrument.objects.order_by("pk").values_list("factory_number", "platform_code")[:20])
    assert stored == first(SEED)
