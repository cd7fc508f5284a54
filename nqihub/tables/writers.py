"""The one export writer: every Excel export (a page's direct download, a background export,
an error workbook) is written here. Rows stream through openpyxl's write-only mode, so a large
export does not hold every cell object in memory; the sheet gets column widths fitted to the
headers and first rows, a frozen header row and an autofilter on it, and, when given, lines
above the header saying what was exported (the period, the filters)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from io import BytesIO
from itertools import islice
from urllib.parse import quote

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

logger = logging.getLogger(__name__)

# Rows on one sheet before a new one starts (Excel holds 1,048,576 rows a sheet).
ROWS_PER_SHEET = 1_000_000
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
WIDTH_SAMPLE_ROWS = 200  # rows looked at to fit the column widths
MIN_WIDTH, MAX_WIDTH = 8, 60


def safe_cell(value):
    # A cell starting with = + - @ would be run as a formula by Excel (CSV/formula injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def display_width(value) -> int:
    """Columns a value takes in Excel: a CJK (wide) character counts twice."""
    if value is None:
        return 0
    text = str(value)
    return len(text) + sum(1 for char in text if ord(char) > 0x2E7F)


def build_xlsx(*, title: str, headers: Sequence[str], rows: Iterable[Sequence], meta: Sequence[tuple] = ()) -> bytes:
    buffer = BytesIO()
    write_workbook(buffer, title=title, headers=headers, rows=rows, meta=meta)
    return buffer.getvalue()


_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def sheet_title(title: str, number: int) -> str:
    """The name of the ``number``-th sheet (Excel: at most 31 characters, none of []:*?/\\)."""
    base = _SHEET_FORBIDDEN.sub(" ", str(title)).strip() or "Sheet"
    if number == 1:
        return base[:31]
    suffix = f" ({number})"
    return base[: 31 - len(suffix)] + suffix


def write_workbook(
    handle,
    *,
    title: str,
    headers: Sequence[str],
    rows: Iterable[Sequence],
    progress: Callable[[int], None] | None = None,
    progress_every: int = 10_000,
    rows_per_sheet: int = ROWS_PER_SHEET,
    meta: Sequence[tuple] = (),
) -> int:
    """Write ``rows`` under ``headers`` into an .xlsx in ``handle``, in openpyxl's write-only
    mode (rows go to disk as they come), a further sheet with the headers again every
    ``rows_per_sheet`` rows (Excel's limit is 1,048,576). ``meta`` is lines of (label, value)
    written above the header on each sheet (the period, the filters). Cells are escaped
    against formula injection. ``progress(n)`` is called every ``progress_every`` rows.
    Returns the number of rows written."""
    per_sheet = rows_per_sheet
    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    sheets = 0
    rows = iter(rows)
    sample = [list(row) for row in islice(rows, WIDTH_SAMPLE_ROWS)]
    widths = [display_width(h) for h in headers]
    for row in sample:
        for index, value in enumerate(row[: len(widths)]):
            widths[index] = max(widths[index], display_width(value))
    header_row = len(meta) + (2 if meta else 1)  # a blank line between the lines and the header

    def new_sheet():
        nonlocal sheets
        sheets += 1
        sheet = workbook.create_sheet(title=sheet_title(title, sheets))
        for index, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = max(MIN_WIDTH, min(MAX_WIDTH, width + 2))
        if headers:
            sheet.freeze_panes = f"A{header_row + 1}"
            sheet.auto_filter.ref = f"A{header_row}:{get_column_letter(len(headers))}{header_row}"
        for line in meta:
            sheet.append([safe_cell(str(v)) for v in line])
        if meta:
            sheet.append([])
        cells = []
        for header in headers:
            cell = WriteOnlyCell(sheet, value=str(header))
            cell.font = bold
            cells.append(cell)
        sheet.append(cells)
        return sheet

    try:
        sheet = new_sheet()
        written = in_sheet = 0
        for row in _chain(sample, rows):
            if in_sheet >= per_sheet:
                sheet, in_sheet = new_sheet(), 0
            sheet.append([safe_cell(v) for v in row])
            in_sheet += 1
            written += 1
            if progress is not None and written % progress_every == 0:
                progress(written)
        workbook.save(handle)  # removes the sheets' temporary files
    except BaseException:
        _discard(workbook)
        raise
    return written


def _chain(first: list, rest):
    yield from first
    yield from rest


def _discard(workbook: Workbook) -> None:
    """Close and remove the temporary files openpyxl writes each write-only sheet to: they
    are otherwise only removed when the process exits, and a worker runs for weeks."""
    for sheet in workbook.worksheets:
        writer = getattr(sheet, "_writer", None)
        if writer is None:
            continue
        try:
            if sheet._rows is not None:
                sheet._rows.close()
            writer.close()
        except Exception:  # pragma: no cover - already broken; the file is removed below
            pass
        try:
            writer.cleanup()
        except OSError:  # pragma: no cover
            logger.warning("Could not remove the temporary file %s", writer.out)


def attachment(content: bytes, *, filename: str, content_type: str = XLSX_CONTENT_TYPE) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


def xlsx_response(
    *, filename: str, title: str, headers: Sequence[str], rows: Iterable[Sequence], meta: Sequence[tuple] = ()
) -> HttpResponse:
    return attachment(build_xlsx(title=title, headers=headers, rows=rows, meta=meta), filename=filename)


def search_lines(title, terms: Iterable[tuple]) -> list[tuple[str, str]]:
    """The lines above an export's header saying what was exported: the list, its search
    (the period and filters, each ``(label, value)``) and when the file was made. Every
    export, direct or in the background, writes these (``meta``)."""
    search = "; ".join(f"{label}: {value}" for label, value in terms) or _("none (everything)")
    return [
        (pgettext("export sheet", "List"), str(title)),
        (pgettext("export sheet", "Search"), search),
        (pgettext("export sheet", "Made at"), f"{timezone.localtime():%Y-%m-%d %H:%M}"),
    ]


def error_workbook(errors: Iterable[dict], *, title: str, headers: Sequence[str]) -> bytes:
    """A list of errors (row, column, problem) as a workbook, written like every export."""
    rows = ((e.get("row") or "", e.get("column") or "", e.get("message", "")) for e in errors or [])
    return build_xlsx(title=title, headers=headers, rows=rows)
