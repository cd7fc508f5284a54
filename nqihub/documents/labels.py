"""Instrument QR label sheets (计量器具标识): A4, 3 × 8 labels a page.

Each label carries the instrument's platform code as text and as a QR code of its public
check URL (``/verify/<platform_code>/``, see :func:`nqihub.documents.pdf.public_check_url`),
the instrument name, model, factory number, the enterprise, and a red "强检" mark when the
instrument is subject to mandatory verification.

The default geometry is the common 24-up A4 label stock (63.5 × 33.9 mm, 3 × 8, the size of
Avery L7159 and the Chinese A4 24-格 sheets); on plain paper a light outline shows where to cut.

The sheet consumes its input once, page by page: pass an iterator (``queryset.iterator()``)
with ``select_related("organization", "catalogue_item")`` and thousands of instruments render
without a query per label or the whole list in memory as model objects.

Label text is Chinese whatever the reader's interface language: labels are stuck on
instruments in Chinese workplaces and read by inspectors.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from io import BytesIO

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics

from .pdf import CJK_FONT, draw_qr, draw_text, fit_font_size, new_canvas, public_check_url, save

DEFAULT_TITLE = "计量器具标识"
MANDATORY_MARK = "强检"
SCAN_HINT = "扫码查验"
FACTORY_NUMBER_CAPTION = "出厂编号"
MODEL_CAPTION = "型号"
EMPTY_SHEET_TEXT = "没有符合条件的计量器具。"

MUTED = colors.Color(0.35, 0.35, 0.35)
OUTLINE = colors.Color(0.78, 0.78, 0.78)
MARK_RED = colors.Color(0.78, 0.08, 0.08)


@dataclass(frozen=True)
class LabelLayout:
    """Where the labels sit on the page (points; reportlab's origin is bottom left)."""

    columns: int = 3
    rows: int = 8
    label_width: float = 63.5 * mm
    label_height: float = 33.9 * mm
    margin_left: float = 7.2 * mm
    margin_top: float = 12.9 * mm
    gap_x: float = 2.5 * mm
    gap_y: float = 0.0
    page_size: tuple[float, float] = A4
    outline: bool = True  # a light cut line for plain paper

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    def origin(self, index: int) -> tuple[float, float]:
        """Lower-left corner of the ``index``-th label on a page (row by row, top first)."""
        row, column = divmod(index, self.columns)
        x = self.margin_left + column * (self.label_width + self.gap_x)
        y = self.page_size[1] - self.margin_top - (row + 1) * self.label_height - row * self.gap_y
        return x, y


DEFAULT_LAYOUT = LabelLayout()


@dataclass(frozen=True)
class LabelData:
    """What one label shows; built from an Instrument, or directly for previews and tests."""

    code: str
    name: str
    factory_number: str
    enterprise: str
    mandatory: bool = False
    model_spec: str = ""

    @classmethod
    def from_instrument(cls, instrument) -> LabelData:
        # organization must be select_related by the caller: no query per label here.
        return cls(
            code=instrument.platform_code,
            name=instrument.name,
            factory_number=instrument.factory_number,
            enterprise=instrument.organization.name,
            mandatory=bool(instrument.is_mandatory),
            model_spec=instrument.model_spec or "",
        )


def label_check_url(code: str, request=None) -> str:
    """What a label's QR code encodes: the public check URL of the platform code."""
    return public_check_url(code, request)


def _as_label(item) -> LabelData:
    return item if isinstance(item, LabelData) else LabelData.from_instrument(item)


def _draw_label(canvas, label: LabelData, x: float, y: float, layout: LabelLayout, url: str) -> None:
    w, h = layout.label_width, layout.label_height
    pad = 2.0 * mm
    if layout.outline:
        canvas.setStrokeColor(OUTLINE)
        canvas.setLineWidth(0.4)
        canvas.roundRect(x + 0.4 * mm, y + 0.4 * mm, w - 0.8 * mm, h - 0.8 * mm, 2 * mm, stroke=1, fill=0)

    # Left: the QR code (2-module quiet zone inside its square; the label is white around it)
    # and the platform code under it.
    code_band = 3.4 * mm
    qr_size = min(h - 2 * 1.2 * mm - code_band, w * 0.44)
    qr_x = x + 1.2 * mm
    qr_y = y + h - 1.2 * mm - qr_size
    draw_qr(canvas, url, qr_x, qr_y, qr_size, quiet_zone=2)
    code_size = fit_font_size(label.code, qr_size - 1 * mm, max_size=7.5)
    code_width = pdfmetrics.stringWidth(label.code, CJK_FONT, code_size)
    canvas.setFillColor(colors.black)
    canvas.setFont(CJK_FONT, code_size)
    canvas.drawString(
        qr_x + (qr_size - code_width) / 2, y + 1.2 * mm + (code_band - code_size * 0.72) / 2 + 0.3 * mm, label.code
    )

    # Right: enterprise, name, model, factory number; the mark and hint at the bottom.
    tx = qr_x + qr_size + 0.8 * mm
    tw = x + w - pad - tx
    top = y + h - pad
    top = draw_text(canvas, label.enterprise, tx, top, tw, font_size=6, leading=7.2, max_lines=2, color=MUTED)
    top -= 1.0 * mm
    top = draw_text(canvas, label.name, tx, top, tw, font_size=9, leading=10.6, max_lines=2, bold=True)
    top -= 0.6 * mm
    if label.model_spec:
        top = draw_text(
            canvas, f"{MODEL_CAPTION} {label.model_spec}", tx, top, tw, font_size=6.2, leading=7.4, max_lines=1
        )
    draw_text(
        canvas,
        f"{FACTORY_NUMBER_CAPTION} {label.factory_number}",
        tx,
        top,
        tw,
        font_size=6.2,
        leading=7.4,
        max_lines=2,
        break_anywhere=True,
    )

    bottom = y + pad
    if label.mandatory:
        mark_size = 7.5
        mark_w = pdfmetrics.stringWidth(MANDATORY_MARK, CJK_FONT, mark_size) + 2.4 * mm
        mark_h = mark_size + 1.6 * mm
        canvas.setStrokeColor(MARK_RED)
        canvas.setFillColor(MARK_RED)
        canvas.setLineWidth(0.8)
        canvas.roundRect(tx, bottom, mark_w, mark_h, 0.8 * mm, stroke=1, fill=0)
        draw_text(
            canvas,
            MANDATORY_MARK,
            tx,
            bottom + mark_h - 0.8 * mm,
            mark_w,
            font_size=mark_size,
            color=MARK_RED,
            align="center",
            bold=True,
        )
    hint_size = 5.5
    hint_w = pdfmetrics.stringWidth(SCAN_HINT, CJK_FONT, hint_size)
    canvas.setFillColor(MUTED)
    canvas.setFont(CJK_FONT, hint_size)
    canvas.drawString(x + w - pad - hint_w, bottom + 0.6 * mm, SCAN_HINT)


def _draw_page_header(canvas, title: str, note: str, page: int, layout: LabelLayout) -> None:
    """Title, note and page number in the top margin (the label stock's waste strip)."""
    width, height = layout.page_size
    y = height - layout.margin_top / 2 - 2.5
    canvas.setFillColor(MUTED)
    canvas.setFont(CJK_FONT, 7.5)
    canvas.drawString(layout.margin_left, y, title)
    canvas.drawRightString(width - layout.margin_left, y, f"第 {page} 页")
    if note:
        canvas.setFillColor(MARK_RED)
        canvas.setFont(CJK_FONT, 7.5)
        canvas.drawCentredString(width / 2, y, note)


def render_label_sheet(
    instruments: Iterable,
    *,
    title: str = DEFAULT_TITLE,
    note: str = "",
    request=None,
    layout: LabelLayout = DEFAULT_LAYOUT,
) -> bytes:
    """An A4 PDF of labels for ``instruments`` (Instrument objects with ``organization``
    loaded, or :class:`LabelData`), ``layout.per_page`` to a page, in the order given.

    ``note`` is printed at the top of every page (e.g. that the selection was capped);
    ``request`` makes the QR URLs absolute when ``NQI_PUBLIC_BASE_URL`` is not set. The same
    input gives the same bytes.
    """
    buffer = BytesIO()
    canvas = new_canvas(buffer, title=title, subject=DEFAULT_TITLE, keywords="NQI Hub; 计量器具; 标识")
    page = 0
    index = 0
    for item in instruments:
        label = _as_label(item)
        if index == 0:
            page += 1
            _draw_page_header(canvas, title, note, page, layout)
        x, y = layout.origin(index)
        _draw_label(canvas, label, x, y, layout, label_check_url(label.code, request))
        index += 1
        if index == layout.per_page:
            canvas.showPage()
            index = 0
    if page == 0:  # nothing to print: one page that says so, never an empty (invalid) PDF
        _draw_page_header(canvas, title, note, 1, layout)
        canvas.setFillColor(colors.black)
        canvas.setFont(CJK_FONT, 12)
        canvas.drawString(layout.margin_left, layout.page_size[1] - layout.margin_top - 12 * mm, EMPTY_SHEET_TEXT)
        canvas.showPage()
    elif index:
        canvas.showPage()
    save(canvas)
    return buffer.getvalue()
