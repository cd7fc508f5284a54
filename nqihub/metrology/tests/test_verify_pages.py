"""The check pages are rendered once per language and shape and then filled in
(``nqihub.documents.verify.render_page``): what comes out must be, byte for byte, what the
template renders for the same values, whatever was rendered before it."""

from __future__ import annotations

import itertools

import pytest
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import mark_safe

from nqihub.documents import verify as kernel
from nqihub.metrology.views import verify


def _document(status: str, *, number: str = "JD-1-2026-000001", superseded: bool = False, revoked: bool = False):
    facts = {
        "type": "document",
        "code": "ABCDEFGHJKMNPQRS",
        "checked_on": "2026-12-03",
        "status": status,
        "status_label": "<b>状态</b> & “引号”",
        "kind": "certificate",
        "kind_label": "检定证书",
        "number": number,
        "check_url": "https://nqi.example/verify/ABCDEFGHJKMNPQRS/",
        "institution": "包头市质量技术监督检验测试所 <script>alert(1)</script>",
        "instrument": {"name": "电子计价秤", "model_spec": "", "factory_number": "SN'1\"", "platform_code": "JL0000"},
        "catalogue_item": "1-01 衡器",
        "result": "pass",
        "result_label": "合格",
        "verified_on": "2026-01-30",
        "valid_until": "2027-01-29",
        "issued_on": "2026-01-31",
        "revoked_on": "2026-06-01" if revoked else None,
        "superseded_by": (
            {"number": "JD-1-2026-000002 <i>", "check_code": "X", "check_url": "../X/?a=1&b=2"} if superseded else None
        ),
        "json_url": "../ABCDEFGHJKMNPQRS.json",
    }
    facts["facts_html"] = mark_safe("<dl><dt>号</dt><dd>1</dd></dl>")
    return facts


def _instrument(with_document: bool, name: str = "压力表"):
    return {
        "type": "instrument",
        "code": "JL3F9K2M7Q8R1T",
        "checked_on": "2026-12-03",
        "status": "valid" if with_document else "none",
        "status_label": "有效",
        "instrument": {"name": name, "model_spec": "Y-100", "factory_number": "F-1", "platform_code": "JL3F9K2M7Q8R1T"},
        "catalogue_item": "",
        "document": _document("valid") if with_document else None,
        "facts_html": mark_safe("<dl></dl>"),
        "json_url": "../JL3F9K2M7Q8R1T.json",
    }


CASES = [
    ("metrology/verify_document.html", _document("valid")),
    ("metrology/verify_document.html", _document("valid", number="JD-2-2026-009999 & <x>")),
    ("metrology/verify_document.html", _document("superseded", superseded=True)),
    ("metrology/verify_document.html", _document("superseded")),  # the newer one not found
    ("metrology/verify_document.html", _document("revoked", revoked=True)),
    ("metrology/verify_document.html", _document("expired")),
    ("metrology/verify_document.html", _document("failed")),
    ("metrology/verify_instrument.html", _instrument(True)),
    ("metrology/verify_instrument.html", _instrument(False)),
    ("metrology/verify_instrument.html", _instrument(False, name="")),  # an empty text is false
]


@pytest.mark.parametrize("order", [1, -1])
def test_pages_equal_the_template_rendered_for_the_same_values(order):
    kernel._pages.clear()
    for language, (template, facts) in itertools.product(["zh-hans", "en"], CASES[::order]):
        with translation.override(language):
            labels = verify.page_labels(kernel.page_labels())
            expected = render_to_string(template, {"facts": facts, "t": labels})
            assert kernel.render_page(template, {"facts": facts}, labels) == expected, (language, facts["status"])
            # Filled in again from the kept page: still the same.
            assert kernel.render_page(template, {"facts": facts}, labels) == expected
    assert 0 < len(kernel._pages) <= 2 * len(CASES)


def test_values_are_escaped_unless_marked_safe():
    facts = _document("valid", number="<script>x</script>")
    page = kernel.render_page(
        "metrology/verify_document.html", {"facts": facts}, verify.page_labels(kernel.page_labels())
    )
    assert "<script>x</script>" not in page and "&lt;script&gt;x&lt;/script&gt;" in page
    assert "<dl><dt>号</dt>" in page  # the facts list is marked safe: printed as it is


def test_kept_pages_are_bounded(monkeypatch):
    monkeypatch.setattr(kernel, "_PAGES_KEPT", 3)
    kernel._pages.clear()
    labels = kernel.page_labels()
    for status in ["a", "b", "c", "d", "e"]:
        kernel.render_page("documents/verify_not_found.html", {"detail": "x", "status": status}, labels)
    assert len(kernel._pages) == 3
