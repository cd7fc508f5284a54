#!/usr/bin/env python
"""Audit-chain benchmark: verifying 1,000,000 audit records, with and without a year of hourly
checkpoints, and the hourly checkpoint itself, against the physical limit in the same run.

    .venv/bin/python bench/audit_chain_bench.py [--records 1000000] [--since 5000] [--keep]

1. Sets up its own throwaway SQLite database in a temporary directory (the real settings, with
   NQI_VAR_DIR pointing there) and writes ``--records`` audit records with valid hashes (the
   chain built in Python with the model's own ``compute_hash``, inserted with one prepared
   INSERT per batch), then keys the chain head as ``audit_record`` would.
2. The physical limit: one raw cursor over every record, computing each record's HMAC from its
   canonical payload (the same text the model hashes), nothing else.
3. ``verify_chain`` without checkpoints, then with a checkpoint file of 8,760 lines (one a
   hour for a year, spread over the chain).
4. ``--since`` more records appended with ``audit_record`` (the real path), then
   ``audit_checkpoint``: it checks only what was written since the last checkpoint.

Each measurement runs ``--repeat`` times (default 2) and the fastest counts (other processes
share the machine). Prints the timings and records per second, the ratio of ``verify_chain`` to the limit and the
targets: a full verification within 3× the limit, the checkpoints adding under 10 %, and the
checkpoint under 1 s. Exit status 1 when a target is missed. Not part of the application:
nothing here is imported by it.
"""

from __future__ import annotations

import argparse
import io
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta

import benchlib

BATCH = 20_000
TARGET_RATIO = 3.0
TARGET_CHECKPOINT_OVERHEAD = 0.10
TARGET_CHECKPOINT_SECONDS = 1.0


def _build(records: int) -> float:
    from django.db import connection, transaction

    from nqihub.audit.models import GENESIS_HASH, AuditChainHead, AuditEvent

    started = time.perf_counter()
    table = AuditEvent._meta.db_table
    columns = [
        "seq",
        "occurred_at",
        "actor_id",
        "actor_username",
        "organization_id_snapshot",
        "organization_name",
        "action",
        "target_type",
        "target_id",
        "target_repr",
        "outcome",
        "source_address",
        "channel",
        "request_id",
        "details",
        "prev_hash",
        "hash",
    ]
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
    start = datetime(2026, 1, 1, tzinfo=UTC)
    prev = GENESIS_HASH
    actions = ["data.query", "auth.login", "instrument.update", "registration.approve", "data.export"]
    with transaction.atomic(), connection.cursor() as cursor:
        for first in range(1, records + 1, BATCH):
            rows = []
            for seq in range(first, min(first + BATCH, records + 1)):
                event = AuditEvent(
                    seq=seq,
                    occurred_at=start + timedelta(seconds=seq * 3),
                    actor_id=None,
                    actor_username=f"user{seq % 997:03d}",
                    organization_id_snapshot=seq % 2000 + 1,
                    organization_name=f"基准测试企业{seq % 2000:05d}有限公司",
                    action=actions[seq % len(actions)],
                    target_type="organizations.organization",
                    target_id=str(seq % 50_000),
                    target_repr=f"对象 {seq}",
                    outcome="success",
                    source_address="10.0.0.1",
                    channel="web",
                    request_id=f"{seq:032x}",
                    details={"kind": "list", "params": {"q": "钢铁"}, "count": seq % 100},
                    prev_hash=prev,
                )
                event.hash = event.compute_hash()
                prev = event.hash
                rows.append(
                    [
                        event.seq,
                        event.occurred_at,
                        None,
                        event.actor_username,
                        event.organization_id_snapshot,
                        event.organization_name,
                        event.action,
                        event.target_type,
                        event.target_id,
                        event.target_repr,
                        event.outcome,
                        event.source_address,
                        event.channel,
                        event.request_id,
                        AuditEvent._meta.get_field("details").get_db_prep_value(event.details, connection),
                        event.prev_hash,
                        event.hash,
                    ]
                )
            cursor.executemany(sql, rows)
        head = AuditChainHead.objects.get(pk=1)
        head.last_seq, head.last_hash = records, prev
        head.mac = head.compute_mac()
        head.save()
    return time.perf_counter() - started


