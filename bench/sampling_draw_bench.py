#!/usr/bin/env python
"""Draw benchmark: the published, reproducible draw of supervision sampling
(``nqihub.sampling.draw``) from a pool of 500,000 objects, against reading the pool's ids once
and against ``ORDER BY RANDOM()``, in the same run, on SQLite and (with ``--database-url``)
PostgreSQL.

    .venv/bin/python bench/sampling_draw_bench.py [--rows 500000] [--draw 5000] [--repeat 5]
        [--database-url postgres://postgres@127.0.0.1:5433/DB] [--skip-sqlite] [--keep]

1. Builds a table ``bench_sampling_pool (id, stratum, weight)`` with ``--rows`` objects: ids
   1..N, the stratum ``<division code>|<category code>`` (12 league and city codes of Inner
   Mongolia, unevenly sized, × 30 categories: 360 strata), the weight a risk grade (1 for 70 %,
   then 1.5, 2, 3 and 5), and an index on (stratum, weight, id) — the one the draw reads and
   the one ``ORDER BY RANDOM()`` per stratum needs. SQLite in a temporary file; PostgreSQL in
   the database of ``--database-url`` (the table is dropped afterwards), ``VACUUM ANALYZE``.
2. Measures, ``--repeat`` rounds each (the median is reported; the rounds interleave, so a
   busy machine weighs on every figure alike), through the plain DB-API driver (sqlite3,
   psycopg) as the application's database layer would read:
   (a) reading the pool's ids once: ``SELECT id FROM bench_sampling_pool``, every row fetched;
   (b) the full draw: ``--draw`` objects allocated over the strata by size, weighted, as the
       service does it: one query returning each (stratum, weight) group's ids
       (``group_concat`` on SQLite, ``array_agg`` on PostgreSQL), then ``draw_groups``;
   (b') the same draw from plain rows: ``SELECT id, stratum, weight``, then ``draw`` (the
       verifier's way; it must give the identical list);
   (c) ``ORDER BY RANDOM()``: the group counts for the same allocation, then per stratum
       ``ORDER BY random() LIMIT quota`` (c1, unweighted) and ``ORDER BY ln(u) / weight DESC
       LIMIT quota`` (c2, weighted like ours: the same job, but neither reproducible nor
       publishable); c3 one ``ORDER BY random() LIMIT total`` over the whole pool (neither
       stratified nor weighted); c4 one statement stratified with ``row_number() OVER
       (PARTITION BY stratum ORDER BY random())``.
3. Prints the figures, b / a (target ≤ 2) and b against c2 (target: faster), per database.
   Exit status 1 when a target is missed. Not part of the application: nothing imports it.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import benchlib

sys.path.insert(0, str(benchlib.BASE_DIR))

from nqihub.sampling import draw as D  # the standard library only: no Django

TARGET_RATIO = 2.0
ROWS = "b'"
SEED = "5eed" * 16
TABLE = "bench_sampling_pool"
DIVISIONS = {  # league and city codes of Inner Mongolia, with a rough share of enterprises
    "150100": 18,
    "150200": 16,
    "150300": 4,
    "150400": 11,
    "150500": 8,
    "150600": 12,
    "150700": 7,
    "150800": 5,
    "150900": 6,
    "152200": 4,
    "152500": 6,
    "152900": 3,
}
CATEGORIES = [f"C{i:02d}" for i in range(1, 31)]
WEIGHTS = {1.0: 70, 1.5: 15, 2.0: 8, 3.0: 5, 5.0: 2}  # risk grade → share in %


def pool_rows(count: int):
    rng = random.Random(20261203)
    divisions = rng.choices(list(DIVISIONS), weights=list(DIVISIONS.values()), k=count)
    categories = rng.choices(CATEGORIES, weights=[1 + (i % 7) for i in range(len(CATEGORIES))], k=count)
    weights = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()), k=count)
    for i in range(count):
        yield (i + 1, f"{divisions[i]}|{categories[i]}", weights[i])


class SQLite:
    name = "SQLite"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.conn = sqlite3.connect(path)

    def build(self, rows: int) -> float:
        started = time.perf_counter()
        c = self.conn
        c.execute("PRAGMA journal_mode=WAL")
        c.execute(f"CREATE TABLE {TABLE} (id integer PRIMARY KEY, stratum varchar(32) NOT NULL, weight real NOT NULL)")
        c.executemany(f"INSERT INTO {TABLE} VALUES (?, ?, ?)", pool_rows(rows))
        c.execute(f"CREATE INDEX {TABLE}_draw ON {TABLE} (stratum, weight, id)")
        c.commit()
        c.execute("ANALYZE")
        return time.perf_counter() - started

    def version(self) -> str:
        return f"SQLite {sqlite3.sqlite_version}, file in {self.path.parent}"

    def fetch(self, sql: str, params=()) -> list:
        return self.conn.execute(sql, params).fetchall()

    def groups(self):
        rows = self.fetch(f"SELECT stratum, weight, group_concat(id) FROM {TABLE} GROUP BY stratum, weight")
        return [(stratum, weight, list(map(int, ids.split(",")))) for stratum, weight, ids in rows]

    per_stratum = f"SELECT id FROM {TABLE} WHERE stratum = ? ORDER BY random() LIMIT ?"
    # u = random() / 2**64 + 0.5 in (0, 1); ln(u) / weight as in the published draw
    per_stratum_weighted = (
        f"SELECT id FROM {TABLE} WHERE stratum = ? ORDER BY ln(random() / 18446744073709551616.0 + 0.5) / weight DESC"
        " LIMIT ?"
    )
    overall = f"SELECT id FROM {TABLE} ORDER BY random() LIMIT ?"
    window = (
        f"SELECT stratum, id FROM (SELECT stratum, id, row_number() OVER (PARTITION BY stratum ORDER BY random()) AS r"
        f" FROM {TABLE}) AS t WHERE r <= ?"
    )

    def close(self, keep: bool) -> None:
        self.conn.close()


class PostgreSQL:
    name = "PostgreSQL"

    def __init__(self, url: str) -> None:
        import psycopg

        self.conn = psycopg.connect(url, autocommit=True)

    def build(self, rows: int) -> float:
        started = time.perf_counter()
        c = self.conn
        c.execute(f"DROP TABLE IF EXISTS {TABLE}")
        c.execute(
            f"CREATE TABLE {TABLE} (id bigint PRIMARY KEY, stratum varchar(32) NOT NULL, weight double precision NOT NULL)"
        )
        with c.cursor().copy(f"COPY {TABLE} (id, stratum, weight) FROM STDIN") as copy:
            for row in pool_rows(rows):
                copy.write_row(row)
        c.execute(f"CREATE INDEX {TABLE}_draw ON {TABLE} (stratum, weight, id)")
        c.execute(f"VACUUM ANALYZE {TABLE}")
        return time.perf_counter() - started

    def version(self) -> str:
        import psycopg

        server = self.conn.execute("SHOW server_version").fetchone()[0]
        return f"PostgreSQL {server} on {self.conn.info.host}:{self.conn.info.port}, psycopg {psycopg.__version__}"

    def fetch(self, sql: str, params=()) -> list:
        return self.conn.execute(sql.replace("?", "%s"), params).fetchall()

    def groups(self):
        return self.fetch(f"SELECT stratum, weight, array_agg(id) FROM {TABLE} GROUP BY stratum, weight")

    per_stratum = SQLite.per_stratum
    per_stratum_weighted = f"SELECT id FROM {TABLE} WHERE stratum = ? ORDER BY ln(1 - random()) / weight DESC LIMIT ?"
    overall = SQLite.overall
    window = SQLite.window

    def close(self, keep: bool) -> None:
        if not keep:
            self.conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
        self.conn.close()


def measure(db, total: int, repeat: int) -> dict:
    sizes = dict(db.fetch(f"SELECT stratum, count(*) FROM {TABLE} GROUP BY stratum"))
    quotas = D.allocate(sizes, total)
    window_quota = max(quotas.values())

    def ids_once():
        return db.fetch(f"SELECT id FROM {TABLE}")

    def draw_grouped():
        return D.draw_groups(db.groups(), seed=SEED, total=total, assume_distinct=True)  # ids from the primary key

    def draw_rows():
        return D.draw(db.fetch(f"SELECT id, stratum, weight FROM {TABLE}"), seed=SEED, total=total)

    def random_per_stratum(sql):
        def run():
            counts = dict(db.fetch(f"SELECT stratum, count(*) FROM {TABLE} GROUP BY stratum"))
            shares = D.allocate(counts, total)
            return {s: [r[0] for r in db.fetch(sql, (s, q))] for s, q in shares.items() if q}

        return run

    def random_overall():
        return db.fetch(db.overall, (total,))

    def random_window():
        return db.fetch(db.window, (window_quota,))

    runs = {
        "a": ids_once,
        "b": draw_grouped,
        "b'": draw_rows,
        "c1": random_per_stratum(db.per_stratum),
        "c2": random_per_stratum(db.per_stratum_weighted),
        "c3": random_overall,
        "c4": random_window,
    }
    times: dict[str, list[float]] = {name: [] for name in runs}
    results: dict[str, object] = {}
    for name, run in runs.items():  # warm up: the page cache, the statements, the allocator
        results[name] = run()
    for _ in range(repeat):
        for name, run in runs.items():
            started = time.perf_counter()
            result = run()
            times[name].append(time.perf_counter() - started)
            if name in ("b", "b'") and result != results["b"]:
                raise SystemExit(f"{db.name}: the draw changed between runs or paths: it must not")
    drawn = sum(map(len, results["b"].values()))
    if drawn != sum(quotas.values()) or len(results["a"]) != sum(sizes.values()):
        raise SystemExit(f"{db.name}: drew {drawn:,}, read {len(results['a']):,}: not what was asked")
    return {
        "median": {name: statistics.median(t) for name, t in times.items()},
        "best": {name: min(t) for name, t in times.items()},
        "strata": len(sizes),
        "drawn": drawn,
        "groups": len(db.groups()),
    }


LABELS = {
    "a": "(a)  read the pool's ids once",
    "b": "(b)  the draw: grouped ids + draw_groups",
    "b'": "(b') the draw from rows: rows + draw",
    "c1": "(c1) counts + ORDER BY random() LIMIT q per stratum",
    "c2": "(c2) counts + ORDER BY ln(u)/weight LIMIT q per stratum",
    "c3": "(c3) ORDER BY random() LIMIT total, whole pool",
    "c4": "(c4) row_number() OVER (PARTITION BY stratum ORDER BY random())",
}


def report(db, built: float, figures: dict, rows: int, total: int, repeat: int) -> bool:
    median, best = figures["median"], figures["best"]
    print(f"\n{db.name}: {db.version()}")
    print(
        f"  pool:    {rows:,} objects in {figures['strata']} strata, {figures['groups']:,} (stratum, weight) groups;"
        f" built in {built:.1f} s; drawing {total:,} ({figures['drawn']:,} drawn); median of {repeat} (best)"
    )
    for name, label in LABELS.items():
        print(f"  {label:<66} {median[name] * 1000:8.1f} ms  ({best[name] * 1000:.1f})")
    ratio = median["b"] / median["a"]
    versus = median["c2"] / median["b"]
    ratio_met = ratio <= TARGET_RATIO
    versus_met = median["b"] < median["c2"]
    print(f"  b / a  = {ratio:.2f}   target ≤ {TARGET_RATIO:.0f}: {'MET' if ratio_met else 'NOT MET'}")
    print(
        f"  c2 / b = {versus:.2f}   target > 1 (faster than the same draw by ORDER BY): {'MET' if versus_met else 'NOT MET'}"
    )
    print(
        f"  also:    b' / a = {median[ROWS] / median['a']:.2f}, c1 / b = {median['c1'] / median['b']:.2f},"
        f" c3 / b = {median['c3'] / median['b']:.2f}, c4 / b = {median['c4'] / median['b']:.2f}"
    )
    return ratio_met and versus_met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--draw", type=int, default=5_000, help="objects to draw, allocated by stratum size")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database-url", help="also on this PostgreSQL database (a table is created and dropped)")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the SQLite file and the PostgreSQL table")
    args = parser.parse_args()

    print(f"machine:   {benchlib.machine()}")
    print(f"algorithm: {D.ALGORITHM}, seed {SEED}")
    met = True
    tmp = Path(tempfile.mkdtemp(prefix="nqi-draw-bench-"))
    try:
        databases = []
        if not args.skip_sqlite:
            databases.append(lambda: SQLite(tmp / "pool.sqlite3"))
        if args.database_url:
            databases.append(lambda: PostgreSQL(args.database_url))
        for open_db in databases:
            db = open_db()
            try:
                built = db.build(args.rows)
                figures = measure(db, args.draw, args.repeat)
                met = report(db, built, figures, args.rows, args.draw, args.repeat) and met
            finally:
                db.close(args.keep)
    finally:
        if args.keep:
            print(f"kept:      {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"\n{'every target met' if met else 'a target was missed'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
