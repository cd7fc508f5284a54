"""PDF building blocks shared by labels, certificates and notices.

* The project ships its own CJK font (``fonts/wqy-microhei-subset.ttf``, TrueType) and every
  document embeds the glyphs it uses, so a PDF renders on a machine with no CJK font at all.
  Use :data:`CJK_FONT` (after :func:`register_fonts`, which :func:`new_canvas` calls).
* Chinese has no spaces: :func:`wrap_text` breaks by character width, keeps Latin words and
  numbers whole where it can and applies the basic line-breaking rules (no line starts with
  ，。）》 and none ends with （《).
* :func:`draw_qr` draws a QR code as vector paths with reportlab's own encoder (no service).
* :func:`public_check_url` is the one place that builds the public check URL ``/verify/<code>/``
  that QR codes carry.
* Documents are deterministic: the same input gives the same bytes (``invariant=1``: fixed
  creation date and document ID), so tests compare renders and a re-issued document is
  byte-identical.
"""

from __future__ import annotations

import itertools
import re
import threading
import unicodedata
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from urllib.parse import quote

from reportlab.graphics.barcode import qrencoder
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

FONT_DIR = Path(__file__).resolve().parent / "fonts"
CJK_FONT_FILE = FONT_DIR / "wqy-microhei-subset.ttf"
CJK_FONT = "NQI-CJK"  # the name documents use with setFont / ParagraphStyle
PRODUCER = "NQI Hub"
VERIFY_PATH = "/verify/{code}/"

_font_lock = threading.Lock()
_font_registered = False
# reportlab keeps one parsed font file per process (the registered ``TTFont``), and writing a
# document's font subsets — at ``save``, from ``TTFont.addObjects`` — moves a read position
# inside that shared file: two threads saving at once (gunicorn's threads, a job beside a
# request) read each other's bytes and fail with a KeyError or IndexError in the subsetting,
# or worse, embed wrong glyphs. Drawing is safe (each document keeps its own subset state);
# saving goes through :func:`save`, which holds this lock while the subsets are written.
_embed_lock = threading.Lock()


def register_fonts() -> str:
    """Register the shipped CJK font with reportlab once per process (thread-safe, lazy: the
    3 MB font is parsed on first use, not at import). Returns the registered font name."""
    global _font_registered
    if _font_registered:
        return CJK_FONT
    with _font_lock:
        if not _font_registered:
            from reportlab.lib.fonts import addMapping

            pdfmetrics.registerFont(TTFont(CJK_FONT, str(CJK_FONT_FILE)))
            # One face: <b>/<i> in Paragraph markup map to it instead of failing.
            for bold in (0, 1):
                for italic in (0, 1):
                    addMapping(CJK_FONT, bold, italic, CJK_FONT)
            _font_registered = True
    return CJK_FONT


def missing_characters(text: str, font_name: str = CJK_FONT) -> set[str]:
    """Characters of ``text`` the font has no glyph for (they would print as a box); lets a
    document refuse or warn instead of printing a certificate with a hole in a name."""
    register_fonts()
    char_to_glyph = pdfmetrics.getFont(font_name).face.charToGlyph
    return {c for c in text if not c.isspace() and ord(c) not in char_to_glyph}


# --- public check URL ---------------------------------------------------------------------


def public_check_url(code: str, request=None) -> str:
    """The public check URL ``/verify/<code>/`` that QR codes on documents carry.

    Absolute when ``settings.NQI_PUBLIC_BASE_URL`` is set (e.g. ``https://nqi.nmg.gov.cn``;
    the address the public reaches, which the server behind a proxy cannot guess); otherwise
    absolute from ``request`` when one is given; otherwise relative (a QR code carrying a
    relative URL cannot be opened by a phone, so production sets the base URL).
    """
    from django.conf import settings

    path = VERIFY_PATH.format(code=quote(str(code), safe=""))
    base = (getattr(settings, "NQI_PUBLIC_BASE_URL", "") or "").strip()
    if base:
        return base.rstrip("/") + path
    if request is not None:
        return request.build_absolute_uri(path)
    return path


