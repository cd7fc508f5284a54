# ruff: noqa: F811  (pytest fixtures imported from test_documents are used as parameters)
"""Document numbers: one counter row of the documents kernel per institution, kind and year,
taken under a row lock; numbers grow past six digits; the migrations and a missing counter
start after the highest number issued, compared as numbers; two documents never share a number;
the counters moved to the kernel keep going where they were."""

from __future__ import annotations

import importlib

import pytest
from django.db import connection
from django.utils import timezone

from nqihub.cases.models import NumberCounter
from nqihub.metrology.models import IssuedDocument
from nqihub.metrology.services.documents import document_issue

from .test_documents import (  # noqa: F401  (fixtures)
    make_result,
    other_institution,
    periodic_item,
    signers,
)


def _prefix(institution, year=None, kind="JD") -> str:
    return f"{kind}-{institution.pk}-{year or timezone.localdate().year}-"


def _counter(institution, kind="certificate") -> int:
    return NumberCounter.objects.get(
        issuer=institution, series=f"metrology.{kind}", year=timezone.localdate().year
    ).last


def test_numbers_roll_over_past_999999(world, make_result):
    NumberCounter.objects.create(
        issuer=world.institution, series="metrology.certificate", year=timezone.localdate().year, last=999_998
    )
    numbers = [document_issue(actor=world.users["inst"], result=make_result()).number for _ in range(3)]
    prefix = _prefix(world.institution)
    assert numbers == [f"{prefix}999999", f"{prefix}1000000", f"{prefix}1000001"]
    assert _counter(world.institution) == 1_000_001


def test_a_missing_counter_starts_after_the_highest_number_issued(world, make_result):
    """Documents issued before the counter existed (or loaded in bulk): the next number comes
    after the numerically highest, ``…-1000000`` (not the lexically greatest ``…-999999``)."""
    first = document_issue(actor=world.users["inst"], result=make_result())
    second = document_issue(actor=world.users["inst"], result=make_result())
    prefix = _prefix(world.institution)
    IssuedDocument.objects.filter(pk=first.pk).update(number=f"{prefix}999999")
    IssuedDocument.objects.filter(pk=second.pk).update(number=f"{prefix}1000000")
    NumberCounter.objects.filter(issuer__isnull=False).delete()
    third = document_issue(actor=world.users["inst"], result=make_result())
    assert third.number == f"{prefix}1000001"
    notice = document_issue(actor=world.users["inst"], result=make_result("fail", failure_reasons="超差"))
    assert notice.number == f"{_prefix(world.institution, kind='TZ')}000001"


def test_a_number_taken_past_the_counter_is_stepped_over(world, make_result):
    """A number written without the counter (a bulk load after the counter was made) makes
    the insert fail; the service moves past the numbers issued instead of failing."""
    document_issue(actor=world.users["inst"], result=make_result())
    document_issue(actor=world.users["inst"], result=make_result())
    NumberCounter.objects.filter(issuer__isnull=False).update(last=0)  # as if both had been loaded past the counter
    third = document_issue(actor=world.users["inst"], result=make_result())
    assert third.number == f"{_prefix(world.institution)}000003"
    assert _counter(world.institution) == 3


