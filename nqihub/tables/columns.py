"""Header matching and error collection for tables read with ``readers.read_table``.

A module declares its columns (``Column``: the field, its headers in Chinese and English and
any aliases, whether it is required); ``find_header`` finds the header row among the first
non-blank rows, matches its cells to the columns (case, spaces and a ``*`` marking a required
column do not matter) and reports unknown, repeated and missing columns. ``ErrorList`` keeps
the first ``Limits.max_stored_errors`` errors with a count of the rest.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .readers import TableFileError, column_letters, is_blank

HEADER_SEARCH_ROWS = 10  # a title line or two above the header is tolerated


@dataclass(frozen=True)
class Column:
    field: str
    header_zh: str
    header_en: str
    required: bool = False
    max_length: int | None = None
    aliases: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return (self.header_zh, self.header_en, self.field, *self.aliases)


def normal_header(value) -> str:
    text = "" if value is None else str(value)
    return " ".join(text.replace("*", " ").split()).casefold()


def error(row: int | None, column: str, message) -> dict:
    """One error as it is stored: ``{"row": 17, "column": "出厂编号", "message": "…"}``."""
    return {"row": row, "column": str(column), "message": str(message)}


class ErrorList:
    """Errors in the order found; only the first ``cap`` are kept, the rest counted."""

    def __init__(self, cap: int):
        self.cap = cap
        self.items: list[dict] = []
        self.count = 0

    def add(self, item: dict) -> None:
        self.count += 1
        if len(self.items) < self.cap:
            self.items.append(item)

    def __bool__(self) -> bool:
        return self.count > 0

    def stored(self) -> list[dict]:
        """The kept errors, and a last line saying how many more there were."""
        return capped(self.items, self.count, self.cap)


def capped(errors: Sequence[dict], count: int, cap: int) -> list[dict]:
    stored = list(errors[:cap])
    omitted = count - len(stored)
    if omitted > 0:
        stored.append(
            {
                "row": None,
                "column": "",
                "message": ngettext(
                    "%(count)d more error is not listed.", "%(count)d more errors are not listed.", omitted
                )
                % {"count": omitted},
                "omitted": omitted,
            }
        )
    return stored


def error_count(errors: Iterable[dict]) -> int:
    total = 0
    for error in errors or []:
        total += int(error.get("omitted", 1))
    return total


def error_text(item: dict) -> str:
    """One error as a sentence: “第 17 行，列“出厂编号”：此项为必填项。”."""
    row, column, message = item.get("row"), item.get("column") or "", item.get("message", "")
    if item.get("omitted"):
        return message
    if row and column:
        return _("Row %(row)d, column “%(column)s”: %(message)s") % {"row": row, "column": column, "message": message}
    if row:
        return _("Row %(row)d: %(message)s") % {"row": row, "message": message}
    return message


@dataclass
class Header:
    row: int
    positions: list[tuple[int, str]]  # (column index, field)
    written: dict[str, str]  # field -> the header as written in the file
    errors: list[dict] = field(default_factory=list)
    fatal: bool = False


def find_header(
    rows: Iterator[tuple[int, Sequence]],
    columns: Sequence[Column],
    *,
    ignored: frozenset[str] = frozenset(),
) -> tuple[Header, list[tuple[int, Sequence]]]:
    """The header is the first of the first non-blank rows that names a known column.
    Returns it and the rows read past it that turned out to be data. ``ignored`` are headers
    (normalised) of columns that carry nothing to import, such as 序号."""
    known = {normal_header(name): column.field for column in columns for name in column.names}
    candidates: list[tuple[int, Sequence]] = []
    for number, values in rows:
        if is_blank(values):
            continue
        candidates.append((number, values))
        if any(normal_header(v) in known for v in values) or len(candidates) >= HEADER_SEARCH_ROWS:
            break
    if not candidates:
        raise TableFileError(_("The file is empty."), code="file_empty")
    chosen = next((i for i, (_n, values) in enumerate(candidates) if any(normal_header(v) in known for v in values)), 0)
    number, values = candidates[chosen]
    header = Header(row=number, positions=[], written={})
    first_index: dict[str, int] = {}
    for index, value in enumerate(values):
        name = normal_header(value)
        if not name or name in ignored:
            continue  # an unnamed column (often just formatting) or a row count is ignored
        written = str(value).strip()
        column_field = known.get(name)
        if column_field is None:
            header.errors.append(
                error(
                    number,
                    written,
                    _("Unknown column: use the headers of the template (Chinese or English), or delete the column."),
                )
            )
        elif column_field in first_index:
            header.errors.append(
                error(
                    number,
                    written,
                    _("This column appears twice (columns %(first)s and %(second)s).")
                    % {"first": column_letters(first_index[column_field]), "second": column_letters(index)},
                )
            )
        else:
            first_index[column_field] = index
            header.positions.append((index, column_field))
            header.written[column_field] = written
    for column in columns:
        if column.required and column.field not in header.written:
            header.fatal = True
            header.errors.append(
                error(
                    number,
                    column.header_zh,
                    _("The required column is missing (its English header is “%(english)s”).")
                    % {"english": column.header_en},
                )
            )
    return header, candidates[chosen + 1 :]