# --- canvas and documents ------------------------------------------------------------------


def new_canvas(
    buffer,
    *,
    title: str,
    subject: str = "",
    author: str = PRODUCER,
    keywords: str = "",
    pagesize=A4,
) -> Canvas:
    """A reportlab canvas set up for a deterministic, Chinese-tagged, compressed document
    with the CJK font registered and selected."""
    register_fonts()
    canvas = Canvas(
        buffer,
        pagesize=pagesize,
        invariant=1,
        pageCompression=1,
        lang="zh-CN",
        initialFontName=CJK_FONT,
        initialFontSize=10,
    )
    canvas.setTitle(title)
    canvas.setAuthor(author)
    canvas.setSubject(subject)
    canvas.setCreator(PRODUCER)
    if keywords:
        canvas.setKeywords(keywords)
    canvas.setFont(CJK_FONT, 10)
    return canvas


def save(canvas: Canvas) -> None:
    """Finish a canvas document (``canvas.save()``) with the embedded font's subsets written
    by one thread at a time (see ``_embed_lock``). Every canvas made by :func:`new_canvas` is
    saved through here."""
    with _embed_lock:
        canvas.save()


def document_template(buffer, **kwargs):
    """A platypus ``SimpleDocTemplate`` (for flowing documents: certificates, notices) that is
    deterministic and tagged Chinese. Pass ``title=`` and margins as usual; its ``build``
    writes the font subsets as ``canvas.save`` does, so call it holding ``_embed_lock`` (as
    :func:`save` does) when threads may render at once."""
    from reportlab.platypus import SimpleDocTemplate

    register_fonts()
    kwargs.setdefault("pagesize", A4)
    kwargs.setdefault("author", PRODUCER)
    kwargs.setdefault("creator", PRODUCER)
    kwargs.setdefault("lang", "zh-CN")
    kwargs.setdefault("initialFontName", CJK_FONT)  # no stray, unembedded Helvetica
    return SimpleDocTemplate(buffer, invariant=1, pageCompression=1, **kwargs)


def paragraph_style(
    name: str = "body", *, font_size: float = 10.5, leading: float | None = None, **kwargs
) -> ParagraphStyle:
    """A platypus paragraph style in the CJK font that wraps Chinese between any characters
    (``wordWrap="CJK"``)."""
    register_fonts()
    return ParagraphStyle(
        name,
        fontName=CJK_FONT,
        fontSize=font_size,
        leading=leading if leading is not None else round(font_size * 1.5, 2),
        wordWrap="CJK",
        **kwargs,
    )


def pdf_response(data: bytes, filename: str, *, inline: bool = False, ascii_filename: str = ""):
    """An HttpResponse for a PDF; ``filename`` may be Chinese (RFC 6266 ``filename*``), with
    ``ascii_filename`` for the old clients that read only ``filename``."""
    from django.http import HttpResponse

    response = HttpResponse(data, content_type="application/pdf")
    ascii_name = ascii_filename or filename.encode("ascii", "ignore").decode().strip("-_ ") or "document.pdf"
    ascii_name = ascii_name.replace('"', "").replace("\\", "")
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    response["Content-Length"] = str(len(data))
    return response


def render(draw, *, title: str, **canvas_kwargs) -> bytes:
    """Render a one-off canvas document: ``draw(canvas)`` draws, the bytes come back."""
    buffer = BytesIO()
    canvas = new_canvas(buffer, title=title, **canvas_kwargs)
    draw(canvas)
    save(canvas)
    return buffer.getvalue()


# --- text --------------------------------------------------------------------------------

# Characters that must not start a line (they hang on the line before) and must not end one.
NO_LINE_START = frozenset("，。、；：？！）》」』】〕〉”’…‥·—～%‰℃,.;:?!)]}、〃々ー")
NO_LINE_END = frozenset("（《「『【〔〈“‘([{￥$")


def _is_wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


