"""Workbooks built from raw XML for the reader's tests: ordinary ones, and crafted ones that
try to exhaust memory, disk or time. Built in the test, never committed as binaries."""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from pathlib import Path
from xml.sax.saxutils import escape

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
    "</Relationships>"
)
SHEET_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
SHEET_TAIL = b"</sheetData></worksheet>"
SST_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)


def cell(ref: str, text: str) -> bytes:
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(text)}</t></is></c>'.encode()


def row(number: int, *cells: bytes) -> bytes:
    return f'<row r="{number}">'.encode() + b"".join(cells) + b"</row>"


def header_and_one_row() -> list[bytes]:
    return [row(1, cell("A1", "出厂编号"), cell("B1", "器具名称")), row(2, cell("A2", "N1"), cell("B2", "电子秤"))]


def write_xlsx(path: Path, sheet_chunks: Iterable[bytes], *, shared_chunks: Iterable[bytes] = ()) -> Path:
    """An .xlsx whose sheet (and shared strings) are streamed into the zip chunk by chunk, so
    a part of hundreds of megabytes never sits in the test's memory."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            part.write(SHEET_HEAD)
            for chunk in sheet_chunks:
                part.write(chunk)
            part.write(SHEET_TAIL)
        with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as part:
            part.write(SST_HEAD)
            for chunk in shared_chunks:
                part.write(chunk)
            part.write(b"</sst>")
    return path


def huge_cell(megabytes: int) -> Iterable[bytes]:
    """A header, then one cell of ``megabytes`` MB of the same letter (it packs about 1,000:1)."""
    yield row(1, cell("A1", "出厂编号"))
    yield b'<row r="2"><c r="A2" t="inlineStr"><is><t>'
    block = b"A" * (1024 * 1024)
    for _ in range(megabytes):
        yield block
    yield b"</t></is></c></row>"


def far_column(letters: str = "ZZZZZZ") -> Iterable[bytes]:
    yield from header_and_one_row()
    yield row(3, cell(f"{letters}3", "x"))


def blank_rows(count: int) -> Iterable[bytes]:
    yield from header_and_one_row()
    batch = 100_000
    for start in range(3, count + 3, batch):
        yield b"".join(b'<row r="%d"/>' % n for n in range(start, min(start + batch, count + 3)))


def shared_strings(count: int) -> tuple[Iterable[bytes], Iterable[bytes]]:
    """A sheet naming the first and last entries of a shared-strings table of ``count``
    distinct short texts."""
    sheet = [
        row(1, b'<c r="A1" t="s"><v>0</v></c>'),
        row(2, b'<c r="A2" t="s"><v>%d</v></c>' % (count - 1)),
    ]

    def table():
        batch = 50_000
        for start in range(0, count, batch):
            yield b"".join(b"<si><t>s%d</t></si>" % n for n in range(start, min(start + batch, count)))

    return sheet, table()


ODS_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
    '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    "</manifest:manifest>"
)


def ods_with_repeats(*, rows: int, columns: int, empty: bool = False) -> bytes:
    """An .ods with a header cell, then one row repeated ``rows`` times holding one cell
    repeated ``columns`` times: with a value, or empty as LibreOffice ends every sheet."""
    import io

    if empty:
        cell = f'<table:table-cell table:number-columns-repeated="{columns}"/>'
    else:
        cell = (
            f'<table:table-cell table:number-columns-repeated="{columns}" office:value-type="string">'
            "<text:p>x</text:p></table:table-cell>"
        )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="S">'
        '<table:table-row><table:table-cell office:value-type="string"><text:p>h</text:p></table:table-cell></table:table-row>'
        f'<table:table-row table:number-rows-repeated="{rows}">{cell}</table:table-row>'
        "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", content)
        archive.writestr("META-INF/manifest.xml", ODS_MANIFEST)
    return buffer.getvalue()


def understate_size(path: Path, name: str, size: int) -> None:
    """Rewrite the uncompressed size a zip declares for ``name`` (central directory and local
    header, zip64 fields included) to ``size``, leaving the data as it is."""
    import struct

    data = bytearray(path.read_bytes())
    encoded = name.encode()
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(name)
    # Local header: size at offset 22 (4 bytes); zip64 extra holds 8-byte sizes.
    local = info.header_offset
    name_length, extra_length = struct.unpack_from("<HH", data, local + 26)
    struct.pack_into("<I", data, local + 22, min(size, 0xFFFFFFFE))
    _zip64_sizes(data, local + 30 + name_length, extra_length, size)
    # Central directory entry.
    central = data.rfind(b"PK\x01\x02", 0, len(data))
    while central >= 0:
        name_length, extra_length = struct.unpack_from("<HH", data, central + 28)
        if bytes(data[central + 46 : central + 46 + name_length]) == encoded:
            struct.pack_into("<I", data, central + 24, min(size, 0xFFFFFFFE))
            _zip64_sizes(data, central + 46 + name_length, extra_length, size)
            break
        central = data.rfind(b"PK\x01\x02", 0, central)
    path.write_bytes(bytes(data))


def _zip64_sizes(data: bytearray, start: int, length: int, size: int) -> None:
    import struct

    at = start
    while at < start + length:
        tag, field_length = struct.unpack_from("<HH", data, at)
        if tag == 0x0001 and field_length >= 8:
            struct.pack_into("<Q", data, at + 4, size)  # the uncompressed size comes first
        at += 4 + field_length


# --- .xls ------------------------------------------------------------------------------------


def xls(cells: Iterable[tuple[int, int, object]]) -> bytes:
    """An .xls workbook (BIFF8, written by xlwt) with ``cells`` as (row, column, value),
    0-based: xlwt writes a far cell as one record, as Excel does."""
    import io

    import xlwt

    workbook = xlwt.Workbook(encoding="utf-8")
    sheet = workbook.add_sheet("台账")
    for row, column, value in cells:
        sheet.write(row, column, value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xls_in_mini_stream(data: bytes) -> bytes:
    """The same workbook in a compound file whose workbook stream is smaller than 4,096 bytes,
    so that it lives in the mini stream (64-byte sectors), as small files from other writers
    do (xlwt pads the stream to 4,096 bytes)."""
    import struct

    from nqihub.tables.readers import _ole_stream

    stream = _ole_stream(data, ("Workbook",))
    end = stream.rfind(b"\x0a\x00\x00\x00") + 4  # after the last EOF record: drop the padding
    stream = stream[:end]
    assert len(stream) < 4096
    mini = stream + b"\0" * (-len(stream) % 512)  # the mini stream, in whole 512-byte sectors
    mini_sectors = len(mini) // 512
    free, end_of_chain = 0xFFFFFFFF, 0xFFFFFFFE
    # Sectors: 0 FAT, 1 directory, 2 mini FAT, 3… the mini stream.
    fat = [0xFFFFFFFD, end_of_chain, end_of_chain]
    fat += [3 + n + 1 for n in range(mini_sectors - 1)] + [end_of_chain]
    fat += [free] * (128 - len(fat))
    count = -(-len(stream) // 64)
    mini_fat = [n + 1 for n in range(count - 1)] + [end_of_chain]
    mini_fat += [free] * (128 - len(mini_fat))

    def entry(name: str, kind: int, child: int, start: int, size: int) -> bytes:
        encoded = (name + "\0").encode("utf-16-le")
        return (
            encoded.ljust(64, b"\0")
            + struct.pack("<HBB3I", len(encoded), kind, 1, free, free, child)
            + b"\0" * 36
            + struct.pack("<III", start, size, 0)
        )

    directory = entry("Root Entry", 5, 1, 3, len(mini)) + entry("Workbook", 2, free, 0, len(stream))
    directory += entry("", 0, free, free, 0) * 2
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\0" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + b"\0" * 6
        + struct.pack("<IIII", 0, 1, 1, 0)
        + struct.pack("<IIIII", 4096, 2, 1, end_of_chain, 0)
        + struct.pack("<109I", 0, *([free] * 108))
    )
    assert len(header) == 512
    return header + struct.pack("<128I", *fat) + directory + struct.pack("<128I", *mini_fat) + mini
