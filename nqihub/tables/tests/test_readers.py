"""The table reader: every format and encoding people send, header matching, error caps and
the limits that stop a file before it is read."""

from __future__ import annotations

import codecs
import datetime
import io
import zipfile

import pytest
from django.utils import translation
from openpyxl import Workbook, load_workbook

from nqihub.tables.columns import Column, ErrorList, error, error_count, error_text, find_header
from nqihub.tables.limits import Limits
from nqihub.tables.readers import TableFileError, column_index, column_letters, decode_text, read_table
from nqihub.tables.writers import build_xlsx, error_workbook

ROWS = [["出厂编号", "器具名称", "数量"], ["00123", "电子秤", 3], ["N-2", "血压计", 1.5]]


def _xlsx(rows, *, title="Sheet") -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _xls(rows) -> bytes:
    import xlwt

    workbook = xlwt.Workbook(encoding="utf-8")
    sheet = workbook.add_sheet("台账")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _ods(rows) -> bytes:
    """A minimal OpenDocument spreadsheet, as LibreOffice writes one (with the trailing
    repeated empty rows and columns it adds)."""

    def cell(value):
        if isinstance(value, (int, float)):
            return f'<table:table-cell office:value-type="float" office:value="{value}"><text:p>{value}</text:p></table:table-cell>'
        return f'<table:table-cell office:value-type="string"><text:p>{value}</text:p></table:table-cell>'

    body = "".join("<table:table-row>" + "".join(cell(v) for v in row) + "</table:table-row>" for row in rows)
    body += (
        '<table:table-row table:number-rows-repeated="1048570">'
        '<table:table-cell table:number-columns-repeated="1024"/></table:table-row>'
    )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f'<office:body><office:spreadsheet><table:table table:name="台账">{body}</table:table>'
        "</office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def _values(table) -> list[list]:
    return [
        [v for v in values if v not in (None, "")]
        for _n, values in table.rows
        if any(v not in (None, "") for v in values)
    ]


@pytest.mark.parametrize(("name", "build"), [("a.xlsx", _xlsx), ("a.xls", _xls), ("a.ods", _ods)])
def test_every_workbook_format_reads_the_same_values(name, build):
    values = _values(read_table(build(ROWS), name))
    assert values[0] == ["出厂编号", "器具名称", "数量"]
    assert values[1][:2] == ["00123", "电子秤"] and values[1][2] == 3
    assert values[2] == ["N-2", "血压计", 1.5]


def test_row_numbers_and_columns_are_as_the_person_sees_them():
    workbook = Workbook()
    sheet = workbook.active
    sheet["C3"], sheet["D3"], sheet["C5"], sheet["D5"] = "出厂编号", "日期", "N1", datetime.date(2026, 1, 2)
    buffer = io.BytesIO()
    workbook.save(buffer)
    rows = {number: values for number, values in read_table(buffer.getvalue(), "a.xlsx").rows}
    assert rows[3][2:4] == ["出厂编号", "日期"]  # column C is index 2, although A and B are empty
    assert rows[5][3] == datetime.date(2026, 1, 2)


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: text.encode("utf-8"),
        lambda text: codecs.BOM_UTF8 + text.encode("utf-8"),
        lambda text: text.encode("gb18030"),
        lambda text: text.encode("utf-16"),  # with a byte-order mark, as Excel's "Unicode text"
        lambda text: text.encode("utf-16-le"),
        lambda text: text.encode("utf-16-be"),
    ],
    ids=["utf-8", "utf-8-bom", "gb18030", "utf-16", "utf-16-le", "utf-16-be"],
)
def test_csv_encodings_are_detected(encode):
    text = "出厂编号,器具名称\r\n00123,电子秤\r\n"
    rows = list(read_table(encode(text), "a.csv").rows)
    assert rows == [(1, ["出厂编号", "器具名称"]), (2, ["00123", "电子秤"])]


def test_tab_separated_text_is_read():
    rows = list(read_table("出厂编号\t器具名称\nN1\t秤\n".encode("utf-16"), "a.csv").rows)
    assert rows[1] == (2, ["N1", "秤"])


def test_text_in_no_known_encoding_is_refused_with_a_translated_message():
    with translation.override("zh-hans"), pytest.raises(TableFileError) as exc:
        decode_text(b"\xff\xfe\xfd" * 3 + b"abc\x81")
    assert exc.value.code == "encoding" and "编码" in str(exc.value.message)


def test_csv_limits_hold_while_reading():
    limits = Limits.from_settings(max_rows=3, max_columns=2, max_cell_chars=5)
    with pytest.raises(TableFileError) as exc:
        list(read_table(b"a,b\n1,2\n3,4\n5,6\n", "a.csv", limits=limits).rows)
    assert exc.value.code == "too_many_rows"
    with pytest.raises(TableFileError) as exc:
        list(read_table(b"a,b,c\n", "a.csv", limits=limits).rows)
    assert exc.value.code == "too_many_columns"
    with pytest.raises(TableFileError) as exc:
        list(read_table(b"a,b\n123456,1\n", "a.csv", limits=limits).rows)
    assert (exc.value.code, exc.value.row) == ("cell_too_long", 2)


