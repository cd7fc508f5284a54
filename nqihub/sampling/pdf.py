"""The inspection report's PDF (检验报告), drawn with the documents kernel's building blocks: the
shipped CJK font embedded, Chinese line wrapping, the QR code to the public check.

The layout: title and number, the QR code and check code, the sample's facts, the results table
(one row per test item: requirement, result, judgement), the conclusion and the issuer. Long
tables continue on further pages with the table's header repeated; every page carries the
number, the check code and its page number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from io import BytesIO

from django.utils import timezone, translation
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm

from nqihub.documents.pdf import CJK_FONT, draw_qr, draw_text, new_canvas, public_check_url, save, wrap_text

from .models import Conclusion, InspectionReport, TestResult

INK = colors.Color(0.1, 0.1, 0.12)
MUTED = colors.Color(0.38, 0.38, 0.4)
RULE = colors.Color(0.55, 0.55, 0.58)
FAINT = colors.Color(0.93, 0.94, 0.96)
FAIL_RED = colors.Color(0.75, 0.08, 0.08)

PAGE_W, PAGE_H = A4
MARGIN = 18 * mm
WIDTH = PAGE_W - 2 * MARGIN
BOTTOM = 22 * mm

CONCLUSION_WORDS = {Conclusion.PASS: "合格", Conclusion.FAIL: "不合格"}


@dataclass
class ReportData:
    number: str
    public_code: str
    title: str
    kind_word: str
    institution: str
    facts: list[tuple[str, str]]
    results: list[tuple[str, str, str, str, str, str]]
    conclusion: str
    conclusion_text: str
    issued_on: str
    url: str = ""
    remarks: list[str] = field(default_factory=list)


def _day(moment) -> str:
    if not moment:
        return "—"
    day = timezone.localtime(moment).date()
    return f"{day.year}年{day.month}月{day.day}日"


def _number(value) -> str:
    return "" if value is None else str(value)


def report_data(document: InspectionReport) -> ReportData:
    """The printed facts of a report, read in a few queries from the record it reports on."""
    report = InspectionReport.objects.select_related(
        "institution",
        "organization",
        "record__batch__rules",
        "record__pool_object__category",
        "record__case",
        "record__producer",
    ).get(pk=document.pk)
    record = report.record
    obj = record.pool_object
    batch = record.batch
    rules = batch.rules
    producer = record.producer.name if record.producer_id else obj.producer_display
    facts = [
        ("产品名称", obj.product_name),
        ("商标", obj.brand or "—"),
        ("规格型号", obj.model or "—"),
        ("产品类别", obj.category.name),
        ("受检单位", record.organization.name),
        ("标称生产者", producer or "—"),
        ("生产日期/批号", record.production_batch or "—"),
        ("抽样单编号", record.case.number),
        ("抽样日期", _day(record.sampled_at)),
        ("抽样地点", record.place or "—"),
        (
            "抽样数量",
            f"检验样品 {_number(record.test_quantity)}，备用样品 {_number(record.spare_quantity)}（批量 {_number(record.lot_size)}）",
        ),
        ("封样编号", record.seal_numbers or "—"),
        ("样品到达日期", _day(record.received_at)),
        ("样品状态", record.sample_condition or "—"),
        ("抽查类型", batch.get_kind_display()),
        ("任务名称", f"{batch.number} {batch.title}"),
        ("检验依据", f"{rules.title}（第{rules.version}版）"),
    ]
    round_ = TestResult.Round.RECHECK if report.kind == InspectionReport.Kind.RECHECK else TestResult.Round.INITIAL
    results = []
    for result in (
        TestResult.objects.filter(record=record, round=round_).select_related("test_item").order_by("test_item__seq")
    ):
        item = result.test_item
        results.append(
            (
                str(item.seq),
                item.name + (f"\n{item.method_standard}" if item.method_standard else ""),
                item.unit or "—",
                item.requirement,
                result.measured,
                CONCLUSION_WORDS.get(result.conclusion, result.conclusion),
            )
        )
    word = CONCLUSION_WORDS.get(report.conclusion, report.conclusion)
    if report.conclusion == Conclusion.PASS:
        text = f"经抽样检验，所检项目符合《{rules.title}》的要求，判定为合格。"
    else:
        failed = [row[1].split("\n")[0] for row in results if row[5] == CONCLUSION_WORDS[Conclusion.FAIL]]
        text = f"经抽样检验，{'、'.join(failed)}不符合《{rules.title}》的要求，判定为不合格。"
    return ReportData(
        number=report.number,
        public_code=report.public_code,
        title="检验报告" if report.kind == InspectionReport.Kind.REPORT else "复检报告",
        kind_word="产品质量监督抽查",
        institution=report.institution.name,
        facts=facts,
        results=results,
        conclusion=word,
        conclusion_text=text,
        issued_on=_day(report.issued_at),
        remarks=["本报告仅对所检样品负责。", "扫描二维码或登录平台 /verify/ 输入校验码可核验本报告的真伪与状态。"],
    )


class _Writer:
    def __init__(self, canvas, data: ReportData):
        self.c = canvas
        self.data = data
        self.page = 1
        self.y = PAGE_H - MARGIN

    def footer(self) -> None:
        c = self.c
        c.saveState()
        c.setFillColor(MUTED)
        c.setFont(CJK_FONT, 8)
        c.drawString(MARGIN, 12 * mm, f"报告编号 {self.data.number} · 校验码 {self.data.public_code}")
        c.drawRightString(PAGE_W - MARGIN, 12 * mm, f"第 {self.page} 页")
        c.restoreState()

    def new_page(self) -> None:
        self.footer()
        self.c.showPage()
        self.c.setFont(CJK_FONT, 10)
        self.page += 1
        self.y = PAGE_H - MARGIN

    def need(self, height: float) -> bool:
        if self.y - height < BOTTOM:
            self.new_page()
            return True
        return False


def _draw_header(w: _Writer) -> None:
    d = w.data
    qr = 30 * mm
    draw_qr(w.c, d.url, PAGE_W - MARGIN - qr, PAGE_H - MARGIN - qr, qr, quiet_zone=2)
    w.c.setFillColor(MUTED)
    w.c.setFont(CJK_FONT, 7)
    w.c.drawRightString(PAGE_W - MARGIN, PAGE_H - MARGIN - qr - 3 * mm, d.public_code)
    w.c.setFillColor(INK)
    top = PAGE_H - MARGIN
    top = draw_text(w.c, d.kind_word, MARGIN, top, WIDTH - qr, font_size=12, color=MUTED)
    top = draw_text(w.c, d.title, MARGIN, top - 2 * mm, WIDTH - qr, font_size=24, bold=True)
    top = draw_text(w.c, f"报告编号：{d.number}", MARGIN, top - 3 * mm, WIDTH - qr, font_size=10.5)
    top = draw_text(w.c, f"检验机构：{d.institution}", MARGIN, top - 1 * mm, WIDTH - qr, font_size=10.5)
    w.y = min(top, PAGE_H - MARGIN - qr - 6 * mm) - 4 * mm


def _draw_facts(w: _Writer) -> None:
    label_w = 30 * mm
    value_w = WIDTH - label_w - 4 * mm
    size, leading = 9.5, 13
    for label, value in w.data.facts:
        lines = wrap_text(value, value_w, font_size=size)
        height = max(1, len(lines)) * leading + 4
        w.need(height)
        w.c.setStrokeColor(RULE)
        w.c.setLineWidth(0.4)
        w.c.line(MARGIN, w.y - height, MARGIN + WIDTH, w.y - height)
        draw_text(w.c, label, MARGIN + 1 * mm, w.y - 2, label_w, font_size=size, color=MUTED)
        draw_text(w.c, value, MARGIN + label_w + 3 * mm, w.y - 2, value_w, font_size=size, leading=leading)
        w.y -= height
    w.y -= 6 * mm


_COLUMNS = (("序号", 10 * mm), ("检验项目", 40 * mm), ("单位", 18 * mm), ("标准要求", 42 * mm), ("检验结果", 32 * mm))


def _columns() -> list[tuple[str, float]]:
    used = sum(width for _, width in _COLUMNS)
    return [*_COLUMNS, ("单项判定", WIDTH - used)]


def _draw_table_header(w: _Writer) -> None:
    height = 16
    w.c.setFillColor(FAINT)
    w.c.rect(MARGIN, w.y - height, WIDTH, height, stroke=0, fill=1)
    x = MARGIN
    for title, width in _columns():
        draw_text(w.c, title, x + 1.5 * mm, w.y - 3, width - 3 * mm, font_size=9, bold=True)
        x += width
    w.y -= height


def _draw_results(w: _Writer) -> None:
    w.need(60)
    draw_text(w.c, "检验结果", MARGIN, w.y, WIDTH, font_size=12, bold=True)
    w.y -= 20
    _draw_table_header(w)
    size, leading = 9, 12.5
    columns = _columns()
    for row in w.data.results:
        wrapped = []
        for (_title, width), text in zip(columns, row, strict=True):
            lines: list[str] = []
            for part in str(text).split("\n"):
                lines.extend(wrap_text(part, width - 3 * mm, font_size=size))
            wrapped.append(lines)
        height = max(len(lines) for lines in wrapped) * leading + 6
        if w.need(height):
            _draw_table_header(w)
        x = MARGIN
        for (title, width), lines, text in zip(columns, wrapped, row, strict=True):
            color = FAIL_RED if title == "单项判定" and text == CONCLUSION_WORDS[Conclusion.FAIL] else INK
            for i, line in enumerate(lines):
                draw_text(w.c, line, x + 1.5 * mm, w.y - 3 - i * leading, width - 3 * mm, font_size=size, color=color)
            x += width
        w.c.setStrokeColor(RULE)
        w.c.setLineWidth(0.4)
        w.c.line(MARGIN, w.y - height, MARGIN + WIDTH, w.y - height)
        w.y -= height
    w.y -= 8 * mm


def _draw_conclusion(w: _Writer) -> None:
    d = w.data
    lines = wrap_text(d.conclusion_text, WIDTH - 4 * mm, font_size=10.5)
    w.need(40 + len(lines) * 14)
    color = FAIL_RED if d.conclusion == CONCLUSION_WORDS[Conclusion.FAIL] else INK
    draw_text(w.c, f"检验结论：{d.conclusion}", MARGIN, w.y, WIDTH, font_size=14, bold=True, color=color)
    w.y -= 22
    w.y = draw_text(w.c, d.conclusion_text, MARGIN, w.y, WIDTH, font_size=10.5, leading=14) - 10 * mm
    w.need(50)
    right = MARGIN + WIDTH
    w.c.setFillColor(INK)
    w.c.setFont(CJK_FONT, 10.5)
    w.c.drawRightString(right, w.y, d.institution)
    w.c.drawRightString(right, w.y - 16, "（检验检测专用章）")
    w.c.drawRightString(right, w.y - 32, f"签发日期：{d.issued_on}")
    w.y -= 48
    for remark in d.remarks:
        w.need(14)
        w.y = draw_text(w.c, remark, MARGIN, w.y, WIDTH, font_size=8.5, color=MUTED)


def render_inspection_report(document: InspectionReport, *, request=None) -> bytes:
    """The report's PDF, in Chinese whatever language the request that issued it used."""
    with translation.override("zh-hans"):
        data = report_data(document)
    data.url = public_check_url(data.public_code, request)
    buffer = BytesIO()
    canvas = new_canvas(buffer, title=f"{data.title} {data.number}", subject=data.kind_word, keywords=data.public_code)
    w = _Writer(canvas, data)
    _draw_header(w)
    _draw_facts(w)
    _draw_results(w)
    _draw_conclusion(w)
    w.footer()
    save(canvas)
    return buffer.getvalue()


