"""Excel exports (officials keep their lists in Excel). Streams rows through openpyxl's
write-only mode, so a large export does not hold every cell object in memory."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from io import BytesIO
from urllib.parse import quote

from django.http import HttpResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

logger = logging.getLogger(__name__)

# Rows on one sheet before a new one starts (Excel holds 1,048,576 rows a sheet).
ROWS_PER_SHEET = 1_000_000
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def safe_cell(value):
    # A cell starting with = + - @ would be run as a formula by Excel (CSV/formula injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def build_xlsx(*, title: str, headers: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    buffer = BytesIO()
    write_workbook(buffer, title=title, headers=headers, rows=rows)
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
) -> int:
    """Write ``rows`` under ``headers`` into an .xlsx in ``handle``, in openpyxl's write-only
    mode (rows go to disk as they come), a further sheet with the headers again every
    ``rows_per_sheet`` rows (Excel's limit is 1,048,576). Cells are escaped against formula
    injection. ``progress(n)`` is called every ``progress_every`` rows. Returns the number of
    rows written."""
    per_sheet = rows_per_sheet
    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    sheets = 0

    def new_sheet():
        nonlocal sheets
        sheets += 1
        sheet = workbook.create_sheet(title=sheet_title(title, sheets))
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
        for row in rows:
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


def xlsx_response(*, filename: str, title: str, headers: Sequence[str], rows: Iterable[Sequence]) -> HttpResponse:
    response = HttpResponse(build_xlsx(title=title, headers=headers, rows=rows), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response
