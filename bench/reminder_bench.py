#!/usr/bin/env python
"""Due-reminder benchmark: the daily selection over 1,000,000 instruments, set-based against a
naive Python loop.

    .venv/bin/python bench/reminder_bench.py [--rows 1000000] [--orgs 2000] [--keep]

Sets up its own throwaway SQLite database in a temporary directory (the real settings, with
NQI_VAR_DIR pointing there, tasks run inline, email to the locmem backend), ``--orgs``
enterprises and ``--rows`` instruments written with one prepared INSERT per batch: next
verification due dates spread evenly over today ± 400 days, about 70 % mandatory, 5 %
scrapped, 10 % stopped. Then, with the default stages (30, 15, 7 days and overdue):

(a) day 1, nothing sent yet (the first run after an import: every overdue instrument is due
    its reminder): ``select_due`` with every selected id materialised, then a full
    ``send_due_reminders`` (reminder log rows, notices, emails, audit record);
(b) day 2, the steady state: ``select_due`` again (the overdue backlog is all sent, so the
    NOT EXISTS test runs for it and finds nothing to send) and a full run;
(c) the baseline, on day 2: iterate every mandatory, not scrapped instrument as a model
    instance, decide its stage in Python from its due date and check it against the set of
    reminders sent (loaded once up front — kinder to the baseline than a query per row).
    It must select exactly what ``select_due`` selects.

Prints the timings, the ratio, whether the daily (day-2) selection meets the target (< 2 s)
and SQLite's EXPLAIN QUERY PLAN for each stage's query (it should search ``instrument_due_idx`` by a
range of next_due_on and probe ``reminder_once`` for NOT EXISTS). Exit status 1 when the
target is missed. Not part of the application: nothing here is imported by it.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import date, datetime, timedelta

import benchlib

TARGET_SECONDS = 2.0
SPREAD_DAYS = 400
BATCH = 50_000


def _organisations(count: int) -> list[int]:
    from nqihub.accounts.models import User
    from nqihub.core.access import MembershipRole, OrganizationKind
    from nqihub.organizations.models import Membership, Organization, OrganizationContact

    divisions = ["150203", "150204", "150102", "150105"]
    Organization.objects.bulk_create(
        Organization(
            kind=OrganizationKind.ENTERPRISE,
            name=f"基准测试企业{i:05d}有限公司",
            division_id=divisions[i % len(divisions)],
            address="包头市昆都仑区钢铁大街 1 号",
        )
        for i in range(count)
    )
    orgs = list(Organization.objects.filter(kind=OrganizationKind.ENTERPRISE).values_list("pk", "division_id"))
    users = User.objects.bulk_create(
        User(username=f"bench{i:05d}", email=f"bench{i:05d}@example.com") for i in range(count)
    )
    Membership.objects.bulk_create(
        Membership(user=u, organization_id=pk, role=MembershipRole.MANAGER, is_default=True)
        for u, (pk, _d) in zip(users, orgs, strict=True)
    )
    OrganizationContact.objects.bulk_create(
        OrganizationContact(organization_id=pk, name="联系人", email=f"contact{pk}@example.com") for pk, _d in orgs[::2]
    )
    return orgs


def _instruments(rows: int, orgs: list[tuple[int, str]], today: date) -> float:
    """Write ``rows`` instruments with one prepared INSERT per batch; returns the seconds."""
    from django.db import connection, transaction

    from nqihub.metrology.models import CatalogueItem, Instrument

    scale = CatalogueItem.objects.filter(use_trade=True).exclude(supervision="P").first()
    fields = [f for f in Instrument._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        quote(Instrument._meta.db_table),
        ", ".join(quote(f.column) for f in fields),
        ", ".join(["%s"] * len(fields)),
    )
    names = [f.name for f in fields]
    at = {name: i for i, name in enumerate(names)}
    now = datetime.now().replace(microsecond=0).isoformat(sep=" ")
    template: list = [None] * len(fields)
    for name, value in {
        "catalogue_item": scale.pk,
        "model_spec": "ACS-30",
        "measuring_range": "(0~30) kg",
        "accuracy_class": "III",
        "manufacturer": "上海某衡器有限公司",
        "location": "一楼营业厅",
        "filed": False,
        "created_at": now,
        "updated_at": now,
    }.items():
        template[at[name]] = value
    span = 2 * SPREAD_DAYS + 1
    first_day = today - timedelta(days=SPREAD_DAYS)
    days = [(first_day + timedelta(days=d)).isoformat() for d in range(span)]
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, rows, BATCH):
            params = []
            for i in range(start, min(start + BATCH, rows)):
                org, division = orgs[i % len(orgs)]
                values = template.copy()
                mandatory = (i * 7919) % 10 < 7  # about 70 %, spread over the due dates
                r = (i * 104729) % 20
                values[at["platform_code"]] = f"JL{i:012d}"
                values[at["organization"]] = org
                values[at["division"]] = division
                values[at["name"]] = "电子计价秤"
                values[at["factory_number"]] = f"SN{i:09d}"
                values[at["use_field"]] = "trade" if mandatory else "other"
                values[at["status"]] = "scrapped" if r == 0 else ("stopped" if r < 3 else "in_use")
                values[at["is_mandatory"]] = mandatory
                values[at["next_due_on"]] = days[(i * 7) % span]
                params.append(values)
            cursor.executemany(sql, params)
    return time.perf_counter() - started


def _time_selection(today: date) -> tuple[float, float, list[int], dict[int, int]]:
    """(wall seconds, CPU seconds of this process, ids, count per stage). SQLite runs in this
    process, so the CPU time is the selection's own work, whatever else the machine runs."""
    from nqihub.metrology.services.reminders import select_due

    started, cpu = time.perf_counter(), time.process_time()
    ids: list[int] = []
    per_stage: dict[int, int] = {}
    for stage, rows in select_due(today, [30, 15, 7]):
        ids.extend(r[0] for r in rows)
        per_stage[stage] = per_stage.get(stage, 0) + len(rows)
    return time.perf_counter() - started, time.process_time() - cpu, ids, per_stage


