"""Regulators' statistics: fee waivers, and filing / verification coverage by region and use field.

Every figure comes from database aggregation over the materialised division path: the region
of a row at a level is the first ``7 × depth`` characters of its division's path (each code is
six digits and a slash), so ``Substr("division__path", 1, 14)`` is the 盟市 of
``150000/150200/150203/``. One ``values(...).annotate(...)`` query per table gives every region
(and, for the coverage statistics, every region × use field) at once, whatever the number of
regions or rows; the same SQL runs on SQLite and PostgreSQL.

Periods are periods of *verification*: a certificate or notice belongs to the period of its
result's ``verified_on``, not to the day the document was issued, so reissuing a document (a
new document for the same result, issued today) changes nothing in a closed period. Only the
current document of each result counts (a superseded one is replaced by its reissue).

Only regulators get statistics, for their jurisdiction (``Actor.jurisdiction_codes``); anybody
else gets ``None`` (pages answer 404, the API 403).

Indexes. The document queries filter on the document's ``verified_on`` (the result's day,
copied at issue) within the jurisdiction's divisions: ``document_division_verified_idx``
(division, verified_on) bounds the scan on both sides, with no join to the results. The coverage query reaches the documents from the jurisdiction's
instruments (through the documents' ``instrument_id`` index) for a small jurisdiction and by
hash joins for a large one. No further index is needed.
"""

from __future__ import annotations

import calendar
import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, DecimalField, F, Q, Sum, Value
from django.db.models.functions import Coalesce, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from nqihub.core.access import get_actor
from nqihub.divisions.models import AdminDivision

from .models import Instrument, IssuedDocument, UseField
from .services.reminders import REMINDED_STATUSES

SEGMENT = 7  # "150203/"
LEVELS = {
    AdminDivision.Level.PROVINCE: 1,
    AdminDivision.Level.PREFECTURE: 2,
    AdminDivision.Level.COUNTY: 3,
}
# The four fields of 计量法第九条 first, "other" last (mandatory instruments are never "other").
USE_FIELDS = (UseField.TRADE, UseField.SAFETY, UseField.MEDICAL, UseField.ENVIRONMENT, UseField.OTHER)
ZERO = Decimal("0.00")
_MONEY = DecimalField(max_digits=16, decimal_places=2)


# --------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class Period:
    start: datetime.date
    end: datetime.date

    @property
    def label(self) -> str:
        return f"{self.start:%Y-%m-%d} – {self.end:%Y-%m-%d}"

    def bounds(self) -> tuple[datetime.datetime, datetime.datetime]:
        """[start of the first day, start of the day after the last) in local time, so the
        index on ``issued_at`` serves the filter (no ``__date`` cast)."""
        tz = timezone.get_current_timezone()
        start = datetime.datetime.combine(self.start, datetime.time.min, tzinfo=tz)
        end = datetime.datetime.combine(self.end + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz)
        return start, end


class BadParameter(ValueError):
    def __init__(self, name: str, message: str) -> None:
        self.name, self.message = name, message
        super().__init__(message)


# Statistics periods lie within these years (the People's Republic's first year to far enough
# ahead): anything else is a typing error, and year 0 or 9999 could not even be turned into a
# range of days.
FIRST_YEAR, LAST_YEAR = 1949, 2200


def _year_error(name: str) -> BadParameter:
    return BadParameter(name, _("Enter a year from %(first)d to %(last)d.") % {"first": FIRST_YEAR, "last": LAST_YEAR})


def _parse_date(value: str, name: str) -> datetime.date:
    try:
        day = datetime.date.fromisoformat(value.strip())
    except ValueError:
        raise BadParameter(name, _("Enter a date as YYYY-MM-DD.")) from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise BadParameter(
            name,
            _("Enter a date from %(first)s to %(last)s.")
            % {"first": f"{FIRST_YEAR}-01-01", "last": f"{LAST_YEAR}-12-31"},
        )
    return day


def _year(text: str, name: str) -> int:
    year = int(text)
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise _year_error(name)
    return year


def parse_period(params: Mapping, *, today: datetime.date | None = None) -> Period:
    """The period from ``period`` (``2025``, ``2025-06``, ``2025-Q2``) or ``from`` / ``to``
    (either may be left out); this calendar year by default. Anything else, including a year
    outside ``FIRST_YEAR``–``LAST_YEAR``, raises :class:`BadParameter` (never another error)."""
    try:
        period = _parse_period(params, today=today or timezone.localdate())
        period.bounds()  # can be turned into datetimes
    except BadParameter:
        raise
    except (ValueError, OverflowError):  # pragma: no cover - the year range above keeps them out
        raise BadParameter("period", _("Enter a year (2025), a month (2025-06) or a quarter (2025-Q2).")) from None
    return period


