"""Loading GB/T 2260 division codes into :class:`~nqihub.divisions.models.AdminDivision`.

Rows are plain dicts with the keys of :data:`CSV_COLUMNS`::

    {"code": "150203", "name": "昆都仑区", "level": "county", "parent_code": "150200",
     "is_current": True, "valid_until": None, "source": "..."}

Three sources produce them:

* :func:`read_csv` – the committed data files in ``nqihub/divisions/data/`` (what the data
  migration and production use; they must not depend on a third-party package's data file);
* :func:`rows_from_stdnum` – python-stdnum's ``stdnum/cn/loc.dat``, which carries current and
  historic codes with the years they were in force (used for whole-country loads and to
  regenerate the Inner Mongolia CSV reproducibly, see :func:`write_inner_mongolia_csv`);
* anything else that produces the same dicts (e.g. a future 民政部 annual list).

The Django model is imported lazily so that the pure parts (parsing, CSV generation) run
without a configured project::

    python -c "from nqihub.divisions.loaders import write_inner_mongolia_csv as w; w()"
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from importlib import metadata, resources
from pathlib import Path
from typing import TypedDict

DATA_DIR = Path(__file__).resolve().parent / "data"
INNER_MONGOLIA_CSV = DATA_DIR / "inner_mongolia.csv"

CSV_COLUMNS = (
    "code",
    "name",
    "level",
    "parent_code",
    "is_current",
    "valid_until",
    "source",
)
LEVEL_ORDER = {"province": 0, "prefecture": 1, "county": 2}

#: Source text of the current Inner Mongolia rows (checked against the Ministry of Civil Affairs' 2022 table).
CURRENT_SOURCE = "GB/T 2260；民政部《2022年行政区划统计表》"

#: Names of aggregate ("summary") codes, which are no division of their own: 市辖区 (all
#: districts of a city), 县 (all counties of a municipality), 省直辖县级行政单位 etc. A code is
#: skipped only if *every* name it ever had is one of these; "市区" is deliberately not in the
#: list because loc.dat also uses it for real units (e.g. 410902 濮阳市市区, later 华龙区).
SUMMARY_NAMES = frozenset({"市辖区", "县", "省直辖县级行政单位", "自治区直辖县级行政单位", "省直辖行政单位"})

_LOC_LINE = re.compile(r'^(?P<indent>\s*)(?P<code>\d+) (?P<kind>province|county)="(?P<names>[^"]*)"\s*$')
_LOC_ENTRY = re.compile(r"^(?:\[(?P<start>\d{4})?-(?P<end>\d{4})?\])?(?P<name>.+)$")


class DivisionRow(TypedDict):
    code: str
    name: str
    level: str
    parent_code: str | None
    is_current: bool
    valid_until: int | None
    source: str


def level_of(code: str) -> str:
    """Level implied by a six-digit code: xx0000 province, xxyy00 prefecture, else county."""
    if code[2:] == "0000":
        return "province"
    if code[4:] == "00":
        return "prefecture"
    return "county"


def sort_key(row: DivisionRow) -> tuple[int, str]:
    """Parent-first order: provinces, then prefectures, then counties, each by code."""
    return LEVEL_ORDER[row["level"]], row["code"]


def compute_path(parent_path: str | None, code: str) -> str:
    """Same rule as ``AdminDivision.compute_path``: parent's path + code + "/"."""
    return f"{parent_path or ''}{code}/"


# --- CSV ---------------------------------------------------------------------------------


def _parse_bool(value: str) -> bool:
    text = value.strip().lower()
    if text in {"1", "true", "yes", "t", "y"}:
        return True
    if text in {"0", "false", "no", "f", "n"}:
        return False
    raise ValueError(f"not a boolean: {value!r}")


def read_csv(path: str | Path) -> list[DivisionRow]:
    """Read a division CSV (columns :data:`CSV_COLUMNS`, UTF-8, optional BOM)."""
    rows: list[DivisionRow] = []
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = set(CSV_COLUMNS) - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        for line_no, raw in enumerate(reader, start=2):
            code = raw["code"].strip()
            if not (len(code) == 6 and code.isdigit()):
                raise ValueError(f"{path}:{line_no}: bad code {code!r}")
            level = raw["level"].strip() or level_of(code)
            if level not in LEVEL_ORDER:
                raise ValueError(f"{path}:{line_no}: bad level {level!r}")
            valid_until = raw["valid_until"].strip()
            rows.append(
                DivisionRow(
                    code=code,
                    name=raw["name"].strip(),
                    level=level,
                    parent_code=raw["parent_code"].strip() or None,
                    is_current=_parse_bool(raw["is_current"]),
                    valid_until=int(valid_until) if valid_until else None,
                    source=raw["source"].strip(),
                )
            )
    return rows


