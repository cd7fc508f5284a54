#!/usr/bin/env python
"""Case reminder benchmark: the daily selection of cases (办件) due soon or overdue over
1,000,000 cases, set-based against a naive Python loop.

    .venv/bin/python bench/case_reminder_bench.py [--rows 1000000] [--keep]

Sets up its own throwaway SQLite database in a temporary directory and writes ``--rows``
verification-application cases with one prepared INSERT per batch: 25 % still awaiting a
decision, the rest decided; deadlines spread evenly over now ± 400 days. Then:

(a) day 1, nothing sent yet (every overdue case is due its reminder):
    ``selectors.reminders_pending`` with every selected (id, stage) materialised; the
    reminders are then recorded in ``CaseReminder`` (bulk inserts, untimed, as if the job had
    sent them);
(b) day 2, the steady state: the selection again (the overdue backlog is sent, so the NOT
    EXISTS probe runs for it and finds nothing) and a full ``send_case_reminders`` run
    (notices, reminder rows, audit record);
(c) the baseline, on day 2: iterate every case awaiting a decision as a model instance, decide
    its stage in Python and check it against the set of reminders sent (loaded once up front).
    It must select exactly what the selector selects.

Prints the timings, the ratio, whether the daily (day-2) selection meets the target (< 2 s)
and SQLite's query plan. Exit status 1 when the target is missed. Not part of the
application: nothing here is imported by it.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta

import benchlib

TARGET_SECONDS = 2.0
SPREAD_DAYS = 400
BATCH = 50_000
KIND = "verification_application"
OPEN_SHARE = 4  # one case in OPEN_SHARE awaits a decision


def _cases(rows: int, now: datetime, handlers: list[int]) -> float:
    from django.db import connection, transaction

    columns = (
        "kind", "number", "state", "applicant_organization_id", "handling_organization_id", "division_id",
        "opened_at", "submitted_at", "deadline", "decided_at", "closed_at", "rating_comment",
    )  # fmt: skip
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote('cases_case')} ({', '.join(quote(c) for c in columns)}) "
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    adapt = connection.ops.adapt_datetimefield_value
    span = 2 * SPREAD_DAYS * 24 * 3600
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, rows, BATCH):
            params = []
            for i in range(start, min(rows, start + BATCH)):
                deadline = now - timedelta(days=SPREAD_DAYS) + timedelta(seconds=(i * 7919) % span)
                opened = deadline - timedelta(days=7)
                waiting = i % OPEN_SHARE == 0
                params.append((
                    KIND, f"BJ2026{i:09d}", "submitted" if waiting else "accepted", None,
                    handlers[i % len(handlers)], "150203", adapt(opened), adapt(opened), adapt(deadline),
                    None if waiting else adapt(opened), None, "",
                ))  # fmt: skip
            cursor.executemany(sql, params)
    return time.perf_counter() - started


def _handlers(count: int) -> list[int]:
    from nqihub.core.access import OrganizationKind
    from nqihub.organizations.models import Organization

    Organization.objects.bulk_create(
        Organization(
            kind=OrganizationKind.INSTITUTION, name=f"基准检定机构{i:03d}", division_id="150203", credit_code=None
        )
        for i in range(count)
    )
    return list(Organization.objects.filter(kind=OrganizationKind.INSTITUTION).values_list("pk", flat=True))


def _time_selection(now: datetime) -> tuple[float, list[tuple[int, str]]]:
    from nqihub.cases import selectors
    from nqihub.notifications.case_reminders import DUE_SOON

    started = time.perf_counter()
    selected = list(selectors.reminders_pending(KIND, within=DUE_SOON, now=now).values_list("pk", "stage"))
    return time.perf_counter() - started, selected


def _record_sent(now: datetime) -> None:
    """Day 1's reminders recorded as sent (what the job would have written), in batches."""
    from nqihub.cases import selectors
    from nqihub.cases.models import CaseReminder
    from nqihub.notifications.case_reminders import DUE_SOON

    pending = selectors.reminders_pending(KIND, within=DUE_SOON, now=now).values_list("pk", "stage", "deadline")
    rows = [CaseReminder(case_id=pk, stage=stage, deadline=deadline, sent_at=now) for pk, stage, deadline in pending]
    CaseReminder.objects.bulk_create(rows, batch_size=5000)


def _time_baseline(now: datetime) -> tuple[float, list[tuple[int, str]]]:
    from nqihub.cases.models import Case, CaseReminder
    from nqihub.notifications.case_reminders import DUE_SOON

    started = time.perf_counter()
    sent = set(CaseReminder.objects.values_list("case_id", "stage", "deadline"))
    selected = []
    for case in Case.objects.filter(kind=KIND).iterator(chunk_size=5000):
        if case.state not in Case.AWAITING_DECISION or case.deadline is None:
            continue
        if case.deadline >= now + DUE_SOON:
            continue
        stage = "overdue" if case.deadline < now else "due_soon"
        if (case.pk, stage, case.deadline) not in sent:
            selected.append((case.pk, stage))
    return time.perf_counter() - started, selected


def _plan(now: datetime) -> list[str]:
    from django.db import connection

    from nqihub.cases import selectors
    from nqihub.notifications.case_reminders import DUE_SOON

    sql, params = selectors.reminders_pending(KIND, within=DUE_SOON, now=now).values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        return [f"           {row[-1]}" for row in cursor.fetchall()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()

    var_dir = tempfile.mkdtemp(prefix="nqi-case-reminder-bench-")
    try:
        benchlib.setup_django(var_dir, migrate=True)
        from nqihub.notifications.case_reminders import send_case_reminders

        now = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
        day2 = now + timedelta(days=1)
        handlers = _handlers(50)
        written = _cases(args.rows, now, handlers)
        print(f"machine:   {benchlib.machine()}")
        print(
            f"data:      {args.rows:,} cases, 1 in {OPEN_SHARE} awaiting a decision, deadlines over now ± {SPREAD_DAYS} "
            f"days (written in {written:.1f} s)"
        )
        print("plan:")
        for line in _plan(day2):
            print(line)
        sel1, selected1 = _time_selection(now)
        print(f"day 1:     reminders_pending {sel1:.2f} s -> {len(selected1):,} cases")
        _record_sent(now)
        sel2, selected2 = _time_selection(day2)
        print(f"day 2:     reminders_pending {sel2:.2f} s -> {len(selected2):,} cases")
        base, base_selected = _time_baseline(day2)
        if sorted(base_selected) != sorted(selected2):
            raise SystemExit(
                f"baseline selected {len(base_selected):,}, the selector {len(selected2):,}: they must agree"
            )
        print(f"baseline:  Python loop over every case {base:.2f} s -> {len(base_selected):,} (the same)")
        started = time.perf_counter()
        counts = send_case_reminders(now=day2)
        run = time.perf_counter() - started
        print(f"           send_case_reminders {run:.2f} s: {counts['cases']:,} cases, {counts['notices']:,} notices")
        again = send_case_reminders(now=day2)
        print(f"again:     send_case_reminders the same day: {again['cases']:,} cases")
        print(f"ratio:     baseline / reminders_pending (day 2) = {base / sel2:.1f}x")
        met = sel2 < TARGET_SECONDS
        print(
            f"target:    daily selection < {TARGET_SECONDS:.0f} s over {args.rows:,} cases: "
            f"{'MET' if met else 'NOT MET'} ({sel2:.2f} s; the day-1 backlog took {sel1:.2f} s)"
        )
        return 0 if met else 1
    finally:
        if args.keep:
            print(f"kept:      {var_dir}")
        else:
            shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
