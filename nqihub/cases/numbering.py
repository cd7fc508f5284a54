"""The one numbering service: sequence numbers per series (a case kind, or a kind of issued
document and its issuer) and year, from one counter row read and advanced under a row lock
(``NumberCounter``), never derived from a primary key.

The caller owns the number's form. It tells the service where a new counter starts (``start``:
the highest sequence of the series already issued, read only when the counter is created or a
number turns out to be taken) and which sequences are taken already (``taken``: numbers written
past the counter, e.g. by a bulk load); a taken sequence moves the counter past the highest
issued, so no number is ever given twice. Cases (``cases.services.next_numbers``) and issued
documents (``documents.services.issue``) both number through here.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

from django.db import IntegrityError, transaction

from .models import NumberCounter

StartFn = Callable[[], int]
TakenFn = Callable[[Sequence[int]], Collection[int]]


def case_series(kind_code: str) -> str:
    """The series of a case kind's numbers."""
    return f"cases.{kind_code}"


def locked_counter(series: str, year: int, *, start: StartFn, issuer_id: int | None = None) -> NumberCounter:
    """The counter of ``series`` (and ``issuer_id``) for ``year``, locked until the transaction
    ends. The first taker of a year creates it at ``start()``. When two first takers race, the
    unique index lets one insert win; the other's insert fails (on PostgreSQL it waits for the
    winner's commit) and it reads and locks the winner's row."""
    key = {"series": series, "issuer_id": issuer_id, "year": year}
    counter = NumberCounter.objects.select_for_update().filter(**key).first()
    if counter is not None:
        return counter
    try:
        with transaction.atomic():
            return NumberCounter.objects.create(**key, last=start())
    except IntegrityError:
        return NumberCounter.objects.select_for_update().get(**key)


def next_sequences(
    series: str,
    year: int,
    *,
    count: int = 1,
    start: StartFn,
    taken: TakenFn | None = None,
    issuer_id: int | None = None,
) -> list[int]:
    """``count`` consecutive sequence numbers of ``series`` for ``year`` under one counter lock
    (held until the caller's transaction ends, so run this inside the transaction that writes the
    numbers). A block with a taken sequence is dropped and the counter moves past the highest
    sequence issued (``start()``)."""
    if count <= 0:
        return []
    with transaction.atomic():
        counter = locked_counter(series, year, start=start, issuer_id=issuer_id)
        sequences: list[int] = []
        last = counter.last
        while len(sequences) < count:
            block = list(range(last + 1, last + 1 + count - len(sequences)))
            clash = set(taken(block)) if taken is not None else set()
            if clash:
                last = max(max(clash), start())
                continue
            sequences.extend(block)
            last = block[-1]
        counter.last = last
        counter.save(update_fields=["last"])
        return sequences