def _tokens(text: str) -> list[str]:
    """Break opportunities: each wide (CJK) character alone, each space alone, and runs of
    other characters (Latin words, numbers such as 0.5, codes such as JL3F…) kept together."""
    tokens: list[str] = []
    run = ""
    for char in text:
        if char.isspace() or _is_wide(char):
            if run:
                tokens.append(run)
                run = ""
            tokens.append(" " if char.isspace() else char)
        else:
            run += char
    if run:
        tokens.append(run)
    return tokens


def _split_long(token: str, width: float, measure) -> list[str]:
    """``token`` cut into pieces that each fit ``width`` (at least one character each)."""
    parts: list[str] = []
    current = ""
    for char in token:
        if current and measure(current + char) > width:
            parts.append(current)
            current = char
        else:
            current += char
    if current:
        parts.append(current)
    return parts


def _ellipsize(line: str, width: float, measure, ellipsis: str = "…") -> str:
    while line and measure(line.rstrip() + ellipsis) > width:
        line = line[:-1]
    return line.rstrip() + ellipsis


def wrap_text(
    text: str,
    width: float,
    *,
    font_size: float,
    font_name: str = CJK_FONT,
    max_lines: int | None = None,
    break_anywhere: bool = False,
) -> list[str]:
    """Lines of ``text`` that each fit ``width`` points in ``font_name`` at ``font_size``.

    Breaks between any two CJK characters and at spaces; inside a Latin word or number only
    when it alone is wider than the line. A closing mark (，。）) never starts a line: the
    character before it goes down with it. An opening mark (（《) never ends one. Explicit
    newlines are kept. With ``max_lines`` the last kept line ends in "…" when text was cut.
    ``break_anywhere`` breaks between any two characters (serial numbers, codes).
    """
    register_fonts()
    font = pdfmetrics.getFont(font_name)

    def measure(s: str) -> float:
        return font.stringWidth(s, font_size)

    lines: list[str] = []

    def emit(tokens: list[str]) -> None:
        lines.append("".join(tokens).rstrip())

    for paragraph in str(text).replace("\r\n", "\n").split("\n"):
        line: list[str] = []
        used = 0.0
        for token in list(paragraph) if break_anywhere else _tokens(paragraph):
            if token.isspace():
                token = " "
            token_width = measure(token)
            if token == " ":
                if line:
                    line.append(token)
                    used += token_width
                continue
            if used + token_width <= width:
                line.append(token)
                used += token_width
                continue
            while line and line[-1] == " ":
                used -= measure(line.pop())
            if line and token[0] in NO_LINE_START:
                if len(line) > 1:
                    carried = line.pop()
                    emit(line)
                    line = [carried, token]
                    used = measure(carried + token)
                else:  # nothing to carry: let the mark hang past the edge
                    emit([*line, token])
                    line, used = [], 0.0
                continue
            if line:
                carried_open = [line.pop()] if len(line) > 1 and line[-1][-1] in NO_LINE_END else []
                emit(line)
                line = carried_open
                used = measure("".join(line))
            if used + token_width <= width:
                line.append(token)
                used += token_width
                continue
            # Wider than a whole line (a long code or number): cut it by character.
            pieces = _split_long("".join(line) + token, width, measure)
            for piece in pieces[:-1]:
                lines.append(piece)
            line = [pieces[-1]]
            used = measure(pieces[-1])
        emit(line)
    while len(lines) > 1 and not lines[-1]:
        lines.pop()
    if max_lines is not None and len(lines) > max_lines:
        kept = lines[:max_lines]
        kept[-1] = _ellipsize(kept[-1], width, measure)
        return kept
    return lines


def fit_font_size(
    text: str, width: float, *, max_size: float, min_size: float = 4.0, font_name: str = CJK_FONT
) -> float:
    """The largest size (in 0.25 pt steps, at most ``max_size``) at which ``text`` fits on one
    line of ``width`` points; ``min_size`` if it never does."""
    register_fonts()
    natural = pdfmetrics.stringWidth(text, font_name, max_size)
    if natural <= width or not natural:
        return max_size
    size = max_size * width / natural
    return max(min_size, int(size * 4) / 4)