def _parse_period(params: Mapping, *, today: datetime.date) -> Period:
    text = (params.get("period") or "").strip()
    if text:
        if m := re.fullmatch(r"(\d{4})", text):
            year = _year(m[1], "period")
            return Period(datetime.date(year, 1, 1), datetime.date(year, 12, 31))
        if m := re.fullmatch(r"(\d{4})-(\d{2})", text):
            year, month = _year(m[1], "period"), int(m[2])
            if 1 <= month <= 12:
                return Period(
                    datetime.date(year, month, 1), datetime.date(year, month, calendar.monthrange(year, month)[1])
                )
        if m := re.fullmatch(r"(\d{4})-?[Qq]([1-4])", text):
            year, quarter = _year(m[1], "period"), int(m[2])
            last = quarter * 3
            return Period(
                datetime.date(year, last - 2, 1), datetime.date(year, last, calendar.monthrange(year, last)[1])
            )
        raise BadParameter("period", _("Enter a year (2025), a month (2025-06) or a quarter (2025-Q2)."))
    start_text, end_text = (params.get("from") or "").strip(), (params.get("to") or "").strip()
    start = _parse_date(start_text, "from") if start_text else datetime.date(today.year, 1, 1)
    end = _parse_date(end_text, "to") if end_text else datetime.date(start.year, 12, 31)
    if end < start:
        raise BadParameter("to", _("The end of the period cannot be before its start."))
    return Period(start, end)


def depth_of(division: AdminDivision) -> int:
    return max(1, len(division.path) // SEGMENT)


def group_depth(jurisdiction: AdminDivision, level: str | None) -> int:
    """The depth rows are grouped at: the level asked for, or the next one down from the
    jurisdiction (a county regulator's own county). Never above the jurisdiction."""
    own = depth_of(jurisdiction)
    if level:
        if level not in LEVELS:
            raise BadParameter("level", _("Choose one of the listed values."))
        wanted = LEVELS[level]
        if wanted < own:
            raise BadParameter("level", _("Choose a level at or below your jurisdiction."))
        return wanted
    return min(own + 1, LEVELS[AdminDivision.Level.COUNTY])


# --------------------------------------------------------------------------- regions


@dataclass
class Region:
    code: str
    name: str
    path: str


def _regions(jurisdiction: AdminDivision, depth: int, paths_with_data) -> list[Region]:
    """Every current division at ``depth`` within the jurisdiction (so a region without data
    shows zeros), plus any other prefix that has data (e.g. a historic code); one query."""
    codes_with_data = {p.rstrip("/").rsplit("/", 1)[-1] for p in paths_with_data if p}
    rows = AdminDivision.objects.filter(
        Q(path__startswith=jurisdiction.path, is_current=True) | Q(code__in=codes_with_data)
    ).values_list("code", "name", "path")
    out = {}
    for code, name, path in rows:
        if len(path) == depth * SEGMENT and path.startswith(jurisdiction.path):
            out[path] = Region(code, name, path)
    for path in paths_with_data:
        if path and path not in out:
            code = path.rstrip("/").rsplit("/", 1)[-1]
            out[path] = Region(code, code, path)
    return sorted(out.values(), key=lambda r: r.code)


# --------------------------------------------------------------------------- waiver statistics


@dataclass
class WaiverRow:
    code: str
    name: str
    documents: int = 0
    waived_documents: int = 0
    free_documents: int = 0
    fee_total: Decimal = ZERO
    waived_total: Decimal = ZERO

    def add(self, other: WaiverRow) -> None:
        self.documents += other.documents
        self.waived_documents += other.waived_documents
        self.free_documents += other.free_documents
        self.fee_total += other.fee_total
        self.waived_total += other.waived_total

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "documents": self.documents,
            "waived_documents": self.waived_documents,
            "free_documents": self.free_documents,
            "fee_total": f"{self.fee_total:.2f}",
            "waived_total": f"{self.waived_total:.2f}",
        }


@dataclass
class WaiverStats:
    jurisdiction: AdminDivision
    period: Period
    level: str
    rows: list[WaiverRow]
    total: WaiverRow

    def as_dict(self) -> dict:
        return {
            "jurisdiction": {"code": self.jurisdiction.code, "name": self.jurisdiction.name},
            "period": {"from": self.period.start.isoformat(), "to": self.period.end.isoformat()},
            "level": self.level,
            "rows": [row.as_dict() for row in self.rows],
            "total": self.total.as_dict(),
        }


def _level_name(depth: int) -> str:
    return {v: k for k, v in LEVELS.items()}[depth]


