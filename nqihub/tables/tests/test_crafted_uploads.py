"""Crafted uploads: each is refused (or read) by ``read_table`` with a clear, translated
message, in a child process whose memory growth is measured (``ru_maxrss``) and whose time is
bounded, so a small file cannot exhaust the worker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from . import crafted

MAX_GROWTH_MB = 300
MAX_SECONDS = 60

CHILD = r"""
import json, resource, sys, time
import django
django.setup()
from django.utils import translation
from nqihub.tables.readers import TableFileError, read_table

data = open(sys.argv[1], "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.monotonic()
result = {"code": "", "message": "", "rows": 0, "cells": 0}
with translation.override(sys.argv[2]):
    try:
        table = read_table(data, sys.argv[1])
        for number, values in table.rows:
            result["rows"] += 1
            result["cells"] += sum(1 for v in values if v not in (None, ""))
    except TableFileError as exc:
        result["code"], result["message"] = exc.code, str(exc.message)
result["seconds"] = time.monotonic() - start
result["growth_mb"] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
print(json.dumps(result))
"""


def _read_in_child(path: Path, language: str = "zh-hans") -> dict:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "nqihub.test_settings"}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), language],
        capture_output=True,
        text=True,
        timeout=MAX_SECONDS,
        env=env,
        cwd=Path(__file__).resolve().parents[3],
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["growth_mb"] < MAX_GROWTH_MB, result
    return result


def test_an_ordinary_crafted_workbook_is_read(tmp_path):
    path = crafted.write_xlsx(tmp_path / "ok.xlsx", crafted.header_and_one_row())
    result = _read_in_child(path)
    assert (result["code"], result["rows"], result["cells"]) == ("", 2, 4)


def test_a_600_mb_cell_packed_into_a_small_file_is_refused_before_reading(tmp_path):
    path = crafted.write_xlsx(tmp_path / "bomb.xlsx", crafted.huge_cell(600))
    assert path.stat().st_size < 1_000_000  # about 600 KB on disk
    result = _read_in_child(path)
    assert result["code"] == "unpacked_too_large"
    assert "解压" in result["message"] or "工作簿" in result["message"], result["message"]
    english = _read_in_child(path, "en")
    assert english["message"].startswith("The workbook unpacks to more data")


def test_a_long_cell_within_the_size_limits_is_refused(tmp_path, settings):
    # 40 MB of one letter: under the part limit, refused by the compression ratio.
    path = crafted.write_xlsx(tmp_path / "long.xlsx", crafted.huge_cell(40))
    assert _read_in_child(path)["code"] == "unpacked_too_large"


def test_a_cell_in_column_zzzzzz_is_refused(tmp_path):
    path = crafted.write_xlsx(tmp_path / "wide.xlsx", crafted.far_column("ZZZZZZ"))
    result = _read_in_child(path)
    assert result["code"] == "too_many_columns", result
    assert "列" in result["message"]


def test_a_cell_just_past_the_column_limit_is_refused(tmp_path):
    path = crafted.write_xlsx(tmp_path / "wide.xlsx", crafted.far_column("CW"))  # column 101
    assert _read_in_child(path)["code"] == "too_many_columns"


def test_millions_of_blank_rows_are_refused(tmp_path):
    path = crafted.write_xlsx(tmp_path / "blank.xlsx", crafted.blank_rows(3_000_000))
    result = _read_in_child(path)
    assert result["code"] == "too_many_rows", result
    assert "行" in result["message"]


def test_one_cell_at_row_1048576_is_refused(tmp_path):
    chunks = [*crafted.header_and_one_row(), crafted.row(1_048_576, crafted.cell("A1048576", "x"))]
    path = crafted.write_xlsx(tmp_path / "deep.xlsx", chunks)
    assert _read_in_child(path)["code"] == "too_many_rows"


def test_a_shared_strings_table_near_its_cap_is_read_in_bounded_memory(tmp_path, settings):
    sheet, table = crafted.shared_strings(990_000)  # the cap is 1,000,000 entries
    path = crafted.write_xlsx(tmp_path / "sst.xlsx", sheet, shared_chunks=table)
    result = _read_in_child(path)
    assert (result["code"], result["rows"], result["cells"]) == ("", 2, 2), result


def test_a_shared_strings_table_over_its_cap_is_refused(tmp_path):
    sheet, table = crafted.shared_strings(1_000_001)
    path = crafted.write_xlsx(tmp_path / "sst.xlsx", sheet, shared_chunks=table)
    result = _read_in_child(path)
    assert result["code"] == "too_many_strings", result


@pytest.mark.parametrize("extension", [".xlsx", ".ods", ".xls"])
def test_garbage_with_a_workbook_extension_is_unreadable(tmp_path, extension):
    path = tmp_path / f"junk{extension}"
    path.write_bytes(b"PK\x03\x04 this is not a workbook" * 10)
    assert _read_in_child(path)["code"] == "unreadable"


def test_a_sparse_sheet_whose_grid_is_too_large_is_refused(tmp_path):
    # Two cells within the row and column limits, but calamine would hold every cell between
    # them: 40,001 rows x 100 columns.
    chunks = [*crafted.header_and_one_row(), crafted.row(40_001, crafted.cell("CV40001", "x"))]
    path = crafted.write_xlsx(tmp_path / "sparse.xlsx", chunks)
    result = _read_in_child(path)
    assert result["code"] == "too_many_cells", result
    assert "单元格" in result["message"]


def test_an_ods_with_a_million_repeated_rows_of_values_is_refused(tmp_path):
    path = tmp_path / "rows.ods"
    path.write_bytes(crafted.ods_with_repeats(rows=1_000_000, columns=1))
    assert _read_in_child(path)["code"] == "too_many_rows"


def test_an_ods_with_a_thousand_repeated_cells_of_values_is_refused(tmp_path):
    path = tmp_path / "columns.ods"
    path.write_bytes(crafted.ods_with_repeats(rows=10, columns=1_000))
    assert _read_in_child(path)["code"] == "too_many_columns"


def test_libreoffice_trailing_empty_rows_are_read(tmp_path):
    path = tmp_path / "trailing.ods"
    path.write_bytes(crafted.ods_with_repeats(rows=1_048_570, columns=1_024, empty=True))
    result = _read_in_child(path)
    assert (result["code"], result["cells"]) == ("", 1), result


def test_a_zip_that_understates_its_sizes_is_refused(tmp_path):
    # The central directory claims the 300 MB sheet unpacks to 1,000 bytes: the reader never
    # inflates more than a part declares, finds the checksum wrong and stops.
    path = crafted.write_xlsx(tmp_path / "liar.xlsx", crafted.huge_cell(300))
    crafted.understate_size(path, "xl/worksheets/sheet1.xml", 1_000)
    result = _read_in_child(path)
    assert result["code"] == "unreadable", result


# --- .xls: calamine makes a grid from the first to the last cell of every sheet ---------------


def test_an_xls_with_two_far_apart_cells_is_refused_before_calamine_reads_it(tmp_path):
    # 5 KB on disk; calamine alone would hold a 65,536 x 256 grid (about 1 GB).
    path = tmp_path / "sparse.xls"
    path.write_bytes(crafted.xls([(0, 0, "出厂编号"), (65_535, 255, "x")]))
    assert path.stat().st_size < 10_000
    result = _read_in_child(path)
    assert result["code"] == "too_many_columns", result


def test_an_xls_whose_grid_is_too_large_within_the_columns_is_refused(tmp_path):
    path = tmp_path / "sparse.xls"
    path.write_bytes(crafted.xls([(0, 0, "出厂编号"), (45_000, 99, "x")]))  # 45,001 x 100 cells
    result = _read_in_child(path)
    assert result["code"] == "too_many_cells", result


def test_a_small_xls_in_the_mini_stream_is_read_and_a_crafted_one_refused(tmp_path):
    ordinary = tmp_path / "ok.xls"
    ordinary.write_bytes(crafted.xls_in_mini_stream(crafted.xls([(0, 0, "出厂编号"), (1, 0, "A-1"), (1, 2, 3.5)])))
    result = _read_in_child(ordinary)
    assert (result["code"], result["rows"], result["cells"]) == ("", 2, 3), result
    sparse = tmp_path / "sparse.xls"
    sparse.write_bytes(crafted.xls_in_mini_stream(crafted.xls([(0, 0, "a"), (65_535, 255, "x")])))
    assert _read_in_child(sparse)["code"] == "too_many_columns"


def test_an_xls_whose_sector_chain_loops_is_unreadable(tmp_path):
    data = bytearray(crafted.xls_in_mini_stream(crafted.xls([(0, 0, "a")])))
    data[512 + 4 : 512 + 8] = (1).to_bytes(4, "little")  # the directory's sector is its own successor
    path = tmp_path / "loop.xls"
    path.write_bytes(bytes(data))
    assert _read_in_child(path)["code"] == "unreadable"