def report_filename(document) -> str:
    return f"检验报告-{document.number}.pdf"


# --- the sampling form (抽样单) ----------------------------------------------------------------


def _sampling_form_rows(record) -> list[tuple[str, str]]:
    obj = record.pool_object
    batch = record.batch
    taken = record.stage not in ("assigned",)

    def value(text) -> str:
        return str(text) if taken and text not in (None, "") else ""

    samplers = "、".join(f"{p.name}（{p.enforcement_number}）" for p in record.samplers.all()) if taken else ""
    return [
        ("抽样单编号", record.case.number),
        ("抽查任务", f"{batch.number} {batch.title}（{batch.get_kind_display()}）"),
        ("组织抽查单位", batch.organizer.name),
        ("承检机构", record.institution.name),
        ("被抽样单位", record.organization.name),
        ("标称生产者", (record.producer.name if record.producer_id else obj.producer_display) or ""),
        ("产品名称", obj.product_name),
        ("商标 / 规格型号", " / ".join(part for part in (obj.brand, obj.model) if part)),
        ("执行标准", obj.standard),
        ("检验依据", f"{batch.rules.title}（第{batch.rules.version}版）"),
        ("通知书编号", value(record.notice_number)),
        (
            "抽样时间",
            timezone.localtime(record.sampled_at).strftime("%Y-%m-%d %H:%M") if taken and record.sampled_at else "",
        ),
        ("抽样地点", value(record.place)),
        ("生产日期/批号", value(record.production_batch)),
        ("批量", value(record.lot_size)),
        (
            "抽样数量",
            f"检验样品 {record.test_quantity}，备用样品 {record.spare_quantity}"
            if taken and record.test_quantity is not None
            else f"检验样品 ≥{batch.rules.test_quantity}，备用样品 ≥{batch.rules.spare_quantity}",
        ),
        ("封条编号", value(record.seal_numbers)),
        ("样品购买费用（元）", value(record.sample_price) if taken else ""),
        ("抽样人员", samplers),
        ("被抽样单位签字人", value(record.party_signatory)),
    ]