def draw_text(
    canvas: Canvas,
    text: str,
    x: float,
    top: float,
    width: float,
    *,
    font_size: float,
    leading: float | None = None,
    max_lines: int | None = None,
    font_name: str = CJK_FONT,
    color=colors.black,
    align: str = "left",
    bold: bool = False,
    break_anywhere: bool = False,
) -> float:
    """Draw ``text`` wrapped to ``width`` with its first line's top at ``top``; returns the y
    below the last line drawn. ``bold`` thickens the single-weight font with a thin stroke."""
    leading = leading if leading is not None else font_size * 1.25
    lines = wrap_text(
        text, width, font_size=font_size, font_name=font_name, max_lines=max_lines, break_anywhere=break_anywhere
    )
    if not lines or lines == [""]:
        return top
    # Colour, line width and text render mode are graphics state: kept inside q … Q so they
    # never leak into what is drawn next.
    canvas.saveState()
    text_object = canvas.beginText()
    text_object.setFont(font_name, font_size, leading)
    text_object.setFillColor(color)
    if bold:
        text_object.setTextRenderMode(2)  # fill and stroke
        canvas.setStrokeColor(color)
        canvas.setLineWidth(font_size * 0.035)
    baseline = top - font_size * 0.8  # hanzi ink spans -0.09 to 0.78 em in this font
    for i, line in enumerate(lines):
        y = baseline - i * leading
        if align == "left":
            text_object.setTextOrigin(x, y)
        else:
            line_width = pdfmetrics.stringWidth(line, font_name, font_size)
            offset = (width - line_width) / (2 if align == "center" else 1)
            text_object.setTextOrigin(x + offset, y)
        text_object.textOut(line)
    canvas.drawText(text_object)
    canvas.restoreState()
    return top - len(lines) * leading


# --- QR codes ----------------------------------------------------------------------------
#
# reportlab's encoder picks the mask by building and scoring all eight masked symbols in
# plain Python (about 10 ms a code: 20 s for a sheet of 2,000 labels). _FastQRCode scores the
# same eight candidates with the same rules (ISO/IEC 18004 penalties as reportlab implements
# them) on rows and columns held as integers and strings, then lets reportlab build the chosen
# symbol: the modules are exactly reportlab's (a test compares them), about 5 times faster.

_RULE3_PATTERN = "10111010000"
_RUN = re.compile(r"0{5,}|1{5,}")


class _MaskGrid:
    """Per QR version: the data-module positions and, per mask, those positions it inverts,
    as one integer per row and per column (bit n-1-j is column j / row j)."""

    def __init__(self, count: int, positions: list[tuple[int, int]]):
        self.count = count
        self.rows: list[list[int]] = []
        self.cols: list[list[int]] = []
        for mask_no in range(8):
            mask = qrencoder.QRUtil.getMask(mask_no)
            rows = [0] * count
            cols = [0] * count
            for col, row in positions:
                if mask(row, col):
                    rows[row] |= 1 << (count - 1 - col)
                    cols[col] |= 1 << (count - 1 - row)
            self.rows.append(rows)
            self.cols.append(cols)


_mask_grids: dict[int, _MaskGrid] = {}