def test_two_documents_never_get_the_same_number(world, make_result, other_institution):
    issued = [document_issue(actor=world.users["inst"], result=make_result()) for _ in range(4)]
    issued.append(document_issue(actor=world.users["inst"], result=make_result("fail", failure_reasons="超差")))
    issued.append(document_issue(actor=world.users["other_inst"], result=make_result(institution=other_institution)))
    NumberCounter.objects.filter(issuer=world.institution, series="metrology.certificate").update(last=2)
    issued.append(document_issue(actor=world.users["inst"], result=make_result()))
    numbers = list(IssuedDocument.objects.values_list("institution_id", "number"))
    assert len(numbers) == len(set(numbers)) == 7
    assert issued[-1].number == f"{_prefix(world.institution)}000005"
    # Reissues take numbers from the same counter.
    from nqihub.metrology.services.documents import document_reissue

    new = document_reissue(actor=world.users["inst"], document=issued[0], reason="更正")
    assert new.number == f"{_prefix(world.institution)}000006"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_migrations_initialise_counters_numerically_and_move_them_to_the_kernel(world, make_result):
    """0007 made the counters from the numbers issued; 0013 moves them, rows kept, to the
    documents kernel (and fills in the content hash of the documents issued so far); documents
    0002 moves them into the one number counter."""
    from django.db.migrations.executor import MigrationExecutor

    docs = [document_issue(actor=world.users["inst"], result=make_result()) for _ in range(4)]
    notice = document_issue(actor=world.users["inst"], result=make_result("fail", failure_reasons="超差"))
    prefix, year = _prefix(world.institution), timezone.localdate().year
    old_year = f"JD-{world.institution.pk}-2019-000042"
    for doc, number in zip(docs, [f"{prefix}000007", f"{prefix}999999", f"{prefix}1000000", old_year], strict=True):
        IssuedDocument.objects.filter(pk=doc.pk).update(number=number)
    IssuedDocument.objects.filter(pk=notice.pk).update(number=f"{_prefix(world.institution, kind='TZ')}000003")
    hashes = {d.pk: d.compute_content_sha256() for d in IssuedDocument.objects.all()}
    NumberCounter.objects.filter(issuer__isnull=False).delete()
    IssuedDocument.objects.update(content_sha256="")

    executor = MigrationExecutor(connection)
    before, kernel = ("metrology", "0006_english_labels"), ("metrology", "0013_documents_kernel")
    executor.migrate([before])  # back to before the counters existed
    executor.loader.build_graph()
    executor.migrate([kernel])  # 0007 initialises them, 0013 moves them and hashes the content
    old = executor.loader.project_state(kernel).apps.get_model("documents", "DocumentNumberCounter")
    counters = set(old.objects.values_list("issuer_id", "kind", "year", "last"))
    assert counters == {
        (world.institution.pk, "metrology.certificate", year, 1_000_000),
        (world.institution.pk, "metrology.certificate", 2019, 42),
        (world.institution.pk, "metrology.notice", year, 3),
    }
    assert dict(IssuedDocument.objects.values_list("pk", "content_sha256")) == hashes
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    # The one counter (cases 0002, documents 0002) holds the same rows, and goes on from them.
    moved = NumberCounter.objects.filter(issuer__isnull=False).values_list("issuer_id", "series", "year", "last")
    assert set(moved) == counters
    assert document_issue(actor=world.users["inst"], result=make_result()).number == f"{prefix}1000001"


def test_migration_skips_numbers_of_another_form():
    migration = importlib.import_module("nqihub.metrology.migrations.0007_document_number_counter")
    rows = [
        (5, "JD-5-2026-000010"),
        (5, "JD-6-2026-000099"),
        (5, "手工编号-1"),
        (5, "JD-5-2026-00A"),
        (6, "TZ-6-2025-7"),
    ]
    assert migration.highest_sequences(rows) == {(5, "certificate", 2026): 10, (6, "notice", 2025): 7}


# --- Two first issuers of a year at the same time (PostgreSQL: real row locks) -------------------


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_first_issuers_of_a_year_both_get_a_number(world, make_result):
    """The first issuer has created the year's counter but not committed; the second finds no
    counter, and its insert waits on the unique index. When the first commits, the second's
    insert fails; it must then read and lock the first one's counter, not fail."""
    import threading
    import time

    from django.db import connections, transaction

    first_result, second_result = make_result(), make_result()
    outcome: dict[str, object] = {}

    def second():
        try:
            outcome["second"] = document_issue(actor=world.users["inst"], result=second_result.pk).number
        except Exception as exc:  # reported by the assertion below
            outcome["second"] = repr(exc)
        finally:
            connections.close_all()

    with transaction.atomic():
        first = document_issue(actor=world.users["inst"], result=first_result.pk)
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.5)  # the second issuer is now waiting on the counter's unique index
    thread.join(timeout=20)
    prefix = _prefix(world.institution)
    assert (first.number, outcome.get("second")) == (f"{prefix}000001", f"{prefix}000002")
    assert _counter(world.institution) == 2
