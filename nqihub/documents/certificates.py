"""检定证书 and 检定结果通知书: the A4 documents an institution issues for a verification result.

The text is Chinese whatever the reader's interface language (they are Chinese official
documents). The shipped CJK font is embedded (see :mod:`nqihub.documents.pdf`), so the PDF
reads the same on a machine with no CJK font; the QR code in the top right corner carries the
public check URL ``/verify/<public code>/``. The same data gives the same bytes.

:class:`CertificateData` holds everything printed, so previews and tests render without a
database; the metrology module builds it from its issued document
(``nqihub.metrology.services.documents.render_document``) and renders it here.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from io import BytesIO

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics

from .pdf import CJK_FONT, draw_qr, draw_text, fit_font_size, new_canvas, public_check_url, save, wrap_text

CERTIFICATE_TITLE = "检定证书"
NOTICE_TITLE = "检定结果通知书"
CERTIFICATE_SUBTITLE = "VERIFICATION CERTIFICATE"
NOTICE_SUBTITLE = "NOTICE OF VERIFICATION RESULT"
PASS_TEXT = "合格"
FAIL_TEXT = "不合格"
NO_EXPIRY_TEXT = "不设有效期（首次检定，失准报废）"
NONE_TEXT = "—"
SCAN_HINT = "扫码查验真伪"
CERTIFICATE_FOOTNOTES = (
    "1. 本证书仅对所检计量器具在检定时的计量性能负责。",
    "2. 本证书无检定专用章无效；涂改无效。",
    "3. 证书真伪及当前状态请扫描二维码或访问查验网址核验。",
)
NOTICE_FOOTNOTES = (
    "1. 经检定不合格的计量器具不得使用，修理后须重新申请检定。",
    "2. 本通知书无检定专用章无效；涂改无效。",
    "3. 通知书真伪请扫描二维码或访问查验网址核验。",
)

INK = colors.Color(0.1, 0.1, 0.12)
MUTED = colors.Color(0.38, 0.38, 0.4)
RULE = colors.Color(0.55, 0.55, 0.58)
FAINT = colors.Color(0.93, 0.94, 0.96)
STAMP_RED = colors.Color(0.8, 0.1, 0.1)
FAIL_RED = colors.Color(0.75, 0.08, 0.08)

PAGE_W, PAGE_H = A4
MARGIN = 20 * mm
TOP = 15 * mm
BOTTOM = 12 * mm  # the footer's baseline band
CONTENT_W = PAGE_W - 2 * MARGIN


@dataclass(frozen=True)
class CertificateData:
    """What one certificate or notice prints."""

    kind: str  # "certificate" or "notice"
    number: str
    public_code: str
    institution: str
    client: str
    instrument_name: str
    model_spec: str
    factory_number: str
    manufacturer: str
    platform_code: str
    regulation: str
    catalogue_item: str
    passed: bool
    verified_on: datetime.date
    valid_until: datetime.date | None
    issued_on: datetime.date
    verifier: str
    checker: str
    approver: str
    fee: Decimal = Decimal("0")
    waived: Decimal = Decimal("0")
    readings: str = ""
    remarks: str = ""
    failure_reasons: str = ""
    measuring_range: str = ""
    accuracy_class: str = ""
    supersedes: str = ""  # the number of the document this one replaces
    no_expiry: bool = False  # a pass with no validity limit (first verification, until scrapped)

    @property
    def is_certificate(self) -> bool:
        return self.kind == "certificate"

    @property
    def title(self) -> str:
        return CERTIFICATE_TITLE if self.is_certificate else NOTICE_TITLE


def chinese_date(day: datetime.date | None) -> str:
    return f"{day.year}年{day.month:02d}月{day.day:02d}日" if day else NONE_TEXT


def yuan(amount) -> str:
    return f"{Decimal(amount or 0).quantize(Decimal('0.01')):,.2f} 元"


# --- drawing ---------------------------------------------------------------------------------


class _Writer:
    """Draws top to bottom, starting a continuation page when the text reaches the bottom."""

    def __init__(self, canvas, data: CertificateData, url: str):
        self.canvas = canvas
        self.data = data
        self.url = url
        self.page = 1
        self.y = PAGE_H - TOP
        self.bottom = BOTTOM + 14 * mm  # above the footer band

    def footer(self) -> None:
        c = self.canvas
        c.saveState()
        c.setStrokeColor(RULE)
        c.setLineWidth(0.5)
        c.line(MARGIN, BOTTOM + 8 * mm, PAGE_W - MARGIN, BOTTOM + 8 * mm)
        c.setFillColor(MUTED)
        c.setFont(CJK_FONT, 7.5)
        c.drawString(MARGIN, BOTTOM + 3.5 * mm, f"{self.data.title}  编号 {self.data.number}")
        c.drawRightString(PAGE_W - MARGIN, BOTTOM + 3.5 * mm, f"第 {self.page} 页")
        c.drawString(MARGIN, BOTTOM - 0.5 * mm, f"查验网址 {self.url}")
        c.restoreState()

    def new_page(self) -> None:
        self.footer()
        self.canvas.showPage()
        self.page += 1
        self.y = PAGE_H - TOP
        draw_text(
            self.canvas,
            f"{self.data.title}（续页）  编号 {self.data.number}",
            MARGIN,
            self.y,
            CONTENT_W,
            font_size=10,
            color=MUTED,
        )
        self.y -= 10 * mm

    def need(self, height: float) -> None:
        if self.y - height < self.bottom:
            self.new_page()

    def section(self, heading: str, text: str, *, color=INK) -> None:
        """A heading and wrapped text, flowing onto further pages when long."""
        self.need(18 * mm)
        self.y = draw_text(self.canvas, heading, MARGIN, self.y, CONTENT_W, font_size=11, bold=True, color=color)
        self.y -= 1.5 * mm
        size, leading = 10, 15
        for line in wrap_text(text or NONE_TEXT, CONTENT_W - 4 * mm, font_size=size):
            self.need(leading)
            self.canvas.setFillColor(INK)
            self.canvas.setFont(CJK_FONT, size)
            self.canvas.drawString(MARGIN + 4 * mm, self.y - size * 0.8, line)
            self.y -= leading
        self.y -= 3 * mm


def _draw_header(w: _Writer) -> None:
    c, data = w.canvas, w.data
    qr_size = 30 * mm
    qr_x, qr_y = PAGE_W - MARGIN - qr_size, PAGE_H - TOP - qr_size
    draw_qr(c, w.url, qr_x, qr_y, qr_size, quiet_zone=2)
    c.setFillColor(MUTED)
    c.setFont(CJK_FONT, 7)
    c.drawCentredString(qr_x + qr_size / 2, qr_y - 3 * mm, SCAN_HINT)
    c.setFont(CJK_FONT, 6.5)
    c.drawCentredString(qr_x + qr_size / 2, qr_y - 6 * mm, data.public_code)

    top = PAGE_H - TOP - 2 * mm
    draw_text(c, data.institution, MARGIN, top, CONTENT_W - qr_size - 4 * mm, font_size=12, color=MUTED, max_lines=2)
    title_size = 30 if data.is_certificate else 26
    spaced = " ".join(data.title) if data.is_certificate else data.title
    top = PAGE_H - TOP - 13 * mm
    draw_text(c, spaced, MARGIN, top, CONTENT_W, font_size=title_size, align="center", bold=True)
    c.setFillColor(MUTED)
    c.setFont(CJK_FONT, 9)
    c.drawCentredString(
        PAGE_W / 2, top - title_size - 4 * mm, CERTIFICATE_SUBTITLE if data.is_certificate else NOTICE_SUBTITLE
    )
    caption = "证书编号" if data.is_certificate else "通知书编号"
    c.setFillColor(INK)
    c.setFont(CJK_FONT, 11)
    c.drawCentredString(PAGE_W / 2, top - title_size - 12 * mm, f"{caption}：{data.number}")
    w.y = top - title_size - 17 * mm
    if data.supersedes:
        draw_text(
            c,
            f"本{data.title}替代原编号 {data.supersedes}，原件作废。",
            MARGIN,
            w.y + 4.5 * mm,
            CONTENT_W,
            font_size=8.5,
            align="center",
            color=FAIL_RED,
        )
        w.y -= 1.5 * mm


def _field_rows(data: CertificateData) -> list[tuple[str, str]]:
    if data.valid_until:
        valid = chinese_date(data.valid_until)
    elif data.passed and data.no_expiry:
        valid = NO_EXPIRY_TEXT
    else:
        valid = NONE_TEXT
    rows = [
        ("委托单位", data.client),
        ("计量器具名称", data.instrument_name),
        ("型号 / 规格", data.model_spec or NONE_TEXT),
        ("出厂编号", data.factory_number),
        ("制造单位", data.manufacturer or NONE_TEXT),
    ]
    if data.measuring_range or data.accuracy_class:
        rows.append(("测量范围 / 准确度等级", " / ".join(x for x in (data.measuring_range, data.accuracy_class) if x)))
    rows += [
        ("平台编码", data.platform_code),
        ("目录项目", data.catalogue_item),
        ("检定依据", data.regulation or NONE_TEXT),
        ("检定结论", PASS_TEXT if data.passed else FAIL_TEXT),
        ("检定日期", chinese_date(data.verified_on)),
    ]
    if data.is_certificate:
        rows.append(("证书有效期至", valid))
    return rows


def _draw_fields(w: _Writer) -> None:
    c, data = w.canvas, w.data
    label_w = 42 * mm
    value_w = CONTENT_W - label_w
    size, leading, pad = 10.5, 13.5, 1.6 * mm
    c.setStrokeColor(RULE)
    c.setLineWidth(0.6)
    top_of_table = w.y
    for label, value in _field_rows(data):
        lines = wrap_text(value, value_w - 2 * pad, font_size=size, max_lines=3)
        row_h = max(1, len(lines)) * leading + 2 * pad
        w.need(row_h)
        y0 = w.y - row_h
        c.setFillColor(FAINT)
        c.rect(MARGIN, y0, label_w, row_h, stroke=0, fill=1)
        c.setStrokeColor(RULE)
        c.rect(MARGIN, y0, CONTENT_W, row_h, stroke=1, fill=0)
        c.line(MARGIN + label_w, y0, MARGIN + label_w, w.y)
        draw_text(
            c,
            label,
            MARGIN + pad,
            w.y - pad - (len(lines) - 1) * leading / 2,
            label_w - 2 * pad,
            font_size=size,
            leading=leading,
            color=MUTED,
        )
        is_result = label == "检定结论"
        draw_text(
            c,
            value,
            MARGIN + label_w + pad,
            w.y - pad,
            value_w - 2 * pad,
            font_size=size + (2 if is_result else 0),
            leading=leading,
            max_lines=3,
            bold=is_result,
            color=(FAIL_RED if is_result and not data.passed else INK),
        )
        w.y = y0
    del top_of_table
    w.y -= 6 * mm


def _draw_conclusion(w: _Writer) -> None:
    data = w.data
    if data.is_certificate:
        text = (
            f"经检定，该计量器具符合{data.regulation or '检定规程'}的要求，准予使用。"
            if data.passed
            else "经检定，该计量器具不合格。"
        )
    else:
        text = f"经检定，该计量器具不符合{data.regulation or '检定规程'}的要求，检定结论为不合格，不得使用。"
    w.need(12 * mm)
    w.y = draw_text(w.canvas, text, MARGIN, w.y, CONTENT_W, font_size=11, leading=16)
    w.y -= 4 * mm


def _draw_fee(w: _Writer) -> None:
    data = w.data
    paid = Decimal(data.fee or 0) - Decimal(data.waived or 0)
    text = f"检定费：{yuan(data.fee)}    减免：{yuan(data.waived)}    应缴：{yuan(paid)}"
    w.need(10 * mm)
    w.y = draw_text(w.canvas, text, MARGIN, w.y, CONTENT_W, font_size=10, color=INK)
    w.y -= 5 * mm


def _draw_signatures(w: _Writer) -> None:
    c, data = w.canvas, w.data
    block_h = 42 * mm
    w.need(block_h)
    c.setStrokeColor(RULE)
    c.setLineWidth(0.6)
    c.line(MARGIN, w.y, PAGE_W - MARGIN, w.y)
    top = w.y - 5 * mm
    col_w = CONTENT_W / 3
    for i, (role, name) in enumerate((("批准人", data.approver), ("核验员", data.checker), ("检定员", data.verifier))):
        x = MARGIN + i * col_w
        c.setFillColor(MUTED)
        c.setFont(CJK_FONT, 10)
        c.drawString(x, top - 8, f"{role}：")
        size = fit_font_size(name, col_w - 20 * mm, max_size=12)
        c.setFillColor(INK)
        c.setFont(CJK_FONT, size)
        c.drawString(x + 15 * mm, top - 8, name)
        c.setStrokeColor(RULE)
        c.line(x + 14 * mm, top - 11, x + col_w - 6 * mm, top - 11)

    # The institution and issue date on the right, with the place of the official seal.
    seal_r = 15 * mm
    seal_cx = PAGE_W - MARGIN - 30 * mm
    seal_cy = top - 8 * mm - seal_r
    c.saveState()
    c.setStrokeColor(STAMP_RED)
    c.setLineWidth(1.1)
    c.setDash(3, 2)
    c.circle(seal_cx, seal_cy, seal_r, stroke=1, fill=0)
    c.restoreState()
    c.setFillColor(STAMP_RED)
    c.setFont(CJK_FONT, 8)
    c.drawCentredString(seal_cx, seal_cy - seal_r + 5 * mm, "（检定专用章）")
    text_right = seal_cx + seal_r
    lines_top = seal_cy + 6 * mm
    name_w = min(pdfmetrics.stringWidth(data.institution, CJK_FONT, 11), 110 * mm)
    draw_text(
        c, data.institution, text_right - name_w - 2, lines_top, name_w + 4, font_size=11, max_lines=2, align="right"
    )
    c.setFillColor(INK)
    c.setFont(CJK_FONT, 10.5)
    c.drawRightString(text_right, lines_top - 22, f"发证日期：{chinese_date(data.issued_on)}")
    # The notes sit left of the seal, under the signatures.
    notes = CERTIFICATE_FOOTNOTES if data.is_certificate else NOTICE_FOOTNOTES
    notes_w = seal_cx - seal_r - MARGIN - 30 * mm
    y = draw_text(c, "说明：", MARGIN, top - 12 * mm, notes_w, font_size=8.5, color=MUTED)
    for note in notes:
        y = draw_text(c, note, MARGIN, y, notes_w, font_size=8.5, leading=11, color=MUTED)
    w.y = min(y, seal_cy - seal_r) - 3 * mm


def render_certificate(data: CertificateData, *, request=None) -> bytes:
    """The A4 PDF of a certificate or notice: page 1 the facts, the conclusion, fee and
    signatures; readings, remarks and reasons flow after (onto further pages when long)."""
    url = public_check_url(data.public_code, request)
    buffer = BytesIO()
    canvas = new_canvas(
        buffer,
        title=f"{data.title} {data.number}",
        subject=data.title,
        author=data.institution,
        keywords=f"NQI Hub; {data.title}; {data.number}",
    )
    w = _Writer(canvas, data, url)
    _draw_header(w)
    _draw_fields(w)
    _draw_conclusion(w)
    if not data.passed:
        w.section("不合格原因", data.failure_reasons, color=FAIL_RED)
    if data.readings:
        w.section("检定数据", data.readings)
    if data.remarks:
        w.section("备注", data.remarks)
    _draw_fee(w)
    _draw_signatures(w)
    w.footer()
    canvas.showPage()
    save(canvas)
    return buffer.getvalue()


def document_filename(data_or_document) -> str:
    """The download name: 检定证书-JD-12-2026-000001.pdf."""
    kind = getattr(data_or_document, "kind", "certificate")
    title = CERTIFICATE_TITLE if kind == "certificate" else NOTICE_TITLE
    return f"{title}-{data_or_document.number}.pdf"