def verified_in(period: Period) -> Q:
    """IssuedDocument rows whose verification falls in the period: the day of the verification
    (copied from the result at issue), not of the document, so a reissue (a new document for
    the same result) stays in the verification's period. Served by the (division,
    verified_on) index."""
    return Q(verified_on__gte=period.start, verified_on__lte=period.end)


def waiver_stats(user, *, params: Mapping, today: datetime.date | None = None) -> WaiverStats | None:
    """Certificates and notices of the verifications done in the period (by the result's
    ``verified_on``) in the regulator's jurisdiction, by region: how many, how many with a
    waiver, how many entirely free (waived = fee > 0), fees and waived amounts. Superseded
    documents are left out (their reissue, for the same verification, counts), so a reissue
    moves nothing between periods. Two queries, whatever the number of rows. None for anyone
    but a regulator."""
    actor = get_actor(user)
    jurisdiction = actor.jurisdiction
    if jurisdiction is None:
        return None
    period = parse_period(params, today=today)
    depth = group_depth(jurisdiction, params.get("level") or None)
    aggregated = (
        IssuedDocument.objects.filter(
            verified_in(period),
            division_id__in=actor.jurisdiction_codes(),
            kind__in=(IssuedDocument.Kind.CERTIFICATE, IssuedDocument.Kind.NOTICE),
        )
        .exclude(state=IssuedDocument.State.SUPERSEDED)
        .annotate(region=Substr("division__path", 1, depth * SEGMENT))
        .values("region")
        .annotate(
            documents=Count("pk"),
            waived_documents=Count("pk", filter=Q(waived__gt=0)),
            free_documents=Count("pk", filter=Q(fee__gt=0, waived=F("fee"))),
            fee_total=Coalesce(Sum("fee"), Value(ZERO), output_field=_MONEY),
            waived_total=Coalesce(Sum("waived"), Value(ZERO), output_field=_MONEY),
        )
        .order_by("region")
    )
    by_region = {row["region"]: row for row in aggregated}
    regions = _regions(jurisdiction, depth, by_region.keys())
    rows = []
    total = WaiverRow(code=jurisdiction.code, name=_("Total"))
    for region in regions:
        data = by_region.get(region.path, {})
        row = WaiverRow(
            code=region.code,
            name=region.name,
            documents=data.get("documents", 0),
            waived_documents=data.get("waived_documents", 0),
            free_documents=data.get("free_documents", 0),
            fee_total=Decimal(data.get("fee_total") or 0).quantize(ZERO),
            waived_total=Decimal(data.get("waived_total") or 0).quantize(ZERO),
        )
        total.add(row)
        rows.append(row)
    return WaiverStats(jurisdiction=jurisdiction, period=period, level=_level_name(depth), rows=rows, total=total)


# --------------------------------------------------------------------------- coverage statistics


@dataclass
class CoverageRow:
    key: str
    name: str
    filed: int = 0
    due: int = 0
    verified: int = 0
    overdue: int = 0
    failed: int = 0

    @property
    def coverage(self) -> Decimal:
        """受检率 = verified ÷ due, in percent with one decimal; 0 when nothing is due."""
        if not self.due:
            return Decimal("0.0")
        return (Decimal(self.verified) * 100 / Decimal(self.due)).quantize(Decimal("0.1"))

    def add(self, other: CoverageRow) -> None:
        for name in ("filed", "due", "verified", "overdue", "failed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict:
        return {
            "code": self.key,
            "name": self.name,
            "filed": self.filed,
            "due": self.due,
            "verified": self.verified,
            "coverage": f"{self.coverage:.1f}",
            "overdue": self.overdue,
            "failed": self.failed,
        }


@dataclass
class CoverageStats:
    jurisdiction: AdminDivision
    period: Period
    today: datetime.date
    level: str
    by_region: list[CoverageRow]
    by_use_field: list[CoverageRow]
    total: CoverageRow
    # (region code, use field) → row, for the cross table of the export
    cells: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "jurisdiction": {"code": self.jurisdiction.code, "name": self.jurisdiction.name},
            "period": {"from": self.period.start.isoformat(), "to": self.period.end.isoformat()},
            "today": self.today.isoformat(),
            "level": self.level,
            "by_region": [row.as_dict() for row in self.by_region],
            "by_use_field": [row.as_dict() for row in self.by_use_field],
            "total": self.total.as_dict(),
        }


