"""What the results say, for regulators (scoped to their jurisdiction), and the risk score that
weights the next draw.

Counting, everywhere the same:

- a record counts in the year of its batch's plan and the quarter its batch started;
- *tested* = records whose conclusion is final (after any objection and re-test), *passed* =
  of those, final conclusion qualified; *failed* = tested − passed; *refused* = sampling refused
  (not in the pass rate); pass rate = passed ÷ tested, in percent, one decimal (none when nothing
  was tested);
- a failure of a test item is counted once per record, in the round that decides it: the re-test
  where the item was re-tested (复检结论为最终结论), otherwise the first test;
- regions are the next level below the reader's jurisdiction (a city regulator sees its
  districts and counties, the region its cities).

The risk score (``refresh_risk_scores``) is computed in one UPDATE from the earlier failures
(the larger of the imported count and the final failures on record), the complaints (capped)
and the abnormal-operations flag, with the pool's formula and weights (rule data, ``risk_*``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Case, Count, DecimalField, Exists, F, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce, ExtractQuarter, Greatest, Least
from django.utils.translation import gettext_lazy

from nqihub.core.access import get_actor
from nqihub.divisions.models import AdminDivision

from .. import errors
from ..models import Batch, Conclusion, PoolObject, ProductCategory, SamplingRecord, TestResult
from .rules import rule

FINAL = SamplingRecord.Stage.FINAL
REFUSED = SamplingRecord.Stage.REFUSED
RISK_CEILING = Decimal("9999.99")


@dataclass
class Row:
    key: str
    name: str
    tested: int = 0
    passed: int = 0
    refused: int = 0

    @property
    def failed(self) -> int:
        return self.tested - self.passed

    @property
    def pass_rate(self) -> Decimal | None:
        if not self.tested:
            return None
        return (Decimal(self.passed) * 100 / Decimal(self.tested)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    def add(self, tested: int, passed: int, refused: int) -> None:
        self.tested += tested
        self.passed += passed
        self.refused += refused


@dataclass
class Comparison:
    key: str
    name: str
    this_year: Row
    last_year: Row

    @property
    def change(self) -> Decimal | None:
        if self.this_year.pass_rate is None or self.last_year.pass_rate is None:
            return None
        return self.this_year.pass_rate - self.last_year.pass_rate


@dataclass
class Analysis:
    jurisdiction: AdminDivision
    year: int
    kind: str
    category: ProductCategory | None
    total: Row
    last_total: Row
    by_category: list[Row] = field(default_factory=list)
    by_region: list[Row] = field(default_factory=list)
    by_kind: list[Row] = field(default_factory=list)
    by_quarter: list[Row] = field(default_factory=list)
    comparison: list[Comparison] = field(default_factory=list)
    failures_by_item: list[tuple[str, int]] = field(default_factory=list)

    @property
    def failures_as_rows(self) -> list[dict]:
        return [{"test_item": name, "records": count} for name, count in self.failures_by_item]


FILTER_LABELS = {
    "year": gettext_lazy("Year"),
    "kind": gettext_lazy("Type of check"),
    "category": gettext_lazy("Product category"),
    "region": gettext_lazy("Region"),
}


def bad_filter(name: str, value: str):
    """The refusal of a search filter ``name`` given ``value`` (the field named, the value shown)."""
    return errors.BAD_FILTER(field=name, name=FILTER_LABELS.get(name, name), value=value[:20])


def analysis_records(user):
    """The sampling records a regulator may analyse: those of its jurisdiction. Anyone else is
    refused (the analysis is the regulators')."""
    actor = get_actor(user)
    if not actor.is_regulator or actor.organization is None:
        raise errors.REGULATORS_ONLY()
    return SamplingRecord.objects.for_user(user, "view")


def clean_filters(params) -> dict:
    """``year`` (default this year), ``kind`` (a batch type) and ``category`` (a product category
    code) from a query; a bad value is refused with the field named."""
    from django.utils import timezone

    year_text = (params.get("year") or "").strip()
    if year_text:
        if not year_text.isdigit() or not 2000 <= int(year_text) <= 2200:
            raise bad_filter("year", year_text)
        year = int(year_text)
    else:
        year = timezone.localdate().year
    kind = (params.get("kind") or "").strip()
    if kind and kind not in Batch.Kind.values:
        raise bad_filter("kind", kind)
    code = (params.get("category") or "").strip()
    category = None
    if code:
        category = ProductCategory.objects.filter(code=code).first()
        if category is None:
            raise bad_filter("category", code)
    return {"year": year, "kind": kind, "category": category}


def _region_of(divisions: dict[str, str], base_path: str, code: str) -> str:
    """The code of the division one level below the jurisdiction (``base_path``) that holds ``code``."""
    path = divisions.get(code, "")
    rest = path[len(base_path) :].strip("/").split("/") if path.startswith(base_path) else []
    return rest[0] if rest and rest[0] else code


def sampling_analysis(user, *, year: int, kind: str = "", category: ProductCategory | None = None) -> Analysis:
    records = analysis_records(user)
    jurisdiction = get_actor(user).organization.division
    if kind:
        records = records.filter(batch__kind=kind)
    if category is not None:
        records = records.filter(pool_object__category=category)
    grouped = (
        records.filter(batch__plan__year__in=[year, year - 1], stage__in=[FINAL, REFUSED])
        .values("batch__plan__year", "batch__kind", "pool_object__category_id", "division_id")
        .annotate(
            quarter=ExtractQuarter("batch__starts_on"),
            tested=Count("pk", filter=Q(stage=FINAL)),
            passed=Count("pk", filter=Q(stage=FINAL, final_conclusion=Conclusion.PASS)),
            refused=Count("pk", filter=Q(stage=REFUSED)),
        )
        .order_by()
    )
    groups = list(grouped)
    categories = dict(ProductCategory.objects.values_list("pk", "code"))
    category_names = dict(ProductCategory.objects.values_list("code", "name"))
    paths = dict(AdminDivision.objects.filter(code__in={g["division_id"] for g in groups}).values_list("code", "path"))
    regions = {g["division_id"]: _region_of(paths, jurisdiction.path, g["division_id"]) for g in groups}
    region_names = dict(AdminDivision.objects.filter(code__in=set(regions.values())).values_list("code", "name"))
    kinds = dict(Batch.Kind.choices)

    total, last_total = Row("total", "total"), Row("total", "total")
    by: dict[str, dict[str, Row]] = defaultdict(dict)
    last_by_category: dict[str, Row] = {}

    def row(table: dict[str, Row], key: str, name: str) -> Row:
        if key not in table:
            table[key] = Row(str(key), str(name))
        return table[key]

    for g in groups:
        counts = (g["tested"], g["passed"], g["refused"])
        code = categories[g["pool_object__category_id"]]
        if g["batch__plan__year"] != year:
            last_total.add(*counts)
            row(last_by_category, code, category_names[code]).add(*counts)
            continue
        total.add(*counts)
        row(by["category"], code, category_names[code]).add(*counts)
        region = regions[g["division_id"]]
        row(by["region"], region, region_names.get(region, region)).add(*counts)
        row(by["kind"], g["batch__kind"], kinds.get(g["batch__kind"], g["batch__kind"])).add(*counts)
        quarter = f"Q{g['quarter']}"
        row(by["quarter"], quarter, f"{year}-{quarter}").add(*counts)

    comparison = [
        Comparison(
            key=code,
            name=category_names[code],
            this_year=by["category"].get(code, Row(code, category_names[code])),
            last_year=last_by_category.get(code, Row(code, category_names[code])),
        )
        for code in sorted(set(by["category"]) | set(last_by_category))
    ]
    final_records = records.filter(batch__plan__year=year, stage=FINAL)
    return Analysis(
        jurisdiction=jurisdiction,
        year=year,
        kind=kind,
        category=category,
        total=total,
        last_total=last_total,
        by_category=[by["category"][k] for k in sorted(by["category"])],
        by_region=[by["region"][k] for k in sorted(by["region"])],
        by_kind=[by["kind"][k] for k in Batch.Kind.values if k in by["kind"]],
        by_quarter=[by["quarter"][k] for k in sorted(by["quarter"])],
        comparison=comparison,
        failures_by_item=failures_by_item(final_records),
    )


def deciding_results(records):
    """The results that decide each test item of ``records``: the re-test where there is one,
    otherwise the first test."""
    retested = TestResult.objects.filter(
        record=OuterRef("record"), test_item=OuterRef("test_item"), round=TestResult.Round.RECHECK
    )
    return TestResult.objects.filter(record__in=records.values("pk")).filter(
        Q(round=TestResult.Round.RECHECK) | ~Exists(retested)
    )


def failures_by_item(records) -> list[tuple[str, int]]:
    """(test item, number of records failing it), most failed first."""
    rows = (
        deciding_results(records)
        .filter(conclusion=Conclusion.FAIL)
        .values("test_item__name")
        .annotate(n=Count("record", distinct=True))
        .order_by("-n", "test_item__name")
    )
    return [(r["test_item__name"], r["n"]) for r in rows]


def failed_items_by_record(record_ids) -> dict[int, list[str]]:
    """The names of the test items that decided a failure, per record (for the public list)."""
    found: dict[int, list[str]] = defaultdict(list)
    rows = (
        deciding_results(SamplingRecord.objects.filter(pk__in=list(record_ids)))
        .filter(conclusion=Conclusion.FAIL)
        .order_by("record_id", "test_item__seq")
        .values_list("record_id", "test_item__name")
    )
    for record_id, name in rows:
        if name not in found[record_id]:
            found[record_id].append(name)
    return found


# --------------------------------------------------------------------------- risk score


def _weight(code: str) -> Value:
    return Value(Decimal(rule(code)) / 100, output_field=DecimalField(max_digits=8, decimal_places=2))


def refresh_risk_scores(*, actor=None, objects=None) -> int:
    """Recompute the risk of ``objects`` (ids, or a query of ids) or of the whole pool in one
    UPDATE; with ``actor``, only the objects the actor may change. Returns the number of objects
    updated. The final failures on record count as earlier failures (``earlier_failures`` becomes
    the larger of the imported count and the records' final failures), and the score is the
    pool's formula (``services.pools.risk_score``, with the same rules)::

        1 + w_complaint · min(complaints, cap) + w_failure · earlier failures + w_abnormal · [abnormal-listed]

    each weight a rule in per cent of one point, held below the column's largest value."""
    pool = PoolObject.objects.all()
    if objects is not None:
        pool = pool.filter(pk__in=objects)
    if actor is not None:
        pool = pool.filter(pk__in=PoolObject.objects.for_user(actor, "change").values("pk"))
    failures_on_record = Subquery(
        SamplingRecord.objects.filter(pool_object=OuterRef("pk"), stage=FINAL, final_conclusion=Conclusion.FAIL)
        .order_by()
        .values("pool_object")
        .annotate(n=Count("pk"))
        .values("n"),
        output_field=IntegerField(),
    )
    decimal = DecimalField(max_digits=8, decimal_places=2)
    failures = Greatest(F("earlier_failures"), Coalesce(failures_on_record, 0), output_field=IntegerField())
    complaints = Least(F("complaints"), Value(rule("risk_complaint_cap")), output_field=IntegerField())
    abnormal = Case(
        When(abnormal_listed=True, then=_weight("risk_abnormal_weight_percent")),
        default=Value(Decimal("0"), output_field=decimal),
        output_field=decimal,
    )
    score = (
        Value(Decimal("1"), output_field=decimal)
        + complaints * _weight("risk_complaint_weight_percent")
        + failures * _weight("risk_failure_weight_percent")
        + abnormal
    )
    return pool.update(earlier_failures=failures, risk_score=Least(score, Value(RISK_CEILING), output_field=decimal))
