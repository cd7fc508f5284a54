"""The shipped CJK font and the PDF building blocks (nqihub.documents.pdf)."""

from __future__ import annotations

import csv
import importlib.util
import itertools
import threading
from io import BytesIO
from pathlib import Path

import pytest
from django.test import RequestFactory
from fontTools.ttLib import TTFont
from reportlab.graphics.barcode import qrencoder
from reportlab.pdfbase import pdfmetrics

from nqihub.documents import pdf
from nqihub.documents.pdf import (
    CJK_FONT,
    CJK_FONT_FILE,
    NO_LINE_END,
    NO_LINE_START,
    draw_qr,
    draw_text,
    fit_font_size,
    missing_characters,
    public_check_url,
    qr_matrix,
    render,
    wrap_text,
)

from .helpers import assert_fonts_embedded, decode_qr_codes, page_count, pdf_text

ROOT = Path(__file__).resolve().parents[3]
FONT_DIR = CJK_FONT_FILE.parent

# Place names of Inner Mongolia (and enterprise / person names) that fonts and small
# character sets miss: 磴口县, 嘎查, 噶, 扎赉特旗, 莫力达瓦达斡尔族, 喀喇沁旗, 镶黄旗, 鄂温克, 敖汉旗,
# 翁牛特旗, 阿巴嘎旗, 霍林郭勒, 海勃湾, 赛罕区, 巴彦淖尔; names outside GB 2312: 堃, 喆, 玥, 垚.
RARE = "磴嘎噶赉斡喀喇沁镶鄂温敖翁牛霍郭勒勃罕淖尔彦浩苏木旗盟堃喆玥垚珺昇犇"
SYMBOLS = "℃㎡㎏㎜①②③≤≥≈±×÷μΩ²³°‰№Ⅰ Ⅱ Ⅲ（）《》「」【】、。，：；！？…—·　ＡＢＣ１２３"


@pytest.fixture(scope="module")
def font() -> TTFont:
    return TTFont(str(CJK_FONT_FILE), lazy=True)


@pytest.fixture(scope="module")
def cmap(font) -> dict[int, str]:
    return font.getBestCmap()