def write_csv(rows: Iterable[DivisionRow], path: str | Path) -> None:
    """Write rows in parent-first order with ``\\n`` line ends (stable diffs)."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for row in sorted(rows, key=sort_key):
            writer.writerow(
                [
                    row["code"],
                    row["name"],
                    row["level"],
                    row["parent_code"] or "",
                    "true" if row["is_current"] else "false",
                    "" if row["valid_until"] is None else row["valid_until"],
                    row["source"],
                ]
            )


# --- python-stdnum loc.dat ---------------------------------------------------------------


def stdnum_version() -> str:
    return metadata.version("python-stdnum")


def stdnum_source(*, historic: bool) -> str:
    text = f"python-stdnum {stdnum_version()} loc.dat"
    return f"{text} (historic)" if historic else text


def _parse_names(names: str) -> list[tuple[int | None, int | None, str]]:
    """``"[1983-1999]郊区,[2000-]赛罕区"`` → ``[(1983, 1999, "郊区"), (2000, None, "赛罕区")]``."""
    entries = []
    for part in names.split(","):
        match = _LOC_ENTRY.match(part.strip())
        if not match:
            raise ValueError(f"cannot parse loc.dat entry {part!r}")
        start, end = match["start"], match["end"]
        entries.append(
            (
                int(start) if start else None,
                int(end) if end else None,
                match["name"].strip(),
            )
        )
    return entries


def rows_from_stdnum(province_prefix: str | None = None, *, path: str | Path | None = None) -> list[DivisionRow]:
    """Parse python-stdnum's ``cn/loc.dat`` into division rows.

    loc.dat lists each province as ``15 province="…"`` followed by indented lines
    ``  0105 county="[1983-1999]郊区,[2000-]赛罕区"``: the last four digits of the code and
    the names it had, each optionally prefixed by ``[from-to]`` years (an open end means still
    in force). One row per code: a code with an open-ended name is current and takes that
    name; otherwise it is historic, takes its latest name, and ``valid_until`` is the last
    year of that name.

    Summary codes (:data:`SUMMARY_NAMES`, e.g. 150101 市辖区) are skipped. Parents follow the
    code: a prefecture's parent is its province; a county's parent is the (current or
    historic) prefecture xxyy00 if that code exists, else the province – which is how
    省直辖县级市 such as 429004 仙桃市 end up directly under their province.

    ``province_prefix`` ("15") limits the result to one province; ``None`` gives the whole
    country (about 6.5k codes).
    """
    if path is None:
        data = (resources.files("stdnum") / "cn" / "loc.dat").read_text(encoding="utf-8")
    else:
        data = Path(path).read_text(encoding="utf-8")
    current_source, historic_source = (
        stdnum_source(historic=False),
        stdnum_source(historic=True),
    )

    parsed: dict[str, tuple[str, bool, int | None]] = {}
    province = ""
    for line in data.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LOC_LINE.match(line)
        if not match:
            raise ValueError(f"cannot parse loc.dat line {line!r}")
        if match["kind"] == "province":
            province = match["code"]
            # The "xx0000" line that follows, if any, overrides this one (it has years and
            # simplified characters, e.g. 香港特别行政区).
            code, names = f"{province}0000", match["names"]
        else:
            code, names = province + match["code"], match["names"]
        if province_prefix is not None and province != province_prefix:
            continue
        entries = _parse_names(names)
        if all(name in SUMMARY_NAMES for _start, _end, name in entries):
            continue
        open_ended = [name for _start, end, name in entries if end is None]
        if open_ended:
            parsed[code] = (open_ended[-1], True, None)
        else:
            _start, end, name = max(entries, key=lambda entry: entry[1] or 0)
            parsed[code] = (name, False, end)

    rows: list[DivisionRow] = []
    for code, (name, is_current, valid_until) in parsed.items():
        level = level_of(code)
        province_code = f"{code[:2]}0000"
        if level == "province":
            parent = None
        elif level == "prefecture":
            parent = province_code
        else:
            prefecture_code = f"{code[:4]}00"
            parent = prefecture_code if prefecture_code in parsed else province_code
        rows.append(
            DivisionRow(
                code=code,
                name=name,
                level=level,
                parent_code=parent,
                is_current=is_current,
                valid_until=valid_until,
                source=current_source if is_current else historic_source,
            )
        )
    rows.sort(key=sort_key)
    return rows


def build_inner_mongolia_rows() -> list[DivisionRow]:
    """The rows of ``data/inner_mongolia.csv``: loc.dat for province 15, with the current
    rows attributed to the official list they were checked against."""
    rows = rows_from_stdnum("15")
    for row in rows:
        if row["is_current"]:
            row["source"] = CURRENT_SOURCE
    return rows


def write_inner_mongolia_csv(path: str | Path = INNER_MONGOLIA_CSV) -> Path:
    """Regenerate the committed Inner Mongolia CSV from the installed python-stdnum."""
    write_csv(build_inner_mongolia_rows(), path)
    return Path(path)


# --- database ----------------------------------------------------------------------------

_FIELDS = ("name", "level", "parent", "path", "is_current", "valid_until", "source")


def load_division_rows(rows: Iterable[DivisionRow], *, source: str, batch_size: int = 1000) -> tuple[int, int]:
    """Upsert rows into ``AdminDivision``; returns ``(created, updated)``.

    ``source`` is used for rows whose own ``source`` is empty. Rows are applied parent-first
    (level, then code), paths are computed here exactly like ``AdminDivision.compute_path``
    (bulk operations bypass ``save()``), and the work is three queries plus batched
    inserts/updates – the whole country (~6.5k rows) takes well under a second on SQLite.
    ``updated`` counts only rows whose stored values actually changed, so loading the same
    data twice reports ``(0, 0)`` the second time. Rows already in the table but absent from
    ``rows`` are left alone (codes are never reused, so nothing is ever deleted here).
    """
    from django.db import transaction

    from .models import AdminDivision

    ordered = sorted(rows, key=sort_key)
    seen: set[str] = set()
    for row in ordered:
        if row["code"] in seen:
            raise ValueError(f"duplicate division code {row['code']}")
        seen.add(row["code"])

    with transaction.atomic():
        existing = {values[0]: values[1:] for values in AdminDivision.objects.values_list("code", *_FIELDS)}
        paths = {code: values[_FIELDS.index("path")] for code, values in existing.items()}
        to_create: list[AdminDivision] = []
        to_update: list[AdminDivision] = []
        moved = False
        for row in ordered:
            code, parent = row["code"], row["parent_code"]
            if parent is not None and parent not in paths:
                raise ValueError(f"division {code}: parent {parent} is neither loaded nor in the rows")
            path = compute_path(paths[parent] if parent else None, code)
            paths[code] = path
            values = (
                row["name"],
                row["level"],
                parent,
                path,
                row["is_current"],
                row["valid_until"],
                row["source"] or source,
            )
            fields = dict(zip(_FIELDS, values, strict=True))
            fields["parent_id"] = fields.pop("parent")
            obj = AdminDivision(code=code, **fields)
            old = existing.get(code)
            if old is None:
                to_create.append(obj)
            elif old != values:
                to_update.append(obj)
                moved = moved or old[_FIELDS.index("path")] != path
        AdminDivision.objects.bulk_create(to_create, batch_size=batch_size)
        AdminDivision.objects.bulk_update(to_update, _FIELDS, batch_size=batch_size)
        if moved:
            # A division changed parent: descendants that were not in ``rows`` need new paths.
            rebuild_paths()
    return len(to_create), len(to_update)


def rebuild_paths() -> int:
    """Recompute every stored path from the parent links; returns how many changed."""
    from .models import AdminDivision

    rows = list(AdminDivision.objects.values_list("code", "parent_id", "path", "level"))
    rows.sort(key=lambda r: (LEVEL_ORDER.get(r[3], 9), r[0]))
    parents = {code: parent for code, parent, _path, _level in rows}
    paths: dict[str, str] = {}

    def path_of(code: str) -> str:
        if code not in paths:
            parent = parents[code]
            paths[code] = compute_path(path_of(parent) if parent else None, code)
        return paths[code]

    changed = [
        AdminDivision(code=code, path=path_of(code)) for code, _parent, path, _level in rows if path_of(code) != path
    ]
    AdminDivision.objects.bulk_update(changed, ["path"], batch_size=1000)
    return len(changed)