def coverage_stats(user, *, params: Mapping, today: datetime.date | None = None) -> CoverageStats | None:
    """Filing and verification figures of the regulator's jurisdiction, by region and by use
    field (both the instrument's), for a period. One population, the mandatory instruments due
    in the period, and every other figure but "filed" and "overdue" counted within it:

    * filed — mandatory instruments filed (强检备案), not scrapped;
    * due (应检) — mandatory instruments not scrapped (``REMINDED_STATUSES``, as the due lists)
      whose next verification falls by the end of the period or is unknown, together with every
      mandatory instrument verified in the period (whatever its status now: one verified and
      then stopped or scrapped was due when it was verified);
    * verified (实检) — instruments of that population with a valid certificate of a
      verification in the period (by ``verified_on``; a reissue counts once, a revoked
      certificate not at all), so verified ≤ due in every cell;
    * coverage (受检率) — verified ÷ due, at most 100 %;
    * overdue — mandatory instruments not scrapped whose next verification is before today;
    * failed — instruments of the population with a valid notice of failure of a verification
      in the period.

    Three queries: one aggregate over instruments (filed, due by date, overdue), one over the
    period's documents (verified, failed, and the instruments verified in the period that are
    not due by date, which complete "due"), one for region names.
    """
    actor = get_actor(user)
    jurisdiction = actor.jurisdiction
    if jurisdiction is None:
        return None
    today = today or timezone.localdate()
    period = parse_period(params, today=today)
    depth = group_depth(jurisdiction, params.get("level") or None)
    codes = actor.jurisdiction_codes()
    width = depth * SEGMENT
    live = Q(status__in=REMINDED_STATUSES)
    due_by_date = live & (Q(next_due_on__lte=period.end) | Q(next_due_on__isnull=True))
    instrument_rows = (
        Instrument.objects.filter(division_id__in=codes, is_mandatory=True)
        .annotate(region=Substr("division__path", 1, width))
        .values("region", "use_field")
        .annotate(
            filed=Count("pk", filter=Q(filed=True) & live),
            due=Count("pk", filter=due_by_date),
            overdue=Count("pk", filter=live & Q(next_due_on__lt=today)),
        )
        .order_by()
    )
    # The same condition seen from a document: its instrument is due by date.
    instrument_due_by_date = Q(instrument__status__in=REMINDED_STATUSES) & (
        Q(instrument__next_due_on__lte=period.end) | Q(instrument__next_due_on__isnull=True)
    )
    document_rows = (
        IssuedDocument.objects.filter(
            verified_in(period),
            instrument__division_id__in=codes,
            instrument__is_mandatory=True,
            state=IssuedDocument.State.VALID,
        )
        .annotate(region=Substr("instrument__division__path", 1, width), use_field=F("instrument__use_field"))
        .values("region", "use_field")
        .annotate(
            verified=Count("instrument", distinct=True, filter=Q(kind=IssuedDocument.Kind.CERTIFICATE)),
            failed=Count("instrument", distinct=True, filter=Q(kind=IssuedDocument.Kind.NOTICE)),
            due_otherwise=Count("instrument", distinct=True, filter=~instrument_due_by_date),
        )
        .order_by()
    )
    cells: dict[tuple[str, str], CoverageRow] = {}

    def cell(region: str, use: str) -> CoverageRow:
        return cells.setdefault((region, use), CoverageRow(key=use, name=use))

    for row in instrument_rows:
        c = cell(row["region"], row["use_field"])
        c.filed, c.due, c.overdue = row["filed"], row["due"], row["overdue"]
    for row in document_rows:
        c = cell(row["region"], row["use_field"])
        # Due by date (counted above) and verified in the period without being due by date
        # are disjoint, and together they are the population verified and failed are counted in.
        c.verified, c.failed = row["verified"], row["failed"]
        c.due += row["due_otherwise"]

    regions = _regions(jurisdiction, depth, {region for region, _use in cells})
    by_region = {r.path: CoverageRow(key=r.code, name=r.name) for r in regions}
    labels = dict(UseField.choices)
    by_use = {use: CoverageRow(key=use, name=str(labels[use])) for use in USE_FIELDS}
    total = CoverageRow(key=jurisdiction.code, name=_("Total"))
    for (region, use), c in cells.items():
        by_region[region].add(c)
        by_use.setdefault(use, CoverageRow(key=use, name=str(labels.get(use, use)))).add(c)
        total.add(c)
    use_rows = [row for use, row in by_use.items() if use != UseField.OTHER or row.filed or row.due or row.verified]
    region_code = {r.path: r.code for r in regions}
    return CoverageStats(
        jurisdiction=jurisdiction,
        period=period,
        today=today,
        level=_level_name(depth),
        by_region=list(by_region.values()),
        by_use_field=use_rows,
        total=total,
        cells={(region_code[region], use): c for (region, use), c in cells.items()},
    )
