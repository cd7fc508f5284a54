"""The bounds every upload is read within. Each is a setting (``NQI_TABLE_*``) with the
default below; ``Limits.from_settings()`` reads them once per read. They are enforced while
reading (before the rows are handed on), never after everything was loaded."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from django.conf import settings

DEFAULTS = {
    # The uploaded file itself.
    "max_file_bytes": 50 * 1024 * 1024,
    # Rows of the sheet, blank rows included (the header and title rows too).
    "max_rows": 200_010,
    # Columns of the sheet: a cell beyond this column is refused.
    "max_columns": 100,
    # Cells of the sheet's grid, empty ones included (rows x columns from the first to the
    # last used): calamine holds the whole grid in memory.
    "max_cells": 4_000_000,
    # Characters of one cell (Excel's own limit is 32,767).
    "max_cell_chars": 32_767,
    # Uncompressed bytes of one part of an .xlsx/.ods zip (the sheet, the shared strings …),
    # as declared and as actually inflated.
    "max_part_bytes": 256 * 1024 * 1024,
    # Uncompressed bytes of all parts of the zip together.
    "max_total_bytes": 512 * 1024 * 1024,
    # Inflated / compressed size of one part larger than 1 MB: ordinary sheets compress about
    # 10-30 times; a "zip bomb" thousands of times.
    "max_compression_ratio": 200,
    # Entries of the shared-strings table and its uncompressed bytes (calamine holds it all
    # in memory).
    "max_shared_strings": 1_000_000,
    "max_shared_strings_bytes": 64 * 1024 * 1024,
    # Seconds a background job may run before the worker stops it.
    "max_job_seconds": 30 * 60,
    # Error messages kept for a job or an error workbook: the first N, then a count of the rest.
    "max_stored_errors": 1_000,
}


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int
    max_rows: int
    max_columns: int
    max_cells: int
    max_cell_chars: int
    max_part_bytes: int
    max_total_bytes: int
    max_compression_ratio: int
    max_shared_strings: int
    max_shared_strings_bytes: int
    max_job_seconds: int
    max_stored_errors: int

    @classmethod
    def from_settings(cls, **overrides) -> Limits:
        """The limits from ``settings.NQI_TABLE_<NAME>`` (upper case), then ``overrides``."""
        values = {f.name: int(getattr(settings, f"NQI_TABLE_{f.name.upper()}", DEFAULTS[f.name])) for f in fields(cls)}
        return replace(cls(**values), **overrides)
