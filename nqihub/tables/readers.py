"""One reader for every uploaded table: .xlsx, .xls and .ods workbooks (python-calamine, a
Rust reader several times faster than a pure-Python one) and CSV text in UTF-8, UTF-8 with a
byte-order mark, GB18030 (GBK, GB2312) or UTF-16, detected rather than asked.

``read_table(data, filename)`` returns a ``Table`` whose ``rows`` yield ``(row number as the
person sees it, [cell values])``; empty cells are ``None`` or ``""``. Every read stays within
``Limits`` (settings ``NQI_TABLE_*``), checked *before* a workbook is handed to calamine,
because calamine loads a whole sheet and the shared strings into memory:

* the zip of an .xlsx/.ods: each part's declared and actually inflated size, all parts
  together, and the compression ratio (a 600 MB cell packed into 600 KB is refused here);
* the sheet part, streamed once through ``zlib`` without parsing: the number of rows (blank
  rows included), the highest row number and column letters any cell names (a cell in column
  ZZZZZZ would make calamine allocate a grid that wide), and the longest text between two
  tags (so no cell longer than the limit reaches memory);
* the shared-strings part: its size and its number of entries;
* an .xls: the BIFF cell records of its workbook stream (walked, not decoded), for the
  highest row and column of each sheet, bounded as an .xlsx sheet's;
* CSV: the size, the number of rows and columns and the length of each field, while parsing.

A breach raises ``TableFileError`` with a message in the person's language and nothing is
read further.
"""

from __future__ import annotations

import codecs
import csv
import io
import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from xml.etree import ElementTree

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .limits import Limits

WORKBOOK_EXTENSIONS = (".xlsx", ".xlsm", ".xls", ".ods")
CSV_EXTENSIONS = (".csv", ".txt")
EXTENSIONS = (".xlsx", ".xls", ".ods", ".csv")
_ZIP_EXTENSIONS = (".xlsx", ".xlsm", ".ods")
_CHUNK = 1024 * 1024
_WINDOW = 8 * 1024  # a text run longer than twice this spans at least one whole window
_RATIO_FLOOR = 1024 * 1024  # parts smaller than this are not held to the compression ratio


class TableFileError(Exception):
    """The file as a whole cannot be read, or breaks a limit (not the errors of single rows).
    ``code`` names the reason for programs; ``message`` is for people."""

    def __init__(self, message, *, code: str = "unreadable", row: int | None = None, column: str = ""):
        self.message = message
        self.code = code
        self.row = row
        self.column = column
        super().__init__(str(message))


@dataclass
class Table:
    rows: Iterator[tuple[int, list]]
    estimated_rows: int = 0  # rows the file holds (blank ones included), 0 if unknown
    sheet_name: str = ""


_UNREADABLE = gettext_lazy(
    "This is not a readable workbook (.xlsx, .xls or .ods). Open it in Excel or WPS, save it again and upload it once more."
)


def extension_of(filename: str) -> str:
    return posixpath.splitext(str(filename or "").lower())[1]


