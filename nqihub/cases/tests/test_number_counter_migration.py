"""The one number counter: cases 0002 and documents 0002 move the case counters and the issued
documents' counters into it, set-based, every value kept, and numbers go on from there (never a
number given twice). Back and forth on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("cases", "0001_initial"), ("documents", "0001_initial")]
AFTER = [("cases", "0002_number_counter"), ("documents", "0002_one_number_counter")]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_counters_move_into_one_and_numbers_continue(world):
    executor = MigrationExecutor(connection)
    try:
        executor.migrate(BEFORE)
        apps = MigrationExecutor(connection).loader.project_state(BEFORE).apps
        CaseCounter = apps.get_model("cases", "CaseNumberCounter")
        DocCounter = apps.get_model("documents", "DocumentNumberCounter")
        CaseCounter.objects.create(kind="enterprise_registration", year=2026, last=41)
        CaseCounter.objects.create(kind="instrument_filing", year=2025, last=7)
        DocCounter.objects.create(issuer_id=world.institution.pk, kind="metrology.certificate", year=2026, last=999_999)
        DocCounter.objects.create(issuer_id=world.institution.pk, kind="metrology.notice", year=2026, last=3)
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(AFTER)
        moved = MigrationExecutor(connection).loader.project_state(AFTER).apps.get_model("cases", "NumberCounter")
        rows = set(moved.objects.values_list("series", "issuer_id", "year", "last"))
        assert rows == {
            ("cases.enterprise_registration", None, 2026, 41),
            ("cases.instrument_filing", None, 2025, 7),
            ("metrology.certificate", world.institution.pk, 2026, 999_999),
            ("metrology.notice", world.institution.pk, 2026, 3),
        }
        # And back: the two old tables get their rows again.
        executor = MigrationExecutor(connection)
        executor.migrate(BEFORE)
        apps = MigrationExecutor(connection).loader.project_state(BEFORE).apps
        back_cases = set(apps.get_model("cases", "CaseNumberCounter").objects.values_list("kind", "year", "last"))
        back_docs = set(
            apps.get_model("documents", "DocumentNumberCounter").objects.values_list(
                "issuer_id", "kind", "year", "last"
            )
        )
        assert back_cases == {("enterprise_registration", 2026, 41), ("instrument_filing", 2025, 7)}
        assert back_docs == {
            (world.institution.pk, "metrology.certificate", 2026, 999_999),
            (world.institution.pk, "metrology.notice", 2026, 3),
        }
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())

    from nqihub.cases import services as cases
    from nqihub.cases.models import NumberCounter

    # Forward again through the leaves: the counters continue from the migrated values.
    assert cases.next_number("enterprise_registration", on_date=datetime.date(2026, 3, 1)) == "QY2026000042"
    assert cases.next_number("instrument_filing", on_date=datetime.date(2025, 3, 1)) == "BA2025000008"
    assert (
        NumberCounter.objects.get(series="metrology.certificate", issuer=world.institution, year=2026).last == 999_999
    )


@pytest.mark.django_db
def test_a_series_without_issuer_has_one_counter_per_year(world):
    """The partial unique indexes: one issuer-less row per series and year, one per issuer."""
    from django.db import IntegrityError, transaction

    from nqihub.cases.models import NumberCounter

    NumberCounter.objects.create(series="cases.x", year=2026)
    with pytest.raises(IntegrityError), transaction.atomic():
        NumberCounter.objects.create(series="cases.x", year=2026)
    NumberCounter.objects.create(series="cases.x", year=2026, issuer=world.institution)
    with pytest.raises(IntegrityError), transaction.atomic():
        NumberCounter.objects.create(series="cases.x", year=2026, issuer=world.institution)
