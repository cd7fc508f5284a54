#!/usr/bin/env python
"""Ledger import benchmark: NQI Hub's importer against an ordinary django-import-export import.

    .venv/bin/python bench/import_bench.py [--rows 100000] [--baseline-rows N] [--profile]

Sets up its own throwaway SQLite database in a temporary directory (the real settings, with
NQI_VAR_DIR pointing there, tasks run inline), creates an enterprise and catalogue items,
writes one .xlsx of ``--rows`` rows and times, each into an empty instrument table:

(a) ``import_start`` → ``import_run``: store the upload, read the workbook, check every row with
    the shared rules, write in one transaction (end to end, as a user's upload runs);
(b) the baseline: a straightforward ``import_export.resources.ModelResource`` for Instrument
    with the same fields, the dataset loaded by tablib from the same workbook, imported with
    ``resource.import_data(dataset, dry_run=False, use_transactions=True)`` and the resource's
    default options. When its estimated time for all rows is over five minutes it is timed on
    the first ``--baseline-rows`` rows (default 10,000) only, and the output says so: rows
    per second are comparable.

(c) the same, tuned as well as django-import-export allows: ``use_bulk=True``,
    ``skip_diff=True``, a foreign-key widget that looks catalogue codes up in a dict, and the
    existing instruments fetched once into a dict instead of one query per row;
(d) the physical limit of this machine, in the same run: the fastest reader available
    (python-calamine) reading the workbook, plus one raw ``executemany`` of the same rows
    into the instrument table, nothing else.

Prints rows/s for each and whether the targets are met: >= 25,000 rows/s on SQLite and >= half
the physical limit; >= 10x the tuned baseline. Benchmarks are kept out of the test suite so
timing never makes a test flaky. Not part of the application: nothing here is imported by it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import benchlib

TARGET_ROWS_PER_SECOND = 25_000
TARGET_RATIO = 10
BASELINE_BUDGET_SECONDS = 300

USE_WORDS = ["贸易结算", "安全防护", "医疗卫生", "环境监测", "其他"]
STATUS_WORDS = ["在用", "在用", "在用", "停用", ""]
CATALOGUE = [
    # code, level-1 name, item name, use fields (trade, safety, medical, environment)
    ("80.1", "衡器", "基准测试数字指示秤", (1, 0, 0, 0)),
    ("80.2", "衡器", "基准测试电子汽车衡", (1, 0, 0, 0)),
    ("81.1", "压力表", "基准测试弹簧管式压力表", (0, 1, 0, 1)),
    ("82.1", "血压计", "基准测试血压计", (0, 0, 1, 0)),
    ("83.1", "烟气分析仪", "基准测试烟气分析仪", (0, 0, 0, 1)),
    ("84.1", "电能表", "基准测试电能表", (1, 0, 0, 0)),
]


def _world():
    from nqihub.accounts.models import User
    from nqihub.core.access import MembershipRole, OrganizationKind
    from nqihub.metrology.models import CatalogueItem
    from nqihub.organizations.credit_code import make_credit_code, make_organisation_code
    from nqihub.organizations.models import Membership, Organization

    organization = Organization.objects.create(
        kind=OrganizationKind.ENTERPRISE,
        name="包头基准测试计量器具有限公司",
        credit_code=make_credit_code(division="150203", body=make_organisation_code("99887766")),
        division_id="150203",
        address="包头市昆都仑区钢铁大街 1 号",
        legal_representative="张三",
    )
    user = User.objects.create_user(username="bench", password=None)
    Membership.objects.create(user=user, organization=organization, role=MembershipRole.MANAGER, is_default=True)
    for code, level1, name, (trade, safety, medical, environment) in CATALOGUE:
        level1_no, level2_no = (int(x) for x in code.split("."))
        CatalogueItem.objects.update_or_create(
            code=code,
            defaults={
                "level1_no": level1_no,
                "level1_name": level1,
                "level2_no": level2_no,
                "name": name,
                "supervision": "V",
                "verification_mode": "periodic",
                "use_trade": bool(trade),
                "use_safety": bool(safety),
                "use_medical": bool(medical),
                "use_environment": bool(environment),
                "source": "benchmark",
            },
        )
    return organization, user


def _rows(count: int):
    """Varied, realistic rows: codes and item names in the first column, some left empty."""
    firsts = [c[0] for c in CATALOGUE] + [c[2] for c in CATALOGUE] + [""]
    for i in range(count):
        yield [
            firsts[i % len(firsts)],
            ("电子计价秤", "压力表", "血压计", "烟气分析仪", "电能表", "钢直尺")[i % 6],
            f"ACS-{i % 300}",
            "(0~15)kg" if i % 2 else "(0~1.6)MPa",
            ("III", "1.6级", "2级", "0.5S")[i % 4],
            f"SN{i:09d}",
            ("上海衡器厂", "宁波水表股份有限公司", "鱼跃医疗", "雪迪龙")[i % 4],
            f"{i % 40 + 1} 号车间",
            USE_WORDS[i % len(USE_WORDS)],
            STATUS_WORDS[i % len(STATUS_WORDS)],
        ]


def _write_xlsx(path: Path, count: int) -> None:
    from openpyxl import Workbook

    from nqihub.metrology import rules

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("计量器具台账")
    sheet.append([c.header_zh for c in rules.COLUMNS])
    for row in _rows(count):
        sheet.append(row)
    workbook.save(path)


def _clear_instruments() -> None:
    from nqihub.metrology.models import Instrument

    Instrument.objects.all().delete()


def _time_ours(path: Path, user, rows: int, *, profile: bool) -> tuple[float, object]:
    from django.core.files import File

    from nqihub.metrology.models import Instrument
    from nqihub.metrology.services.imports import import_start

    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
    with open(path, "rb") as handle:
        upload = File(handle, name="台账.xlsx")
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        job = import_start(actor=user, uploaded_file=upload)  # runs inline: autocommit, immediate backend
        if profiler:
            profiler.disable()
        elapsed = time.perf_counter() - started
    job.refresh_from_db()
    if job.state != "done":
        raise SystemExit(f"our import did not finish: {job.state} {job.errors[:5]}")
    assert Instrument.objects.count() == rows, Instrument.objects.count()
    if profiler:
        import pstats

        pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(
            int(os.environ.get("BENCH_TOP", "30"))
        )
    return elapsed, job


def _baseline_resource(organization):
    from import_export import fields, resources, widgets

    from nqihub.metrology import rules
    from nqihub.metrology.models import CatalogueItem, Instrument

    use_words, status_words = rules.lookup_tables()
    catalogue_names = dict(CatalogueItem.objects.values_list("name", "code"))

    class InstrumentResource(resources.ModelResource):
        catalogue_item = fields.Field(
            attribute="catalogue_item",
            column_name="catalogue_item",
            widget=widgets.ForeignKeyWidget(CatalogueItem, field="code"),
        )

        class Meta:
            model = Instrument
            fields = (
                "catalogue_item",
                "name",
                "model_spec",
                "measuring_range",
                "accuracy_class",
                "factory_number",
                "manufacturer",
                "location",
                "use_field",
                "status",
            )
            import_id_fields = ("factory_number",)  # the natural key: a second import updates

        def get_queryset(self):
            return Instrument.objects.filter(organization=organization)

        def before_import_row(self, row, **kwargs):
            # The file has the people's words; the model wants codes.
            item = row.get("catalogue_item") or ""
            row["catalogue_item"] = catalogue_names.get(item, item) or None
            row["use_field"] = use_words.get(str(row.get("use_field") or "").lower(), row.get("use_field"))
            status = str(row.get("status") or "").lower()
            row["status"] = status_words.get(status, "in_use") if status else "in_use"

        def before_save_instance(self, instance, row, **kwargs):
            instance.organization = organization
            instance.division_id = organization.division_id
            instance.is_mandatory = instance.compute_mandatory()

    return InstrumentResource()


def _tuned_resource(organization):
    """The baseline with every option django-import-export offers for speed: bulk writes, no
    diff, catalogue codes from a dict, existing instruments from one query."""
    from import_export import widgets

    from nqihub.metrology.models import CatalogueItem, Instrument

    base = type(_baseline_resource(organization))
    items = {item.code: item for item in CatalogueItem.objects.all()}

    class CachedForeignKeyWidget(widgets.ForeignKeyWidget):
        def clean(self, value, row=None, **kwargs):
            return items.get(str(value)) if value else None

    class TunedResource(base):
        class Meta(base.Meta):
            use_bulk = True
            skip_diff = True
            batch_size = 1_000

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.fields["catalogue_item"].widget = CachedForeignKeyWidget(CatalogueItem, field="code")
            self._existing = {i.factory_number: i for i in Instrument.objects.filter(organization=organization)}

        def get_instance(self, instance_loader, row):
            return self._existing.get(str(row.get("factory_number") or ""))

    return TunedResource()


def _time_baseline(path: Path, organization, rows: int, *, tuned: bool = False) -> float:
    import tablib

    from nqihub.metrology import rules
    from nqihub.metrology.models import Instrument

    started = time.perf_counter()
    with open(path, "rb") as handle:
        dataset = tablib.Dataset().load(handle.read(), format="xlsx")
    by_header = {c.header_zh: c.field for c in rules.COLUMNS}
    dataset.headers = [by_header.get(h, h) for h in dataset.headers]
    resource = _tuned_resource(organization) if tuned else _baseline_resource(organization)
    result = resource.import_data(dataset, dry_run=False, use_transactions=True)
    elapsed = time.perf_counter() - started
    if result.has_errors() or result.has_validation_errors():
        first = result.row_errors()[:1] or result.invalid_rows[:1]
        raise SystemExit(f"baseline import failed: {first}")
    assert Instrument.objects.count() == rows, Instrument.objects.count()
    return elapsed


def _time_physical_limit(path: Path, organization, rows: int) -> tuple[float, float]:
    """(seconds to read, seconds to insert): the fastest reader available reading the file,
    and one raw ``executemany`` of the same rows (every column of the table, one prepared
    statement, one transaction): what no import of this file can beat on this machine."""
    from django.db import connection, transaction
    from django.utils import timezone
    from python_calamine import CalamineWorkbook

    from nqihub.metrology.models import Instrument

    started = time.perf_counter()
    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
    values = sheet.to_python()[1:]
    read = time.perf_counter() - started
    fields = [f for f in Instrument._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        quote(Instrument._meta.db_table), ", ".join(quote(f.column) for f in fields), ", ".join(["%s"] * len(fields))
    )
    now = timezone.now()
    template = []
    for f in fields:
        value = {
            "organization": organization.pk,
            "division": organization.division_id,
            "created_at": now,
            "updated_at": now,
        }.get(f.name, f.get_default())
        template.append(f.get_db_prep_save(value, connection) if value is not None else None)
    at = {f.name: i for i, f in enumerate(fields)}
    params = []
    for number, row in enumerate(values):
        line = template.copy()
        line[at["name"]], line[at["factory_number"]] = row[1], row[5]
        line[at["platform_code"]] = f"JLB{number:010d}"
        line[at["use_field"]], line[at["status"]], line[at["is_mandatory"]] = "trade", "in_use", False
        params.append(line)
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(sql, params)
    insert = time.perf_counter() - started
    assert Instrument.objects.count() == rows, Instrument.objects.count()
    return read, insert


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument(
        "--baseline-rows",
        type=int,
        default=10_000,
        help="sample for the baseline when all rows would take over 5 minutes",
    )
    parser.add_argument(
        "--full-baseline", action="store_true", help="time the baseline on all rows, however long it takes"
    )
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="runs of our import (the median is reported)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of our import")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()

    var_dir = tempfile.mkdtemp(prefix="nqi-import-bench-")
    try:
        benchlib.setup_django(var_dir, migrate=True)
        organization, user = _world()
        path = Path(var_dir) / f"ledger-{args.rows}.xlsx"
        started = time.perf_counter()
        _write_xlsx(path, args.rows)
        size_mb = path.stat().st_size / 1_000_000
        print(f"machine:  {benchlib.machine()}")
        print(
            f"file:     {path.name}: {args.rows:,} rows x 10 columns, {size_mb:.1f} MB (written in {time.perf_counter() - started:.1f} s)"
        )

        _clear_instruments()
        read, insert = _time_physical_limit(path, organization, args.rows)
        limit_rate = args.rows / (read + insert)
        half = limit_rate / 2
        print(
            f"limit:    calamine read {read:.2f} s + one executemany {insert:.2f} s = {read + insert:.2f} s "
            f"= {limit_rate:,.0f} rows/s (half: {half:,.0f} rows/s)"
        )

        times = []
        for attempt in range(max(args.repeat, 1)):
            _clear_instruments()
            elapsed, job = _time_ours(path, user, args.rows, profile=args.profile and attempt == 0)
            times.append(elapsed)
        ours = statistics.median(times)
        ours_rate = args.rows / ours
        runs = ", ".join(f"{t:.1f}" for t in times)
        print(
            f"ours:     {args.rows:,} rows in {ours:.1f} s (median of {len(times)} runs: {runs} s) = {ours_rate:,.0f} rows/s "
            f"(created {job.created_count:,}); {ours_rate / half:.2f}x half the limit"
        )

        # Re-importing the same file: every row matches an existing instrument, nothing changed.
        again, job = _time_ours(path, user, args.rows, profile=False)
        print(
            f"again:    same file re-imported (all {job.updated_count:,} rows found, unchanged) in {again:.1f} s = {args.rows / again:,.0f} rows/s"
        )

        met_speed = ours_rate >= TARGET_ROWS_PER_SECOND
        met_half = ours_rate >= half
        if args.skip_baseline:
            print(
                f"target:   >= {TARGET_ROWS_PER_SECOND:,} rows/s on SQLite: {'MET' if met_speed else 'NOT MET'}; "
                f">= half the limit: {'MET' if met_half else 'NOT MET'}"
            )
            return 0

        # The tuned baseline first (its own estimate decides whether all rows are timed).
        sample = min(args.baseline_rows, args.rows)
        sample_path = Path(var_dir) / f"ledger-{sample}.xlsx"
        _write_xlsx(sample_path, sample)  # the first `sample` rows of the same data
        _clear_instruments()
        tuned = _time_baseline(sample_path, organization, sample, tuned=True)
        tuned_rows = sample
        if sample < args.rows and (args.full_baseline or args.rows * tuned / sample <= BASELINE_BUDGET_SECONDS):
            _clear_instruments()
            tuned = _time_baseline(path, organization, args.rows, tuned=True)
            tuned_rows = args.rows
        tuned_rate = tuned_rows / tuned
        print(
            f"tuned:    django-import-export with use_bulk, skip_diff, cached foreign keys and instances, "
            f"{tuned_rows:,} rows in {tuned:.1f} s = {tuned_rate:,.0f} rows/s; ours is {ours_rate / tuned_rate:.1f}x"
        )

        _clear_instruments()
        baseline = _time_baseline(sample_path, organization, sample)
        baseline_rows = sample
        estimate = args.rows / (sample / baseline)
        if sample < args.rows and (args.full_baseline or estimate <= BASELINE_BUDGET_SECONDS):
            _clear_instruments()
            baseline = _time_baseline(path, organization, args.rows)
            baseline_rows = args.rows
        baseline_rate = baseline_rows / baseline
        note = (
            ""
            if baseline_rows == args.rows
            else (
                f" -- a sample: all {args.rows:,} rows would take about {estimate / 60:.0f} min; rows/s is comparable"
            )
        )
        print(
            f"baseline: django-import-export ModelResource.import_data, {baseline_rows:,} rows in {baseline:.1f} s = {baseline_rate:,.0f} rows/s{note}"
        )
        ratio = ours_rate / baseline_rate
        print(f"ratio:    {ratio:.1f}x the defaults, {ours_rate / tuned_rate:.1f}x the tuned baseline")
        met_ratio = ours_rate / tuned_rate >= TARGET_RATIO
        print(
            f"target:   >= {TARGET_ROWS_PER_SECOND:,} rows/s on SQLite: {'MET' if met_speed else 'NOT MET'}; "
            f">= half the limit: {'MET' if met_half else 'NOT MET'}; "
            f">= {TARGET_RATIO}x the tuned baseline: {'MET' if met_ratio else 'NOT MET'}"
        )
        return 0 if met_speed and met_half and met_ratio else 1
    finally:
        if args.keep:
            print(f"kept:     {var_dir}")
        else:
            shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