def _load_build_script():
    spec = importlib.util.spec_from_file_location("build_cjk_font", ROOT / "scripts" / "build_cjk_font.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- the shipped font ----------------------------------------------------------------------


def test_font_is_a_single_truetype_font_with_licence_and_provenance(font):
    head = CJK_FONT_FILE.read_bytes()[:4]
    assert head == b"\x00\x01\x00\x00", "not a single TrueType font (a .ttc starts with 'ttcf', CFF with 'OTTO')"
    assert "glyf" in font and "CFF " not in font, "reportlab embeds TrueType outlines only"
    assert font["OS/2"].fsType & 0x0002 == 0, "the font's licence bits forbid embedding"
    assert CJK_FONT_FILE.stat().st_size < 5 * 1024 * 1024
    licence = (FONT_DIR / "LICENSE-Apache-2.0.txt").read_text(encoding="utf-8")
    assert "Apache License" in licence and "Version 2.0" in licence
    readme = (FONT_DIR / "README.md").read_text(encoding="utf-8")
    assert "WenQuanYi Micro Hei" in readme and "scripts/build_cjk_font.py" in readme and "fonts-wqy-microhei" in readme
    assert "NQI Hub" in font["name"].getDebugName(10), "the modified font must say it was modified (Apache-2.0 §4(b))"


def test_font_covers_every_division_name(cmap):
    with open(ROOT / "nqihub" / "divisions" / "data" / "inner_mongolia.csv", encoding="utf-8") as fh:
        names = "".join(row["name"] for row in csv.DictReader(fh))
    assert len(names) > 500
    missing = sorted({c for c in names if ord(c) not in cmap})
    assert not missing, f"rebuild the font (scripts/build_cjk_font.py): division names use {''.join(missing)}"


def test_font_covers_the_project_text_the_build_script_collects(cmap):
    """Every character of the project's own text data (divisions, demo organisations, metrology
    data, translations): a new character there means rebuilding the font."""
    build = _load_build_script()
    files = build.project_text_files(ROOT)
    assert any(f.name == "inner_mongolia.csv" for f in files)
    missing = sorted(c for c in build.project_characters(ROOT) if ord(c) not in cmap)
    assert not missing, f"rebuild the font (scripts/build_cjk_font.py): project text uses {''.join(missing)}"


def test_font_covers_rare_place_name_characters_and_metrology_symbols(cmap):
    for char in RARE + SYMBOLS.replace(" ", ""):
        assert ord(char) in cmap, f"{char} (U+{ord(char):04X}) has no glyph"


def test_font_covers_all_of_gb2312(cmap):
    build = _load_build_script()
    gb2312 = build.gb2312_characters()
    hanzi = {c for c in gb2312 if "\u4e00" <= c <= "\u9fff"}
    assert len(hanzi) == 6763
    missing = sorted(c for c in gb2312 if ord(c) not in cmap)
    assert not missing, "".join(missing)


def test_missing_characters_names_what_would_print_as_a_box():
    assert missing_characters("包头市磴口县 ABC 123") == set()
    assert missing_characters("张\U00020000三") == {"\U00020000"}  # CJK extension B


def test_font_registers_once_under_concurrency():
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(pdf.register_fonts())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [CJK_FONT] * 8
    assert pdfmetrics.getFont(CJK_FONT) is pdfmetrics.getFont(CJK_FONT)
    assert pdfmetrics.stringWidth("计量", CJK_FONT, 10) == pytest.approx(20, abs=0.5)


# --- public check URL ----------------------------------------------------------------------


def test_public_check_url_relative_without_configuration(settings):
    settings.NQI_PUBLIC_BASE_URL = ""
    assert public_check_url("JL0123456789AB") == "/verify/JL0123456789AB/"


def test_public_check_url_absolute_with_base_url(settings):
    settings.NQI_PUBLIC_BASE_URL = "https://nqi.nmg.gov.cn/"
    assert public_check_url("JL0123456789AB") == "https://nqi.nmg.gov.cn/verify/JL0123456789AB/"
    # The configured base wins over the host the request came in on (a proxy's internal name).
    request = RequestFactory().get("/metrology/instruments/labels.pdf", HTTP_HOST="10.0.0.5:8000")
    assert public_check_url("JL0123456789AB", request) == "https://nqi.nmg.gov.cn/verify/JL0123456789AB/"


def test_public_check_url_from_request_when_no_base_url(settings):
    del settings.NQI_PUBLIC_BASE_URL  # the setting may be absent altogether
    settings.ALLOWED_HOSTS = ["nqi.example.cn"]
    request = RequestFactory().get("/x", secure=True, HTTP_HOST="nqi.example.cn")
    assert public_check_url("JL0123456789AB", request) == "https://nqi.example.cn/verify/JL0123456789AB/"


def test_public_check_url_escapes_the_code(settings):
    settings.NQI_PUBLIC_BASE_URL = ""
    assert public_check_url("A/B?C D") == "/verify/A%2FB%3FC%20D/"


# --- text wrapping -------------------------------------------------------------------------


def _width(text: str, size: float) -> float:
    return pdfmetrics.stringWidth(text, CJK_FONT, size)


def test_wrap_chinese_by_character_width():
    text = "内蒙古自治区巴彦淖尔市磴口县市场监督管理局关于开展计量器具强制检定工作的通知"
    lines = wrap_text(text, 100, font_size=10)
    assert len(lines) > 2
    assert "".join(lines) == text
    assert all(_width(line, 10) <= 100 for line in lines)
    # Lines are filled: each but the last could not take the next character.
    for line, following in itertools.pairwise(lines):
        assert _width(line + following[0], 10) > 100 or following[0] in NO_LINE_START or line[-1] in NO_LINE_END


def test_wrap_keeps_latin_words_and_numbers_whole_and_breaks_at_spaces():
    lines = wrap_text("电子计价秤 ACS-30 量程0.5~30kg 分度值5g，型号 XK3190-A12E", 80, font_size=9)
    assert all(_width(line, 9) <= 80 for line in lines)
    joined = " ".join(lines)
    for word in ("ACS-30", "0.5~30kg", "XK3190-A12E"):
        assert word in joined.split(" ") or any(word in line for line in lines)


def test_wrap_never_starts_a_line_with_closing_punctuation():
    text = "计量器具，强制检定。计量器具，强制检定。计量器具，强制检定。计量器具，强制检定。"
    for width in range(30, 160, 7):
        lines = wrap_text(text, width, font_size=10)
        assert "".join(lines) == text
        assert not any(line[0] in NO_LINE_START for line in lines[1:]), (width, lines)


def test_wrap_never_ends_a_line_with_an_opening_bracket():
    text = "燃气表（膜式）压力表（弹簧管式）血压计（无创自动测量）"
    for width in range(40, 160, 5):
        lines = wrap_text(text, width, font_size=10)
        assert "".join(lines) == text
        assert not any(line[-1] in NO_LINE_END for line in lines[:-1]), (width, lines)


def test_wrap_cuts_an_overlong_code_and_truncates_with_ellipsis():
    code = "SN-2024-000004-ABCDEFGH-VERY-LONG-FACTORY-NUMBER"
    lines = wrap_text(code, 60, font_size=8)
    assert "".join(lines) == code and all(_width(line, 8) <= 60 for line in lines)
    cut = wrap_text("很长的企业名称" * 10, 60, font_size=8, max_lines=2)
    assert len(cut) == 2 and cut[-1].endswith("…") and _width(cut[-1], 8) <= 60
    assert wrap_text("第一行\n第二行", 500, font_size=8) == ["第一行", "第二行"]
    assert wrap_text("", 100, font_size=8) == [""]


def test_wrap_break_anywhere_fills_lines():
    lines = wrap_text("出厂编号 SN-2024-000004-ABCDEFGH", 70, font_size=7, break_anywhere=True)
    assert lines[0].startswith("出厂编号 SN"), lines
    assert "".join(lines).replace(" ", "") == "出厂编号SN-2024-000004-ABCDEFGH"


def test_fit_font_size():
    assert fit_font_size("JL0123456789AB", 500, max_size=8) == 8
    size = fit_font_size("JL0123456789AB", 40, max_size=8)
    assert size < 8 and _width("JL0123456789AB", size) <= 40


# --- QR codes ------------------------------------------------------------------------------


def _reportlab_matrix(data: str, level: str):
    qr = qrencoder.QRCode(None, getattr(qrencoder.QRErrorCorrectLevel, level))
    qr.addData(qrencoder.QR8bitByte(data))
    qr.make()
    return tuple(tuple(bool(m) for m in row) for row in qr.modules)


@pytest.mark.parametrize("level", ["L", "M", "Q", "H"])
def test_fast_qr_encoder_gives_reportlabs_exact_symbol(level):
    """The faster mask selection picks what reportlab's own encoder picks: same modules."""
    payloads = [f"https://nqi.nmg.gov.cn/verify/JL{i:012d}/" for i in range(0, 400, 37)]
    payloads += ["/verify/JL3F9K2M7Q8R1T/", "x", "中文内容 " * 20, "https://example.com/" + "a/b" * 120]
    qr_matrix.cache_clear()
    for data in payloads:
        assert qr_matrix(data, level) == _reportlab_matrix(data, level), data


def test_draw_qr_and_decode_when_a_decoder_is_installed(settings):
    settings.NQI_PUBLIC_BASE_URL = "https://nqi.nmg.gov.cn"
    url = public_check_url("JL3F9K2M7Q8R1T")
    data = render(lambda c: draw_qr(c, url, 100, 500, 150), title="QR")
    assert data.startswith(b"%PDF-")
    assert decode_qr_codes(data) == [url]


# --- documents -----------------------------------------------------------------------------


def _sample(canvas):
    top = draw_text(canvas, "计量检定证书 — 包头市磴口县嘎查（测试）", 72, 780, 300, font_size=16, bold=True)
    draw_text(canvas, "扎赉特旗噶尔迪食品有限公司。温度 25℃，面积 12㎡。" * 3, 72, top - 10, 300, font_size=10)


def test_documents_embed_the_font_and_are_deterministic():
    first = render(_sample, title="证书")
    second = render(_sample, title="证书")
    assert first == second
    assert_fonts_embedded(first)
    assert page_count(first) == 1
    assert b"/Lang (zh-CN)" in first


def test_document_text_extracts_back_as_chinese():
    text = pdf_text(render(_sample, title="证书"))
    flat = "".join(text.split())
    assert "计量检定证书" in flat and "包头市磴口县嘎查" in flat and "扎赉特旗噶尔迪食品有限公司" in flat
    assert "25℃" in flat


def test_platypus_documents_with_paragraph_style_embed_and_wrap():
    from reportlab.platypus import Paragraph

    def build() -> bytes:
        buffer = BytesIO()
        doc = pdf.document_template(buffer, title="通知书")
        style = pdf.paragraph_style(font_size=11)
        doc.build([Paragraph("内蒙古自治区市场监督管理局：<b>计量器具</b>强制检定通知。" * 8, style)])
        return buffer.getvalue()

    data = build()
    assert data == build()
    assert_fonts_embedded(data)
    assert "强制检定通知" in "".join(pdf_text(data).split())


def test_pdf_response_names_the_file_in_chinese():
    response = pdf.pdf_response(b"%PDF-1.4 test", "计量器具标识.pdf")
    assert response["Content-Type"] == "application/pdf"
    assert "attachment;" in response["Content-Disposition"]
    assert "filename*=UTF-8''%E8%AE%A1" in response["Content-Disposition"]
    assert pdf.pdf_response(b"x", "a.pdf", inline=True)["Content-Disposition"].startswith("inline;")