def read_table(data: bytes, filename: str, *, limits: Limits | None = None, sheet_name: str = "") -> Table:
    """Read the first sheet (or the one called ``sheet_name``, if there is one) of ``data``,
    an uploaded file called ``filename``. Raises ``TableFileError``."""
    limits = limits or Limits.from_settings()
    if len(data) > limits.max_file_bytes:
        raise TableFileError(
            _("The file is larger than %(max)d MB: split it into several files.")
            % {"max": limits.max_file_bytes // (1024 * 1024)},
            code="file_too_large",
        )
    if not data.strip():
        raise TableFileError(_("The file is empty."), code="file_empty")
    extension = extension_of(filename)
    if extension in CSV_EXTENSIONS:
        return read_csv(data, limits=limits)
    if extension in WORKBOOK_EXTENSIONS:
        return read_workbook(data, extension, limits=limits, sheet_name=sheet_name)
    raise TableFileError(_("Only .xlsx, .xls and .ods workbooks and .csv files can be read."), code="file_type")


# --- CSV ---------------------------------------------------------------------------------------


def decode_text(data: bytes) -> str:
    """The text of a CSV file: UTF-8 (with or without a byte-order mark), UTF-16 (Excel's
    "Unicode text", with a byte-order mark or recognised by its zero bytes) or GB18030."""
    if data.startswith(codecs.BOM_UTF8):
        encodings: tuple[str, ...] = ("utf-8-sig",)
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ("utf-16",)
    else:
        sample = data[:4096]
        zeros_even, zeros_odd = sample[0::2].count(0), sample[1::2].count(0)
        encodings = ("utf-8", "gb18030")  # GB18030 covers GBK and GB2312
        # Text in UTF-8 or GB18030 has no zero bytes; UTF-16 without a byte-order mark has
        # one in every ASCII character (commas, digits, line ends): its side tells the order.
        if zeros_odd > zeros_even:
            encodings = ("utf-16-le", *encodings)
        elif zeros_even > zeros_odd:
            encodings = ("utf-16-be", *encodings)
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise TableFileError(
        _(
            "The CSV file is neither UTF-8, UTF-16 nor GB18030 (GBK) text. Save it again as “CSV UTF-8” or as an .xlsx workbook."
        ),
        code="encoding",
    )


def read_csv(data: bytes, *, limits: Limits | None = None) -> Table:
    limits = limits or Limits.from_settings()
    text = decode_text(data)
    if not text.strip():
        raise TableFileError(_("The file is empty."), code="file_empty")
    first_line = text[: text.find("\n")] if "\n" in text else text
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    if first_line.count(";") > max(first_line.count(","), first_line.count("\t")):
        delimiter = ";"
    estimated = text.count("\n") + (0 if text.endswith("\n") else 1)
    if estimated > limits.max_rows:
        raise _too_many_rows(limits)

    def rows() -> Iterator[tuple[int, list]]:
        previous = csv.field_size_limit()
        csv.field_size_limit(limits.max_cell_chars)
        try:
            reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
            number = 0
            while True:
                try:
                    values = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    if "field larger than field limit" in str(exc):
                        raise _cell_too_long(limits, row=number + 1) from exc
                    raise TableFileError(
                        _("The CSV file cannot be read: %(reason)s") % {"reason": str(exc)}, code="unreadable"
                    ) from exc
                number = reader.line_num
                if number > limits.max_rows:
                    raise _too_many_rows(limits)
                if len(values) > limits.max_columns:
                    raise _too_many_columns(limits, row=number)
                yield number, values
        finally:
            csv.field_size_limit(previous)

    return Table(rows=rows(), estimated_rows=estimated)


# --- Workbooks ---------------------------------------------------------------------------------


def _too_many_rows(limits: Limits) -> TableFileError:
    return TableFileError(
        _(
            "The sheet has more than %(max)d rows (blank rows included): delete the empty rows at its end or split it into several files."
        )
        % {"max": limits.max_rows},
        code="too_many_rows",
    )


def _too_many_columns(limits: Limits, *, row: int | None = None) -> TableFileError:
    return TableFileError(
        _("The sheet uses more than %(max)d columns: delete the columns that are not part of the table.")
        % {"max": limits.max_columns},
        code="too_many_columns",
        row=row,
    )


def _cell_too_long(limits: Limits, *, row: int | None = None, column: str = "") -> TableFileError:
    return TableFileError(
        _("A cell holds more than %(max)d characters.") % {"max": limits.max_cell_chars},
        code="cell_too_long",
        row=row,
        column=column,
    )


def _too_large() -> TableFileError:
    return TableFileError(
        _(
            "The workbook unpacks to more data than a table may hold (it may be damaged or made to exhaust the server); nothing was read."
        ),
        code="unpacked_too_large",
    )


def column_letters(index: int) -> str:
    """A, B, … Z, AA … for a 0-based column index."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def column_index(letters: bytes | str) -> int:
    """0-based index of column ``letters`` (A = 0)."""
    index = 0
    for char in letters.upper() if isinstance(letters, str) else letters.decode("ascii").upper():
        index = index * 26 + ord(char) - 64
    return index - 1


_LOCAL = re.compile(r"^(?:\{[^}]*\})?(?:[^:]*:)?")


def _local(name: str) -> str:
    return _LOCAL.sub("", name)


def _xml(archive: zipfile.ZipFile, name: str, limits: Limits) -> ElementTree.Element | None:
    try:
        return ElementTree.fromstring(_inflate(archive, name, limits))
    except KeyError:
        return None


def _inflate(archive: zipfile.ZipFile, name: str, limits: Limits) -> bytes:
    """A small part, inflated within the part limit whatever its header claims."""
    out = bytearray()
    with archive.open(name) as source:
        while chunk := source.read(_CHUNK):
            out += chunk
            if len(out) > limits.max_part_bytes:
                raise _too_large()
    return bytes(out)


def _relationships(archive: zipfile.ZipFile, part: str, limits: Limits) -> dict[str, tuple[str, str]]:
    folder, _sep, base = part.rpartition("/")
    tree = _xml(archive, f"{folder}/_rels/{base}.rels" if folder else f"_rels/{base}.rels", limits)
    found = {}
    for rel in tree if tree is not None else []:
        target = rel.get("Target", "")
        path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        found[rel.get("Id", "")] = (rel.get("Type", ""), path)
    return found


def _xlsx_sheets(archive: zipfile.ZipFile, limits: Limits) -> tuple[list[tuple[str, str]], str | None]:
    """[(sheet name, part)] in workbook order, and the shared-strings part."""
    root = _relationships(archive, "", limits)
    workbook_part = next((p for kind, p in root.values() if kind.endswith("/officeDocument")), "xl/workbook.xml")
    workbook = _xml(archive, workbook_part, limits)
    if workbook is None:
        raise TableFileError(_UNREADABLE)
    rels = _relationships(archive, workbook_part, limits)
    sheets = []
    for element in workbook.iter():
        if _local(element.tag) == "sheet":
            rel_id = next((v for k, v in element.attrib.items() if _local(k) == "id"), "")
            if rel_id in rels:
                sheets.append((element.get("name", ""), rels[rel_id][1]))
    shared = next((p for kind, p in rels.values() if kind.endswith("/sharedStrings")), None)
    return sheets, shared


@dataclass
class _Scan:
    rows: int = 0
    max_row: int = 0
    max_column: int = -1
    longest_text: int = 0
    entries: int = 0


_LAST_ROW = re.compile(rb'<row[^>]*?\sr="(\d+)"')
_ODS_ROWS = re.compile(rb'number-rows-repeated="(\d+)"')
_ODS_COLUMNS = re.compile(rb'number-columns-repeated="(\d+)"([^>]*)>')
_ODS_VALUE = re.compile(rb"office:value|<text:p")
_ODS_ROW_END = b"</table:table-row>"


def _scan_part(
    archive: zipfile.ZipFile, name: str, limits: Limits, *, count: bytes, cell_refs: bool = False, ods: bool = False
) -> _Scan:
    """Stream one part through zlib without parsing it: its real inflated size and ratio,
    how many ``count`` tags it has (rows, shared strings), the longest text between two tags
    and, with ``cell_refs``, the highest row number and column any reference names; with
    ``ods``, the rows and columns that repeated cells with a value stand for."""
    info = archive.getinfo(name)
    scan = _Scan()
    size = 0
    run = 0  # bytes since the last "<"
    digits = len(str(limits.max_rows))
    # The references worth a look, found in one pass over the chunk: a row number with as
    # many digits as the limit or more, a column of two letters or more, and a single letter
    # above the widest column seen so far (rare in an ordinary sheet, so the search is fast).
    big_row = rb"[A-Za-z]*\d{%d}" % digits
    tail = b""
    with archive.open(info) as source:
        while True:
            chunk = source.read(_CHUNK)
            if not chunk:
                break
            size += len(chunk)
            if size > limits.max_part_bytes:
                raise _too_large()
            if size > _RATIO_FLOOR and size > limits.max_compression_ratio * max(info.compress_size, 1):
                raise _too_large()
            # Tags cut in two by the chunk boundary are seen whole in ``tail + chunk``.
            joined = tail + chunk
            scan.entries += joined.count(count) - tail.count(count)
            if cell_refs:
                above = rb"|[%c-Z]\d" % (66 + scan.max_column) if scan.max_column < 25 else b""
                pattern = re.compile(rb'r="(?=%s|[A-Za-z]{2}%s)([A-Za-z]*)(\d*)(")?' % (big_row, above))
                for letters, number, quote in pattern.findall(joined):
                    if quote and len(number) >= digits:
                        scan.max_row = max(scan.max_row, int(number))
                    if not number:
                        continue
                    if len(letters) > 4:  # beyond any spreadsheet: no need to count it exactly
                        scan.max_column = max(scan.max_column, 26**4)
                    elif len(letters) > 1 or (letters.isupper() and letters):
                        scan.max_column = max(scan.max_column, column_index(letters))
                last = joined.rfind(b"<row")
                found = _LAST_ROW.match(joined, last) if last >= 0 else None
                if found:  # rows come in order: the last one names the highest so far
                    scan.max_row = max(scan.max_row, int(found.group(1)))
            if ods:
                # A repeated row or cell with a value is that many rows or cells for calamine;
                # the empty ones LibreOffice adds at the end of every sheet are not.
                for found in _ODS_ROWS.finditer(joined):
                    end = joined.find(_ODS_ROW_END, found.end(), found.end() + 4096)
                    body = joined[found.end() : end if end >= 0 else found.end() + 4096]
                    if end < 0 or _ODS_VALUE.search(body):
                        scan.entries += int(found.group(1)) - 1
                for found in _ODS_COLUMNS.finditer(joined):
                    if not found.group(2).endswith(b"/"):
                        scan.max_column = max(scan.max_column, int(found.group(1)) - 1)
            tail = chunk[-64:]
            for start in range(0, len(chunk), _WINDOW):
                window = chunk[start : start + _WINDOW]
                first = window.find(b"<")
                if first < 0:
                    run += len(window)
                    continue
                scan.longest_text = max(scan.longest_text, run + first)
                run = len(window) - window.rfind(b"<") - 1
    scan.longest_text = max(scan.longest_text, run)
    scan.rows = scan.entries
    return scan


def _check_zip(archive: zipfile.ZipFile, limits: Limits) -> None:
    total = 0
    for info in archive.infolist():
        if info.file_size > limits.max_part_bytes:
            raise _too_large()
        if info.file_size > _RATIO_FLOOR and info.file_size > limits.max_compression_ratio * max(info.compress_size, 1):
            raise _too_large()
        total += info.file_size
    if total > limits.max_total_bytes:
        raise _too_large()


def _guard_xlsx(archive: zipfile.ZipFile, limits: Limits, sheet_name: str) -> tuple[str, bool]:
    """Check the sheet to be read and the shared strings; returns the sheet's name and whether
    a cell may be longer than the limit (so cells must be measured after reading)."""
    sheets, shared = _xlsx_sheets(archive, limits)
    if not sheets:
        raise TableFileError(_UNREADABLE)
    name, part = next(((n, p) for n, p in sheets if n == sheet_name), sheets[0])
    may_be_long = False
    if shared and shared in archive.namelist():
        if archive.getinfo(shared).file_size > limits.max_shared_strings_bytes:
            raise _too_many_strings(limits)
        scan = _scan_part(archive, shared, limits, count=b"<si")
        if scan.entries > limits.max_shared_strings:
            raise _too_many_strings(limits)
        may_be_long |= _check_text(scan, limits)
    try:
        scan = _scan_part(archive, part, limits, count=b"<row", cell_refs=True)
    except KeyError as exc:
        raise TableFileError(_UNREADABLE) from exc
    _check_extent(scan, limits)
    may_be_long |= _check_text(scan, limits)
    return name, may_be_long


def _check_extent(scan: _Scan, limits: Limits) -> None:
    """calamine makes a full grid from the first to the last row and column used: bound its
    rows, its columns and its cells."""
    height = max(scan.rows, scan.max_row)
    if height > limits.max_rows:
        raise _too_many_rows(limits)
    if scan.max_column >= limits.max_columns:
        raise _too_many_columns(limits)
    if height * (scan.max_column + 1) > limits.max_cells:
        raise TableFileError(
            _(
                "The sheet spans more than %(max)d cells (rows × columns, empty ones included): delete the rows and columns that are not part of the table."
            )
            % {"max": limits.max_cells},
            code="too_many_cells",
        )


def _too_many_strings(limits: Limits) -> TableFileError:
    return TableFileError(
        _("The workbook's table of texts has more than %(max)d entries or %(mb)d MB; nothing was read.")
        % {"max": limits.max_shared_strings, "mb": limits.max_shared_strings_bytes // (1024 * 1024)},
        code="too_many_strings",
    )


def _check_text(scan: _Scan, limits: Limits) -> bool:
    """Refuse text that is certainly too long (a character takes at most 4 bytes in UTF-8,
    at least one); True if some may be, to be measured after reading."""
    if scan.longest_text > 4 * limits.max_cell_chars + 64:
        raise _cell_too_long(limits)
    return scan.longest_text > limits.max_cell_chars


def _guard_ods(archive: zipfile.ZipFile, limits: Limits) -> bool:
    try:
        scan = _scan_part(archive, "content.xml", limits, count=b"<table:table-row", ods=True)
    except KeyError as exc:
        raise TableFileError(_UNREADABLE) from exc
    scan.rows = scan.entries
    scan.max_column = max(scan.max_column, 25)  # cells without repetition are not counted: assume Z
    _check_extent(scan, limits)
    return _check_text(scan, limits)


# --- .xls (BIFF8 in an OLE2 compound file) --------------------------------------------------------

_OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_END_OF_CHAIN = 0xFFFFFFFE
_FREE = 0xFFFFFFFF
# BIFF records that hold one cell (row and column in their first four bytes), and the two
# that hold a run of cells of one row (their last column in their last two bytes).
_BIFF_CELLS = frozenset({0x0006, 0x00FD, 0x0203, 0x0204, 0x0205, 0x027E, 0x0201, 0x00D6, 0x0406})
_BIFF_CELL_RUNS = frozenset({0x00BD, 0x00BE})
_BIFF_BOF = frozenset({0x0809, 0x0409, 0x0209, 0x0009})
_BIFF_EOF = 0x000A


def _ole_stream(data: bytes, names: tuple[str, ...]) -> bytes:
    """The first stream called one of ``names`` in the compound file ``data`` (MS-CFB),
    following the sector chains without trusting them: a chain that loops or leaves the file
    makes the file unreadable."""
    import struct

    if not data.startswith(_OLE_SIGNATURE) or len(data) < 512:
        raise TableFileError(_UNREADABLE)
    shift, mini_shift = struct.unpack_from("<HH", data, 0x1E)
    if shift not in (9, 12) or mini_shift != 6:
        raise TableFileError(_UNREADABLE)
    size = 1 << shift
    fat_count, directory_start = struct.unpack_from("<II", data, 0x2C)
    cutoff, mini_fat_start, mini_fat_count, difat_start, difat_count = struct.unpack_from("<5I", data, 0x38)
    sectors = (len(data) - size) // size + 1

    def sector(number: int) -> bytes:
        if number >= sectors:
            raise TableFileError(_UNREADABLE)
        return data[(number + 1) * size : (number + 2) * size]

    fat_sectors = list(struct.unpack_from("<109I", data, 0x4C))
    next_difat, seen = difat_start, 0
    while next_difat < _END_OF_CHAIN - 2 and seen <= difat_count:
        entries = struct.unpack(f"<{size // 4}I", sector(next_difat))
        fat_sectors += entries[:-1]
        next_difat, seen = entries[-1], seen + 1
    fat: list[int] = []
    for number in fat_sectors[: min(fat_count, sectors)]:
        fat += struct.unpack(f"<{size // 4}I", sector(number))

    def chain(start: int, table: list[int], limit: int) -> list[int]:
        found: list[int] = []
        while start != _END_OF_CHAIN and start != _FREE:
            if start >= len(table) or len(found) >= limit:
                raise TableFileError(_UNREADABLE)  # a loop, or a sector outside the file
            found.append(start)
            start = table[start]
        return found

    def read(start: int, length: int) -> bytes:
        return b"".join(sector(n) for n in chain(start, fat, sectors))[:length]

    directory = read(directory_start, sectors * size)
    root_start = root_size = None
    for offset in range(0, len(directory) - 127, 128):
        name_length, kind = struct.unpack_from("<HB", directory, offset + 64)
        start, length = struct.unpack_from("<II", directory, offset + 116)
        name = directory[offset : offset + max(0, min(name_length, 64) - 2)].decode("utf-16-le", "replace")
        if kind == 5:
            root_start, root_size = start, length
        elif kind == 2 and name in names:
            if length >= cutoff:
                return read(start, length)
            if root_start is None:
                raise TableFileError(_UNREADABLE)
            # A small stream lives in the mini stream, in 64-byte sectors.
            mini_fat_bytes = read(mini_fat_start, mini_fat_count * size)
            mini_fat = list(struct.unpack(f"<{len(mini_fat_bytes) // 4}I", mini_fat_bytes))
            mini = read(root_start, root_size or 0)
            parts = [mini[n * 64 : (n + 1) * 64] for n in chain(start, mini_fat, len(mini) // 64 + 1)]
            return b"".join(parts)[:length]
    raise TableFileError(_UNREADABLE)


def _guard_xls(data: bytes, limits: Limits) -> None:
    """calamine makes a grid of every sheet of an .xls from its first to its last cell: a
    5 KB file with a cell in A1 and one in IV65536 would take a gigabyte. Walk the BIFF
    records of the workbook stream (no cell is decoded) and bound each sheet as
    ``_check_extent`` bounds an .xlsx sheet, from the cells themselves (the DIMENSIONS record
    is the writer's claim, not a bound)."""
    import struct

    stream = _ole_stream(data, ("Workbook", "Book", "WORKBOOK", "BOOK"))
    unpack = struct.unpack_from
    scan = _Scan()
    offset, end = 0, len(stream) - 4
    while offset <= end:
        kind, length = unpack("<HH", stream, offset)
        body = offset + 4
        if kind in _BIFF_CELLS and length >= 4:
            row, column = unpack("<HH", stream, body)
            if row > scan.max_row:
                scan.max_row = row
            if column > scan.max_column:
                scan.max_column = column
        elif kind in _BIFF_CELL_RUNS and length >= 6:
            row = unpack("<H", stream, body)[0]
            column = unpack("<H", stream, body + length - 2)[0]
            scan.max_row = max(scan.max_row, row)
            scan.max_column = max(scan.max_column, column)
        elif kind in _BIFF_BOF or kind == _BIFF_EOF:
            scan.rows = scan.max_row + 1 if scan.max_column >= 0 else 0
            _check_extent(scan, limits)  # the sheet (or globals) that just ended
            scan = _Scan()
        offset = body + length
    scan.rows = scan.max_row + 1 if scan.max_column >= 0 else 0
    _check_extent(scan, limits)


def read_workbook(data: bytes, extension: str, *, limits: Limits | None = None, sheet_name: str = "") -> Table:
    from python_calamine import CalamineWorkbook

    limits = limits or Limits.from_settings()
    may_be_long = True
    chosen = sheet_name
    if extension in _ZIP_EXTENSIONS:
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, ValueError, OSError) as exc:
            raise TableFileError(_UNREADABLE) from exc
        with archive:
            try:
                _check_zip(archive, limits)
                if extension == ".ods":
                    may_be_long = _guard_ods(archive, limits)
                else:
                    chosen, may_be_long = _guard_xlsx(archive, limits, sheet_name)
            except TableFileError:
                raise
            except (zipfile.BadZipFile, KeyError, ValueError, ElementTree.ParseError, OSError, EOFError) as exc:
                raise TableFileError(_UNREADABLE) from exc
    elif extension == ".xls":
        try:
            _guard_xls(data, limits)
        except TableFileError:
            raise
        except (ValueError, UnicodeDecodeError, IndexError) as exc:  # struct.error is a ValueError
            raise TableFileError(_UNREADABLE) from exc
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        names = workbook.sheet_names
        if not names:
            raise TableFileError(_UNREADABLE)
        sheet = workbook.get_sheet_by_name(chosen if chosen in names else names[0])
    except TableFileError:
        raise
    except Exception as exc:  # calamine's errors (CalamineError, XmlError, ZipError …) and panics
        raise TableFileError(_UNREADABLE) from exc
    height, width = sheet.total_height, sheet.total_width
    if height > limits.max_rows:
        raise _too_many_rows(limits)
    if width > limits.max_columns:
        raise _too_many_columns(limits)
    offset = sheet.start[1] if sheet.start else 0
    pad = [None] * offset

    if not may_be_long and not offset:
        # Nothing to measure or pad: calamine's rows as they come, without a step per row here.
        return Table(rows=enumerate(sheet.iter_rows(), start=1), estimated_rows=height, sheet_name=sheet.name)

    def rows() -> Iterator[tuple[int, list]]:
        cap = limits.max_cell_chars
        for number, values in enumerate(sheet.iter_rows(), start=1):
            if may_be_long:
                for at, value in enumerate(values):
                    if type(value) is str and len(value) > cap:
                        raise _cell_too_long(limits, row=number, column=column_letters(at + offset))
            yield number, (pad + values if offset else values)

    return Table(rows=rows(), estimated_rows=height, sheet_name=sheet.name)


def is_blank(values) -> bool:
    for value in values:
        if value is not None and (not isinstance(value, str) or value.strip()):
            return False
    return True
