"""Reading the workbooks exports write, in tests: the lines above the header (what was
exported: the list, the search, when) and the rows from the header on."""

from __future__ import annotations

from io import BytesIO

from openpyxl import load_workbook


def _content(source) -> bytes:
    if isinstance(source, bytes):
        return source
    return b"".join(source.streaming_content) if getattr(source, "streaming", False) else source.content


def _split(source) -> tuple[list[tuple], list[tuple]]:
    rows = list(load_workbook(BytesIO(_content(source)), read_only=True).active.iter_rows(values_only=True))
    blank = next((i for i, row in enumerate(rows[:8]) if all(v is None for v in row)), None)
    if blank is None:
        return [], rows
    return [tuple(v for v in row if v is not None) for row in rows[:blank]], rows[blank + 1 :]


def export_sheet(source) -> list[tuple]:
    """The first sheet's rows from the header on, of a workbook (bytes) or a response."""
    return _split(source)[1]


def export_lines(source) -> dict[str, str]:
    """The lines above the first sheet's header, as {label: value}."""
    return {line[0]: line[1] if len(line) > 1 else "" for line in _split(source)[0]}
