"""GB/T 2828.1-2012 (ISO 2859-1:1999) single sampling plans by attributes: pure functions, no
database.

* Table 1, sample size code letters, for the seven inspection levels (S-1 … S-4, I, II, III);
* Tables 2-A (normal), 2-B (tightened) and 2-C (reduced) single sampling plans for AQL 0.010 … 10
  (the columns above 10 are left out: they were not cross-checked);
* ``plan(lot_size, level, aql, severity)`` — the plan to use, with the arrows resolved: an arrow
  moves to the first plan above (↑) or below (↓) in the same column, and the sample size is the one
  of the row actually used, never the original row's; when that sample size reaches the lot size,
  every unit is inspected (100 %);
* ``next_severity(rules, history)`` — the switching rules (normal, tightened, reduced,
  discontinued; the switching score) applied to a history of lot outcomes. The rules themselves are
  data (``models.aql.SwitchingRules``) because they are not verified against the standard's text.

The tables are a standard's tables, written here as data: each column of a table follows the
diagonal pattern of ISO 2859-1 / MIL-STD-105E, one row lower for every column to the left (see
``_column``). Every table and every doubtful cell carries how far it was checked (``Check``) and
where it comes from; the page and the API show it wherever a plan is shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext_lazy as _

# How far a table or a cell was checked: the terms of the project's domain facts.
VERIFIED = "verified"
CORROBORATED = "corroborated"
UNVERIFIED = "unverified"
DOUBTFUL = "doubtful"
_WEAKNESS = (VERIFIED, CORROBORATED, UNVERIFIED, DOUBTFUL)  # strongest first

NORMAL = "normal"
TIGHTENED = "tightened"
REDUCED = "reduced"
DISCONTINUED = "discontinued"
SEVERITIES = (NORMAL, TIGHTENED, REDUCED)

LEVELS = ("S-1", "S-2", "S-3", "S-4", "I", "II", "III")
DEFAULT_LEVEL = "II"

# Table 1: the lot-size ranges (upper bound inclusive; None = and above) and, per range, the code
# letter of each inspection level in the order of LEVELS.
LOT_RANGES: tuple[tuple[int, int | None], ...] = (
    (2, 8),
    (9, 15),
    (16, 25),
    (26, 50),
    (51, 90),
    (91, 150),
    (151, 280),
    (281, 500),
    (501, 1200),
    (1201, 3200),
    (3201, 10000),
    (10001, 35000),
    (35001, 150000),
    (150001, 500000),
    (500001, None),
)
_TABLE_1_ROWS = (
    "AAAAAAB",
    "AAAAABC",
    "AABBBCD",
    "ABBCCDE",
    "BBCCCEF",
    "BBCDDFG",
    "BCDEEGH",
    "BCDEFHJ",
    "CCEFGJK",
    "CDEGHKL",
    "CDFGJLM",
    "CDFHKMN",
    "DEGJLNP",
    "DEGJMPQ",
    "DEHKNQR",
)
TABLE_1: dict[tuple[int, int | None], dict[str, str]] = {
    lots: dict(zip(LEVELS, letters, strict=True)) for lots, letters in zip(LOT_RANGES, _TABLE_1_ROWS, strict=True)
}

LETTERS = ("A", "B", "C", "D", "E", "F", "G", "H", "J", "K", "L", "M", "N", "P", "Q", "R")
NORMAL_SIZES = dict(zip(LETTERS, (2, 3, 5, 8, 13, 20, 32, 50, 80, 125, 200, 315, 500, 800, 1250, 2000), strict=True))
# Tightened inspection has one more row, S (3150), reached only by following a ↓ from row R.
TIGHTENED_SIZES = {**NORMAL_SIZES, "S": 3150}
REDUCED_SIZES = dict(zip(LETTERS, (2, 2, 2, 3, 5, 8, 13, 20, 32, 50, 80, 125, 200, 315, 500, 800), strict=True))

AQLS = tuple(
    Decimal(a)
    for a in (
        "0.010",
        "0.015",
        "0.025",
        "0.040",
        "0.065",
        "0.10",
        "0.15",
        "0.25",
        "0.40",
        "0.65",
        "1.0",
        "1.5",
        "2.5",
        "4.0",
        "6.5",
        "10",
    )
)

UP = "up"
DOWN = "down"
Cell = tuple[int, int] | str  # (Ac, Re) or UP / DOWN


@dataclass(frozen=True)
class Doubt:
    """A cell the pattern cannot settle: what the pattern gives, what is used instead and why."""

    pattern: str
    used: Cell
    note: str


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    severity: str
    sizes: dict[str, int]
    check: str
    source: str
    # (Ac, Re) sequence below the zero row's 0/1, after the cells between (``between``)
    sequence: tuple[tuple[int, int], ...]
    between: tuple[str, str]
    zero_row_shift: int
    doubts: dict[tuple[str, Decimal], Doubt] = field(default_factory=dict)

    def cell(self, letter: str, aql: Decimal) -> Cell:
        """The cell as printed (a doubtful cell as used), arrows unresolved."""
        doubt = self.doubts.get((letter, aql))
        return doubt.used if doubt else _column(self, aql)[letter]


def _column(table: Table, aql: Decimal) -> dict[str, Cell]:
    """One column by the diagonal pattern. Each AQL has a zero row holding 0/1 (AQL 6.5: row A
    of Table 2-A, one row lower for each column to the left, AQL 0.010: row Q); above it ↓;
    below it the two cells ``between``, then ``sequence``, then ↑ to the bottom."""
    zero = LETTERS.index("A") + (AQLS.index(Decimal("6.5")) - AQLS.index(aql)) + table.zero_row_shift
    cells: dict[str, Cell] = {}
    for index, letter in enumerate(table.sizes):
        offset = index - zero
        if offset < 0:
            cells[letter] = DOWN
        elif offset == 0:
            cells[letter] = (0, 1)
        elif offset <= 2:
            cells[letter] = table.between[offset - 1]
        elif offset - 3 < len(table.sequence):
            cells[letter] = table.sequence[offset - 3]
        else:
            cells[letter] = UP
    return cells


_A10 = _(
    "The diagonal pattern gives ↑ in the top row, which cannot be followed. An independent implementation "
    "has ↓ (used). Check against the printed standard."
)
_R0015 = _(
    "The diagonal pattern gives ↓ in the bottom row, which cannot be followed. An independent implementation "
    "has ↑ (used). Check against the printed standard."
)

NORMAL_TABLE = Table(
    key="2-A",
    title=_("Table 2-A: single sampling plans for normal inspection"),
    severity=NORMAL,
    sizes=NORMAL_SIZES,
    check=CORROBORATED,
    source=_(
        "GB/T 2828.1-2012 表 2-A (= ISO 2859-1:1999 Table 2-A): generated from the diagonal pattern, checked cell "
        "by cell against MIL-STD-105E Table II-A by an independent implementation and against the project's "
        "domain facts (§4.2, §14); two cells doubtful."
    ),
    sequence=((1, 2), (2, 3), (3, 4), (5, 6), (7, 8), (10, 11), (14, 15), (21, 22)),
    between=(UP, DOWN),
    zero_row_shift=0,
    doubts={
        ("A", Decimal("10")): Doubt(UP, DOWN, _A10),
        ("R", Decimal("0.015")): Doubt(DOWN, UP, _R0015),
    },
)

TIGHTENED_TABLE = Table(
    key="2-B",
    title=_("Table 2-B: single sampling plans for tightened inspection"),
    severity=TIGHTENED,
    sizes=TIGHTENED_SIZES,
    check=UNVERIFIED,
    source=_(
        "GB/T 2828.1-2012 表 2-B, not transcribed from the printed standard: generated from the diagonal "
        "pattern of MIL-STD-105E Table II-B (zero row one row below Table 2-A's; ↓ ↓ between 0/1 and 1/2; "
        "Ac/Re 1/2, 2/3, 3/4, 5/6, 8/9, 12/13, 18/19) and cross-checked against an independent implementation, "
        "which agrees except for cell E/2.5 (it has 1/2 where the pattern has ↓) and the doubtful cells."
    ),
    sequence=((1, 2), (2, 3), (3, 4), (5, 6), (8, 9), (12, 13), (18, 19)),
    between=(DOWN, DOWN),
    zero_row_shift=1,
    doubts={
        ("A", Decimal("10")): Doubt(
            "0/1",
            (0, 1),
            _("The pattern gives 0/1 (used); an independent implementation has ↓. Check against the printed standard."),
        ),
        ("R", Decimal("0.015")): Doubt(
            DOWN,
            UP,
            _(
                "The pattern gives ↓ and row S has no plan below it in this column; an independent implementation "
                "has ↑ (used). Check against the printed standard."
            ),
        ),
        ("S", Decimal("0.025")): Doubt(
            "1/2",
            (1, 2),
            _(
                "Row S (n = 3150) is reached only through the ↓ of row R; its 1/2 follows the pattern and was not "
                "checked against the printed standard."
            ),
        ),
    },
)

REDUCED_TABLE = Table(
    key="2-C",
    title=_("Table 2-C: single sampling plans for reduced inspection"),
    severity=REDUCED,
    sizes=REDUCED_SIZES,
    check=UNVERIFIED,
    source=_(
        "GB/T 2828.1-2012 表 2-C, not transcribed from the printed standard: the sample sizes are those of the "
        "project's domain facts (§14); the Ac/Re follow the diagonal pattern of MIL-STD-105E Table II-C (0/1, ↑, "
        "↓, then 0/2, 1/3, 1/4, 2/5, 3/6, 5/8, 7/10, 10/13), cross-checked against an independent implementation "
        "(which has 10/14 at L/6.5 where the pattern has 10/13). ISO 2859-1:1999 may have set Re = Ac + 1 in "
        "this table: check against the printed standard before relying on a rejection number."
    ),
    sequence=((0, 2), (1, 3), (1, 4), (2, 5), (3, 6), (5, 8), (7, 10), (10, 13)),
    between=(UP, DOWN),
    zero_row_shift=0,
    doubts={
        ("A", Decimal("10")): Doubt(UP, DOWN, _A10),
        ("R", Decimal("0.015")): Doubt(DOWN, UP, _R0015),
    },
)

TABLES = {NORMAL: NORMAL_TABLE, TIGHTENED: TIGHTENED_TABLE, REDUCED: REDUCED_TABLE}
TABLE_1_CHECK = CORROBORATED
TABLE_1_SOURCE = _(
    "GB/T 2828.1-2012 表 1 (= ISO 2859-1:1999 Table 1): two independent code repositories agree with each other "
    "and with the project's domain facts (§4.1)."
)


class BadInput(ValueError):
    """An input outside the tables; ``name`` says which."""

    def __init__(self, name: str, value: object):
        super().__init__(f"{name}: {value!r}")
        self.name = name
        self.value = value


@dataclass(frozen=True)
class Plan:
    lot_size: int
    level: str
    aql: Decimal
    severity: str
    code_letter: str  # from Table 1
    used_letter: str  # the row whose plan is used, after following the arrows
    n: int  # the sample size of the plan used
    ac: int
    re: int
    full_inspection: bool  # n ≥ lot size: every unit is inspected
    table: Table
    notes: tuple[str, ...]  # codes: "arrow_down", "arrow_up", "full_inspection"
    doubts: tuple[tuple[str, Doubt], ...]  # doubtful cells met on the way, by letter

    @property
    def inspect(self) -> int:
        """How many units are inspected: the sample, or the whole lot."""
        return min(self.n, self.lot_size)

    @property
    def check(self) -> str:
        """The weakest state of what the plan rests on."""
        if self.doubts:
            return DOUBTFUL
        return max(self.table.check, TABLE_1_CHECK, key=_WEAKNESS.index)


def parse_aql(value: object) -> Decimal:
    """An AQL of the tables from "2.5", "2.50", 2.5 …; ``BadInput`` otherwise."""
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise BadInput("aql", value) from None
    if not number.is_finite():  # NaN (a signalling one cannot even be compared), infinities
        raise BadInput("aql", value)
    for aql in AQLS:
        if number == aql:
            return aql
    raise BadInput("aql", value)


def code_letter(lot_size: int, level: str) -> str:
    """Table 1: the code letter for a lot of ``lot_size`` units at inspection ``level``."""
    if level not in LEVELS:
        raise BadInput("level", level)
    if isinstance(lot_size, bool) or not isinstance(lot_size, int) or lot_size < LOT_RANGES[0][0]:
        raise BadInput("lot_size", lot_size)
    for (low, high), letters in TABLE_1.items():
        if low <= lot_size and (high is None or lot_size <= high):
            return letters[level]
    raise AssertionError("the ranges cover every lot size")  # pragma: no cover


def resolve(table: Table, letter: str, aql: Decimal) -> tuple[str, tuple[int, int], list[str], list[tuple[str, Doubt]]]:
    """Follow the arrows from ``letter`` in the column of ``aql`` to the first plan in their
    direction: (used letter, (Ac, Re), notes, doubtful cells met)."""
    letters = list(table.sizes)
    index = letters.index(letter)
    notes: list[str] = []
    doubts: list[tuple[str, Doubt]] = []
    seen = set()
    while True:
        current = letters[index]
        if (current, aql) in table.doubts:
            doubts.append((current, table.doubts[(current, aql)]))
        cell = table.cell(current, aql)
        if isinstance(cell, tuple):
            return current, cell, notes, doubts
        if index in seen:  # pragma: no cover - the tables never point in a circle
            raise AssertionError(f"arrows in a circle at {current}/{aql}")
        seen.add(index)
        note = "arrow_down" if cell == DOWN else "arrow_up"
        if note not in notes:
            notes.append(note)
        index += 1 if cell == DOWN else -1
        if not 0 <= index < len(letters):  # pragma: no cover - the doubtful cells close the edges
            raise AssertionError(f"arrow off the table at {current}/{aql}")


def plan(lot_size: int, level: str, aql: object, severity: str = NORMAL) -> Plan:
    """The single sampling plan for a lot: code letter from Table 1, then the severity's table
    with the arrows followed; the sample size is that of the row used; 100 % inspection when it
    reaches the lot size."""
    if severity not in TABLES:
        raise BadInput("severity", severity)
    letter = code_letter(lot_size, level)
    the_aql = parse_aql(aql)
    table = TABLES[severity]
    used, (ac, re), notes, doubts = resolve(table, letter, the_aql)
    n = table.sizes[used]
    full = n >= lot_size
    if full:
        notes.append("full_inspection")
    return Plan(
        lot_size=lot_size,
        level=level,
        aql=the_aql,
        severity=severity,
        code_letter=letter,
        used_letter=used,
        n=n,
        ac=ac,
        re=re,
        full_inspection=full,
        table=table,
        notes=tuple(notes),
        doubts=tuple(doubts),
    )


# --------------------------------------------------------------------------- switching rules


@dataclass(frozen=True)
class Rules:
    """The switching rules' numbers (``models.aql.SwitchingRules.as_rules()``)."""

    tighten_rejections: int = 2  # normal → tightened: this many lots not accepted …
    tighten_window: int = 5  # … within this many consecutive lots
    restore_accepted: int = 5  # tightened → normal: this many consecutive lots accepted
    reduce_score: int = 30  # normal → reduced: switching score at least this
    score_step_ac2: int = 3  # score added when Ac ≥ 2 and the lot passes one AQL step tighter
    score_step_ac01: int = 2  # score added when Ac is 0 or 1 and the lot is accepted
    discontinue_rejections: int = 5  # tightened → discontinued: lots not accepted in the tightened period


