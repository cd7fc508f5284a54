"""Reading PDFs back in tests: text through poppler's pdftotext, pages, fonts, QR codes."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile

import pytest

SUBSET_FONT = b"/BaseFont /AAAAAA+WenQuanYiMicroHei"


def _tool(name: str, package: str) -> str:
    exe = shutil.which(name)
    if exe:
        return exe
    reason = f"{name} (Debian's {package}) is not installed: that check needs it"
    if os.environ.get("NQI_REQUIRE_BROWSER") == "1":
        pytest.fail(reason + " and NQI_REQUIRE_BROWSER=1 requires it")
    pytest.skip(reason)


def pdf_text(data: bytes) -> str:
    """The text of a PDF as a reader would copy it (proves the ToUnicode maps are right)."""
    exe = _tool("pdftotext", "poppler-utils")
    result = subprocess.run([exe, "-q", "-", "-"], input=data, capture_output=True, check=True, timeout=60)
    return result.stdout.decode("utf-8")


def page_count(data: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b(?!s)", data))


def base_fonts(data: bytes) -> list[bytes]:
    return re.findall(rb"/BaseFont /([^\s/<>\[\]]+)", data)


def assert_fonts_embedded(data: bytes) -> None:
    """Every font is a subset of the shipped CJK font, embedded as TrueType (/FontFile2): the
    PDF needs no font on the reader's machine."""
    assert data.startswith(b"%PDF-")
    assert data.rstrip().endswith(b"%%EOF")
    assert b"/FontFile2" in data, "the TrueType font program is not embedded"
    assert SUBSET_FONT in data
    fonts = set(base_fonts(data))
    assert fonts, "no font in the PDF"
    for name in fonts:
        assert re.fullmatch(rb"[A-Z]{6}\+WenQuanYiMicroHei", name), f"font {name!r} is not the embedded subset"
    assert data.count(b"/FontFile2") == data.count(b"/Type /FontDescriptor")


def decode_qr_codes(data: bytes, *, dpi: int = 150, first_page: int = 1, last_page: int = 1) -> list[str]:
    """QR payloads found on rendered pages, via zbarimg (Debian's zbar-tools) when installed.
    Optional everywhere (skips without it): the payload tests do not depend on it."""
    pdftoppm = _tool("pdftoppm", "poppler-utils")
    zbarimg = shutil.which("zbarimg")
    if not zbarimg:
        pytest.skip("zbarimg (Debian's zbar-tools) is not installed: QR codes not decoded from the image")
    with tempfile.TemporaryDirectory() as tmp:
        pdf = os.path.join(tmp, "doc.pdf")
        with open(pdf, "wb") as fh:
            fh.write(data)
        subprocess.run(
            [
                pdftoppm,
                "-png",
                "-r",
                str(dpi),
                "-f",
                str(first_page),
                "-l",
                str(last_page),
                pdf,
                os.path.join(tmp, "p"),
            ],
            check=True,
            timeout=120,
        )
        payloads: list[str] = []
        for name in sorted(os.listdir(tmp)):
            if name.endswith(".png"):
                out = subprocess.run(
                    [zbarimg, "-q", "--raw", os.path.join(tmp, name)], capture_output=True, timeout=120
                ).stdout.decode("utf-8")
                payloads += [line for line in out.splitlines() if line]
        return payloads