def _time_run(today: date) -> tuple[float, dict]:
    from django.core import mail

    from nqihub.metrology.services.reminders import send_due_reminders

    mail.outbox = []
    started = time.perf_counter()
    counts = send_due_reminders(today=today, stages=[30, 15, 7])  # autocommit: emails go at once
    return time.perf_counter() - started, counts


def _time_baseline(today: date) -> tuple[float, list[int]]:
    """The naive way: every mandatory instrument through Python."""
    from nqihub.metrology.models import Instrument, ReminderLog

    started = time.perf_counter()
    sent = set(ReminderLog.objects.values_list("instrument_id", "due_on", "stage"))
    selected = []
    for instrument in Instrument.objects.filter(is_mandatory=True).exclude(status="scrapped").iterator(chunk_size=5000):
        due = instrument.next_due_on
        if due is None:
            continue
        left = (due - today).days
        if left < 0:
            stage = -1
        elif left <= 7:
            stage = 7
        elif left <= 15:
            stage = 15
        elif left <= 30:
            stage = 30
        else:
            continue
        if (instrument.pk, due, stage) not in sent:
            selected.append(instrument.pk)
    return time.perf_counter() - started, selected


def _plans(today: date) -> list[str]:
    from django.db import connection

    from nqihub.metrology.services.reminders import stage_queryset, stage_windows

    lines = []
    for stage, after, until in stage_windows(today, [30, 15, 7]):
        qs = stage_queryset(stage, after, until).values_list("pk", "organization_id", "next_due_on")
        sql, params = qs.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            plan = [row[-1] for row in cursor.fetchall()]
        lines.append(f"  stage {stage:>3}: " + " | ".join(plan))
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--orgs", type=int, default=2_000)
    parser.add_argument("--analyze", action="store_true", help="run ANALYZE first (SQLite's planner statistics)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()

    var_dir = tempfile.mkdtemp(prefix="nqi-reminder-bench-")
    try:
        benchlib.setup_django(var_dir, migrate=True)
        from django.db import connection

        today = date(2026, 11, 22)
        day2 = today + timedelta(days=1)
        from django.urls import reverse

        reverse("metrology:due_list")  # load the URL configuration before timing
        orgs = _organisations(args.orgs)
        written = _instruments(args.rows, orgs, today)
        if args.analyze:
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        print(f"machine:   {benchlib.machine()}")
        print(
            f"data:      {args.rows:,} instruments of {args.orgs:,} enterprises, due dates over today ± {SPREAD_DAYS} days "
            f"(written in {written:.1f} s)"
        )
        print("plan:")
        for line in _plans(today):
            print(line)

        sel1, cpu1, ids1, stages1 = _time_selection(today)
        print(
            f"day 1:     select_due {sel1:.2f} s (CPU {cpu1:.2f} s) -> {len(ids1):,} reminders "
            f"{dict(sorted(stages1.items()))}"
        )
        run1, counts1 = _time_run(today)
        print(
            f"           send_due_reminders {run1:.1f} s: {counts1['instruments']:,} sent, {counts1['notices']:,} notices, "
            f"{counts1['emails']:,} emails"
        )
        sel2, cpu2, ids2, stages2 = _time_selection(day2)
        print(
            f"day 2:     select_due {sel2:.2f} s (CPU {cpu2:.2f} s) -> {len(ids2):,} reminders "
            f"{dict(sorted(stages2.items()))}"
        )
        base, base_ids = _time_baseline(day2)
        if sorted(base_ids) != sorted(ids2):
            raise SystemExit(f"baseline selected {len(base_ids):,}, select_due {len(ids2):,}: they must agree")
        print(f"baseline:  Python loop over every mandatory instrument {base:.2f} s -> {len(base_ids):,} (the same)")
        run2, counts2 = _time_run(day2)
        print(
            f"           send_due_reminders {run2:.2f} s: {counts2['instruments']:,} sent, {counts2['notices']:,} notices, "
            f"{counts2['emails']:,} emails"
        )
        again, counts3 = _time_run(day2)
        print(f"again:     send_due_reminders the same day {again:.2f} s: {counts3['instruments']:,} sent")
        print(f"ratio:     baseline / select_due (day 2) = {base / sel2:.1f}x")
        # The target is for the daily run (day 2); day 1 is the one-off backlog after an import.
        met = sel2 < TARGET_SECONDS
        print(
            f"target:    daily selection < {TARGET_SECONDS:.0f} s over {args.rows:,} instruments: "
            f"{'MET' if met else 'NOT MET'} ({sel2:.2f} s, CPU {cpu2:.2f} s; the day-1 backlog took {sel1:.2f} s)"
        )
        return 0 if met else 1
    finally:
        if args.keep:
            print(f"kept:      {var_dir}")
        else:
            shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