def _limit() -> tuple[float, int]:
    """One raw cursor, each record's HMAC from its canonical payload: the floor."""
    import hashlib
    import hmac
    import json

    from django.db import connection

    from nqihub.audit.models import audit_key

    key = audit_key()
    started = time.perf_counter()
    count = 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT seq, occurred_at, actor_id, actor_username, organization_id_snapshot, organization_name, "
            "action, target_type, target_id, target_repr, outcome, source_address, channel, request_id, details, "
            "prev_hash, hash FROM audit_auditevent ORDER BY seq"
        )
        for row in cursor:
            occurred = row[1] if isinstance(row[1], datetime) else datetime.fromisoformat(str(row[1]))
            data = {
                "seq": row[0],
                "occurred_at": occurred.isoformat(timespec="microseconds"),
                "actor_id": row[2],
                "actor_username": row[3],
                "organization_id": row[4],
                "organization_name": row[5],
                "action": row[6],
                "target_type": row[7],
                "target_id": row[8],
                "target_repr": row[9],
                "outcome": row[10],
                "source_address": row[11],
                "channel": row[12],
                "request_id": row[13],
                "details": json.loads(row[14]),
                "prev_hash": row[15],
            }
            text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
            hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()
            count += 1
    return time.perf_counter() - started, count


def _checkpoints(path, records: int, lines: int) -> None:
    from nqihub.audit.models import AuditEvent
    from nqihub.audit.verify import checkpoint_line

    seqs = sorted({max(1, records * (i + 1) // lines) for i in range(lines)})
    hashes = dict(AuditEvent.objects.filter(seq__in=seqs).values_list("seq", "hash"))
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with open(path, "w", encoding="utf-8") as f:
        for i, seq in enumerate(seqs):
            f.write(checkpoint_line((start + timedelta(hours=i)).isoformat(), seq, hashes[seq]))


def _fastest(repeat: int, run):
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - started)
    return best, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--since", type=int, default=5_000, help="records appended before the timed checkpoint")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each measurement; the fastest counts")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()

    var_dir = tempfile.mkdtemp(prefix="nqihub-audit-bench-")
    checkpoint_file = f"{var_dir}/audit-checkpoints.log"
    try:
        benchlib.setup_django(var_dir, migrate=True, NQI_AUDIT_CHECKPOINT_FILE=checkpoint_file)
        from django.core.management import call_command

        from nqihub.audit.services import audit_record
        from nqihub.audit.verify import verify_chain

        print(benchlib.machine())
        print(f"building {args.records:,} chained audit records …", flush=True)
        print(f"  built in {_build(args.records):.1f} s")

        limit, count = min(_limit() for _ in range(args.repeat))
        assert count == args.records
        print(f"physical limit (raw cursor + HMAC): {limit:.2f} s, {count / limit:,.0f} records/s")

        plain, report = _fastest(args.repeat, lambda: verify_chain(checkpoints=False))
        assert report.ok and report.checked == args.records, report.describe()
        print(f"verify_chain, no checkpoints:       {plain:.2f} s, {args.records / plain:,.0f} records/s")

        _checkpoints(checkpoint_file, args.records, 24 * 365)
        with_points, report = _fastest(args.repeat, verify_chain)
        assert report.ok and report.checkpoints == 24 * 365, report.describe()
        print(f"verify_chain, 8,760 checkpoints:    {with_points:.2f} s")

        for i in range(args.since):
            audit_record(action="bench.append", details={"n": i})
        started = time.perf_counter()
        call_command("audit_checkpoint", stdout=io.StringIO())
        checkpoint = time.perf_counter() - started
        print(f"audit_checkpoint after {args.since:,} new records: {checkpoint:.3f} s")

        ratio = plain / limit
        overhead = with_points / plain - 1
        print()
        checks = [
            (f"verify_chain / limit = {ratio:.2f} (target ≤ {TARGET_RATIO})", ratio <= TARGET_RATIO),
            (
                f"checkpoints add {overhead:.1%} (target < {TARGET_CHECKPOINT_OVERHEAD:.0%})",
                overhead < TARGET_CHECKPOINT_OVERHEAD,
            ),
            (
                f"audit_checkpoint {checkpoint:.3f} s (target < {TARGET_CHECKPOINT_SECONDS} s)",
                checkpoint < TARGET_CHECKPOINT_SECONDS,
            ),
        ]
        for text, ok in checks:
            print(("OK    " if ok else "MISS  ") + text)
        return 0 if all(ok for _, ok in checks) else 1
    finally:
        if args.keep:
            print(f"kept {var_dir}")
        else:
            shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