def test_a_long_cell_in_a_workbook_is_refused_with_its_row_and_column():
    limits = Limits.from_settings(max_cell_chars=10)
    with pytest.raises(TableFileError) as exc:
        list(read_table(_xlsx([["a", "b"], ["x", "y" * 11]]), "a.xlsx", limits=limits).rows)
    assert (exc.value.code, exc.value.row, exc.value.column) == ("cell_too_long", 2, "B")


def test_the_file_size_limit_and_unknown_types():
    with pytest.raises(TableFileError) as exc:
        read_table(b"x" * 11, "a.csv", limits=Limits.from_settings(max_file_bytes=10))
    assert exc.value.code == "file_too_large"
    with pytest.raises(TableFileError) as exc:
        read_table(b"x", "a.docx")
    assert exc.value.code == "file_type"
    with pytest.raises(TableFileError) as exc:
        read_table(b"  \n", "a.csv")
    assert exc.value.code == "file_empty"


def test_limits_are_settings(settings):
    settings.NQI_TABLE_MAX_ROWS = 7
    assert Limits.from_settings().max_rows == 7
    assert Limits.from_settings(max_rows=9).max_rows == 9


COLUMNS = (
    Column("factory_number", "出厂编号", "Factory number", required=True, aliases=("序列号",)),
    Column("name", "器具名称", "Instrument name", required=True),
    Column("location", "安装使用地点", "Location"),
)


def test_headers_match_in_chinese_english_or_an_alias_below_a_title():
    rows = iter(
        [
            (1, ["某公司计量器具台账", None]),
            (2, [None, None]),
            (3, ["序列号", " instrument  NAME *", "序号"]),
            (4, ["N1", "秤", 1]),
        ]
    )
    header, pending = find_header(rows, COLUMNS, ignored=frozenset({"序号"}))
    assert (header.row, header.positions, header.errors, header.fatal) == (
        3,
        [(0, "factory_number"), (1, "name")],
        [],
        False,
    )
    assert header.written == {"factory_number": "序列号", "name": "instrument  NAME *"}
    assert pending == []


def test_unknown_repeated_and_missing_columns_are_reported():
    with translation.override("en"):
        header, _pending = find_header(iter([(1, ["出厂编号", "颜色", "Factory number"])]), COLUMNS)
    assert header.fatal  # 器具名称 is required
    assert [(e["column"], e["message"][:20]) for e in header.errors] == [
        ("颜色", "Unknown column: use "),
        ("Factory number", "This column appears "),
        ("器具名称", "The required column "),
    ]
    assert "columns A and C" in header.errors[1]["message"]


def test_the_error_list_keeps_the_first_n_and_counts_the_rest():
    errors = ErrorList(cap=2)
    for row in range(5):
        errors.add(error(row + 2, "出厂编号", "必填"))
    stored = errors.stored()
    assert len(stored) == 3 and stored[-1]["omitted"] == 3
    assert error_count(stored) == 5
    with translation.override("zh-hans"):
        assert error_text(stored[0]) == "第 2 行，“出厂编号”列：必填"


def test_column_letters_round_trip():
    for index in (0, 25, 26, 701, 702, 16383):
        assert column_index(column_letters(index)) == index
    assert column_letters(16383) == "XFD"


def test_the_export_writer_sizes_freezes_filters_and_states_the_search():
    content = build_xlsx(
        title="计量器具台账",
        headers=["出厂编号", "器具名称"],
        rows=[["=1+1", "很长很长的器具名称很长很长的器具名称"]],
        meta=[("期间", "2026-01-01 至 2026-06-30"), ("条件", "状态：在用")],
    )
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet["A1"].value == "期间" and sheet["B2"].value == "状态：在用"
    assert [c.value for c in sheet[4]] == ["出厂编号", "器具名称"]
    assert sheet.freeze_panes == "A5" and sheet.auto_filter.ref == "A4:B4"
    assert sheet["A5"].value == "'=1+1"  # not run as a formula
    assert sheet.column_dimensions["B"].width > sheet.column_dimensions["A"].width


def test_an_export_without_lines_has_its_header_on_the_first_row():
    sheet = load_workbook(io.BytesIO(build_xlsx(title="t", headers=["a"], rows=[[1]]))).active
    assert [c.value for c in sheet[1]] == ["a"] and sheet.freeze_panes == "A2"


def test_the_error_workbook_lists_row_column_and_problem():
    content = error_workbook([error(3, "出厂编号", "必填")], title="导入错误", headers=["行", "列", "问题"])
    rows = list(load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))
    assert rows == [("行", "列", "问题"), (3, "出厂编号", "必填")]