def _score(rows: list[int], cols: list[int], count: int) -> int:
    """reportlab's QRUtil.getLostPoint on integer rows and columns."""
    width = f"0{count}b"
    row_strings = [format(r, width) for r in rows]
    col_strings = [format(c, width) for c in cols]
    score = 0
    for line in (*row_strings, *col_strings):
        for match in _RUN.finditer(line):  # rule 1: runs of five or more, 3 + (length - 5)
            score += len(match.group()) - 2
    # Rule 3: finder-like 1:1:3:1:1 followed by light, 40 each. Along rows only, as reportlab
    # scores it (its column pass compares a tuple with a list and never matches).
    for line in row_strings:
        j, limit = 0, count - len(_RULE3_PATTERN)
        while True:
            j = line.find(_RULE3_PATTERN, j)
            if j < 0 or j >= limit:
                break
            score += 40
            j += len(_RULE3_PATTERN)
    pairs = (1 << (count - 1)) - 1  # rule 2: 2×2 blocks of one colour, 3 each
    for upper, lower in itertools.pairwise(rows):
        same = ~(upper ^ lower)
        block = same & (same >> 1) & ~(upper ^ (upper >> 1)) & pairs
        score += 3 * block.bit_count()
    dark = sum(r.bit_count() for r in rows)  # rule 4: balance of dark and light
    score += 10 * (abs(100 * dark // (count * count) - 50) // 5)
    return score


class _FastQRCode(qrencoder.QRCode):
    def getBestMaskPattern(self):  # reportlab's method name
        self.makeImpl(True, 0)
        count = self.moduleCount
        grid = _mask_grids.get(self.version)
        if grid is None:
            grid = _mask_grids.setdefault(self.version, _MaskGrid(count, list(self.dataPosIterator())))
        width = count - 1
        rows = [sum(1 << (width - j) for j, dark in enumerate(row) if dark) for row in self.modules]
        cols = [sum(1 << (width - i) for i, dark in enumerate(col) if dark) for col in zip(*self.modules, strict=True)]
        # Unmask (mask 0 was applied), then try each mask.
        base_rows = [r ^ m for r, m in zip(rows, grid.rows[0], strict=True)]
        base_cols = [c ^ m for c, m in zip(cols, grid.cols[0], strict=True)]
        best, best_score = 0, None
        for mask_no in range(8):
            score = _score(
                [r ^ m for r, m in zip(base_rows, grid.rows[mask_no], strict=True)],
                [c ^ m for c, m in zip(base_cols, grid.cols[mask_no], strict=True)],
                count,
            )
            if best_score is None or score < best_score:
                best, best_score = mask_no, score
        return best


@lru_cache(maxsize=4096)
def qr_matrix(data: str, level: str = "M") -> tuple[tuple[bool, ...], ...]:
    """The QR modules (rows of dark/light) for ``data``, encoded as UTF-8 bytes. Level M
    (15 % recovery) survives a scuffed label. Cached: reprinting the same labels is free."""
    qr = _FastQRCode(None, getattr(qrencoder.QRErrorCorrectLevel, level))
    qr.addData(qrencoder.QR8bitByte(data))
    qr.make()
    return tuple(tuple(bool(m) for m in row) for row in qr.modules)


def draw_qr(
    canvas: Canvas,
    data: str,
    x: float,
    y: float,
    size: float,
    *,
    level: str = "M",
    quiet_zone: int = 4,
    color=colors.black,
) -> float:
    """Draw the QR code of ``data`` in the ``size``×``size`` square whose lower-left corner is
    (x, y), ``quiet_zone`` modules of white included (4 by the standard; 2 is enough on a
    white label). Vector: one filled path of row runs in module units. Returns the module
    size in points."""
    matrix = qr_matrix(data, level)
    count = len(matrix)
    module = size / (count + 2 * quiet_zone)
    red, green, blue = color.rgb()
    ops = [
        "q",
        f"{red:.3f} {green:.3f} {blue:.3f} rg",
        f"{module:.5f} 0 0 {module:.5f} {x + quiet_zone * module:.3f} {y + quiet_zone * module:.3f} cm",
    ]
    for r, row in enumerate(matrix):
        y_row = count - 1 - r
        c = 0
        while c < count:
            if row[c]:
                start = c
                while c < count and row[c]:
                    c += 1
                # Rows overlap by 0.02 module so renderers draw no hairline seams between them.
                ops.append(f"{start} {y_row - 0.02:g} {c - start} 1.02 re")
            else:
                c += 1
    ops.append("f")
    ops.append("Q")
    canvas.addLiteral("\n".join(ops))
    return module