@dataclass(frozen=True)
class Lot:
    """The outcome of one lot's original inspection. ``ac`` is the plan's acceptance number;
    ``accepted_tighter`` whether the lot would have been accepted with the AQL one step tighter
    (needed for the score when ``ac`` ≥ 2; see ``lot_outcome``); ``irregular`` that production was
    irregular or delayed (or the authority otherwise ended reduced inspection)."""

    accepted: bool
    ac: int = 0
    accepted_tighter: bool | None = None
    irregular: bool = False


@dataclass(frozen=True)
class Switching:
    severity: str  # for the next lot
    score: int  # the switching score (normal inspection only; 0 otherwise)
    reason: str  # code of the last switch: "start", "to_tightened", "to_normal", "to_reduced", "discontinued"


def lot_outcome(the_plan: Plan, nonconforming: int, *, irregular: bool = False) -> Lot:
    """The outcome of a lot inspected with ``the_plan`` that found ``nonconforming`` units,
    with the answer for one AQL step tighter read from the normal table (same code letter, the
    tighter column's plan after its arrows)."""
    if isinstance(nonconforming, bool) or not isinstance(nonconforming, int) or nonconforming < 0:
        raise BadInput("nonconforming", nonconforming)
    index = AQLS.index(the_plan.aql)
    tighter = None
    if the_plan.ac >= 2 and index > 0:
        _letter, (tighter_ac, _re), _notes, _doubts = resolve(NORMAL_TABLE, the_plan.code_letter, AQLS[index - 1])
        tighter = nonconforming <= tighter_ac
    return Lot(
        accepted=nonconforming <= the_plan.ac,
        ac=the_plan.ac,
        accepted_tighter=tighter,
        irregular=irregular,
    )