def render_sampling_form(record) -> bytes:
    """The printable 抽样单 of a record: filled in once the samples were taken, with blank lines
    to fill by hand before. Signature lines for both parties."""
    with translation.override("zh-hans"):
        rows = _sampling_form_rows(record)
    buffer = BytesIO()
    canvas = new_canvas(buffer, title=f"抽样单 {record.case.number}", subject="产品质量监督抽查")
    top = PAGE_H - MARGIN
    top = draw_text(canvas, "产品质量监督抽查", MARGIN, top, WIDTH, font_size=12, color=MUTED, align="center")
    top = draw_text(canvas, "抽 样 单", MARGIN, top - 2 * mm, WIDTH, font_size=22, bold=True, align="center") - 6 * mm
    label_w = 40 * mm
    value_w = WIDTH - label_w - 4 * mm
    size, leading = 10, 14
    for label, text in rows:
        lines = wrap_text(text or " ", value_w, font_size=size)
        height = max(1, len(lines)) * leading + 6
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.5)
        canvas.rect(MARGIN, top - height, WIDTH, height, stroke=1, fill=0)
        canvas.line(MARGIN + label_w, top, MARGIN + label_w, top - height)
        draw_text(canvas, label, MARGIN + 2 * mm, top - 3, label_w - 4 * mm, font_size=size)
        for i, line in enumerate(lines):
            draw_text(canvas, line, MARGIN + label_w + 2 * mm, top - 3 - i * leading, value_w, font_size=size)
        top -= height
    top -= 12 * mm
    canvas.setFont(CJK_FONT, 10.5)
    canvas.drawString(MARGIN, top, "抽样人员（签字）：")
    canvas.drawString(MARGIN + WIDTH / 2, top, "被抽样单位（签字、盖章）：")
    canvas.drawString(MARGIN, top - 36, "日期：")
    canvas.drawString(MARGIN + WIDTH / 2, top - 36, "日期：")
    draw_text(
        canvas,
        "样品一式两份，分别封存：一份检验，一份备用。被抽样单位对抽样过程有异议的，可在本单上注明。",
        MARGIN,
        top - 60,
        WIDTH,
        font_size=8.5,
        color=MUTED,
    )
    canvas.setFillColor(MUTED)
    canvas.setFont(CJK_FONT, 8)
    canvas.drawString(MARGIN, 12 * mm, f"抽样单编号 {record.case.number}")
    save(canvas)
    return buffer.getvalue()