def next_severity(
    rules: Rules,
    history: Iterable[Lot],
    *,
    start: str = NORMAL,
    steady: bool = True,
    approved: bool = True,
) -> Switching:
    """The severity for the next lot, given the outcomes of the lots so far (oldest first),
    inspection having started at ``start``. Normal → reduced also needs steady production and
    the responsible authority's approval (``steady``, ``approved``): the score alone never
    reduces inspection. Once discontinued, inspection stays discontinued: it resumes, after the
    supplier's corrective action, with a new history starting at tightened."""
    if start not in SEVERITIES:
        raise BadInput("start", start)
    severity, score, reason = start, 0, "start"
    window: list[bool] = []  # normal inspection: outcomes since it began
    accepted_run = 0  # tightened: consecutive lots accepted
    tightened_rejections = 0  # tightened: lots not accepted in this tightened period
    for lot in history:
        if severity == DISCONTINUED:
            break
        if severity == NORMAL:
            window.append(lot.accepted)
            if lot.ac >= 2:
                score = score + rules.score_step_ac2 if lot.accepted and lot.accepted_tighter else 0
            else:
                score = score + rules.score_step_ac01 if lot.accepted else 0
            if window[-rules.tighten_window :].count(False) >= rules.tighten_rejections:
                severity, reason, score, accepted_run, tightened_rejections = TIGHTENED, "to_tightened", 0, 0, 0
            elif score >= rules.reduce_score and steady and approved:
                severity, reason = REDUCED, "to_reduced"
        elif severity == TIGHTENED:
            if lot.accepted:
                accepted_run += 1
            else:
                accepted_run = 0
                tightened_rejections += 1
            if tightened_rejections >= rules.discontinue_rejections:
                severity, reason = DISCONTINUED, "discontinued"
            elif accepted_run >= rules.restore_accepted:
                severity, reason, score, window = NORMAL, "to_normal", 0, []
        elif severity == REDUCED:
            if not lot.accepted or lot.irregular:
                severity, reason, score, window = NORMAL, "to_normal", 0, []
    return Switching(severity=severity, score=score if severity == NORMAL else 0, reason=reason)


def all_cells(table: Table) -> Sequence[tuple[str, Decimal, Cell]]:
    """Every cell of a table, row by row (for display and tests)."""
    return [(letter, aql, table.cell(letter, aql)) for letter in table.sizes for aql in AQLS]
