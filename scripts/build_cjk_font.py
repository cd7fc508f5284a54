#!/usr/bin/env python3
"""Build the CJK font subset that NQI Hub ships and embeds in its PDFs.

Development time only: the output, ``nqihub/documents/fonts/wqy-microhei-subset.ttf``, is
committed, so neither the servers nor CI need a CJK font installed. Rebuild it when project
text gains a character the font lacks (``nqihub/documents/tests/test_pdf.py`` says so)::

    apt-get install -y fonts-wqy-microhei        # WenQuanYi Micro Hei, Apache-2.0 / GPLv3
    .venv/bin/python scripts/build_cjk_font.py

Why this font: reportlab embeds TrueType (glyf) outlines only, not CFF/OpenType-CFF (so not
Noto Sans CJK / Source Han), and WenQuanYi Micro Hei is TrueType under Apache-2.0, the
project's own licence. The source is a .ttc; the first face (Micro Hei, proportional) is
taken and written as a single .ttf.

What is kept: ASCII and Latin-1, general punctuation, CJK symbols and punctuation, full- and
half-width forms, a few symbol blocks metrology text uses (℃, ㎡, ①, ≤, ², CO₂), every
character of GB 2312 (its 6,763 hanzi and its symbol rows), and every character of the
project's own text data (divisions, demo organisations, metrology data, the zh-Hans
translations) so rare place-name characters such as 磴, 嘎, 噶, 赉 are in whether or not a
character set lists them. Characters the source font does not have are reported.

By default (``--charset gbk``) every character of GBK is kept as well: all 20,902 unified
hanzi of U+4E00–U+9FA5. Enterprise and person names, which certificates print and which the
project cannot list in advance, often use hanzi outside GB 2312 (堃, 喆, 玥, 垚); with GBK the
file is about 3 MB instead of 1.3 MB. ``--charset gb2312`` builds the smaller file.
PDFs are not affected either way: reportlab embeds only the glyphs a document uses.

The build is reproducible: the same inputs give the same bytes (no timestamp is stamped).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
SOURCE_FACE = 0  # 0: WenQuanYi Micro Hei, 1: WenQuanYi Micro Hei Mono
OUTPUT = ROOT / "nqihub" / "documents" / "fonts" / "wqy-microhei-subset.ttf"

# Unicode blocks kept whole (those the source font covers).
RANGES: tuple[tuple[int, int, str], ...] = (
    (0x0020, 0x007E, "ASCII"),
    (0x00A0, 0x00FF, "Latin-1 supplement"),
    (0x2000, 0x206F, "General punctuation"),
    (0x2070, 0x209F, "Superscripts and subscripts"),
    (0x20A0, 0x20CF, "Currency symbols"),
    (0x2100, 0x214F, "Letterlike symbols (℃, №, ℉)"),
    (0x2150, 0x218F, "Number forms (Ⅰ Ⅱ Ⅲ)"),
    (0x2190, 0x21FF, "Arrows"),
    (0x2200, 0x22FF, "Mathematical operators (≤ ≥ ≈ ±)"),
    (0x2460, 0x24FF, "Enclosed alphanumerics (① ②)"),
    (0x2500, 0x257F, "Box drawing"),
    (0x25A0, 0x25FF, "Geometric shapes (□ ■ ○ ●)"),
    (0x2600, 0x26FF, "Miscellaneous symbols (★ ☆)"),
    (0x3000, 0x303F, "CJK symbols and punctuation"),
    (0x3200, 0x32FF, "Enclosed CJK letters (㈠ ㊣)"),
    (0x3300, 0x33FF, "CJK compatibility (㎡ ㎏ ㎜)"),
    (0xFE30, 0xFE4F, "CJK compatibility forms"),
    (0xFF00, 0xFFEF, "Half-width and full-width forms"),
    (0xFFFD, 0xFFFD, "Replacement character"),
)

# The project's own text: every character in these files is kept.
PROJECT_TEXT_GLOBS: tuple[str, ...] = (
    "nqihub/divisions/data/*.csv",
    "nqihub/organizations/demo.py",
    "nqihub/metrology/data/*.csv",
    "locale/zh_Hans/LC_MESSAGES/django.po",
)


def gb2312_characters() -> set[str]:
    """Every character that decodes from GB 2312 (EUC-CN rows 0xA1–0xF7)."""
    chars: set[str] = set()
    for hi in range(0xA1, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.add(bytes((hi, lo)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return chars


def gbk_characters() -> set[str]:
    """Every character that decodes from GBK (lead bytes 0x81–0xFE, trail 0x40–0xFE)."""
    chars: set[str] = set()
    for hi in range(0x81, 0xFF):
        for lo in range(0x40, 0xFF):
            try:
                chars.add(bytes((hi, lo)).decode("gbk"))
            except UnicodeDecodeError:
                continue
    return {c for c in chars if c.isprintable()}


CHARSETS = {"gb2312": gb2312_characters, "gbk": lambda: gb2312_characters() | gbk_characters()}


def project_text_files(root: Path = ROOT) -> list[Path]:
    files: list[Path] = []
    for pattern in PROJECT_TEXT_GLOBS:
        files.extend(sorted(root.glob(pattern)))
    return files


def project_characters(root: Path = ROOT) -> set[str]:
    """The printable characters used in the project's own text data."""
    chars: set[str] = set()
    for path in project_text_files(root):
        chars.update(path.read_text(encoding="utf-8"))
    return {c for c in chars if c == " " or (c.isprintable() and not c.isspace())}


def wanted_codepoints(root: Path = ROOT, *, charset: str = "gbk") -> set[int]:
    points: set[int] = set()
    for start, end, _name in RANGES:
        points.update(range(start, end + 1))
    points.update(ord(c) for c in CHARSETS[charset]())
    points.update(ord(c) for c in project_characters(root))
    return points


def build(source: Path, output: Path, *, face: int = SOURCE_FACE, charset: str = "gbk") -> dict:
    from fontTools import subset
    from fontTools.ttLib import TTCollection, TTFont

    if source.suffix.lower() == ".ttc":
        font = TTCollection(str(source), recalcTimestamp=False).fonts[face]
    else:
        font = TTFont(str(source), recalcTimestamp=False)
    if "glyf" not in font:
        raise SystemExit(f"{source} has no TrueType outlines (glyf); reportlab cannot embed CFF fonts")
    cmap = font.getBestCmap()

    wanted = wanted_codepoints(charset=charset)
    present = {cp for cp in wanted if cp in cmap}
    project_missing = sorted(c for c in project_characters() if ord(c) not in cmap and ord(c) > 0x7F)
    gb_missing = sorted(c for c in gb2312_characters() if ord(c) not in cmap)

    options = subset.Options()
    options.layout_features = []  # reportlab draws glyph by glyph: no GSUB/GPOS shaping
    options.hinting = False  # PDFs are printed and zoomed; hinting only adds bytes
    options.notdef_outline = True  # a missing character shows as a visible box, never as nothing
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.glyph_names = False
    options.drop_tables += ["FFTM", "vhea", "vmtx", "gasp"]
    subsetter = subset.Subsetter(options=options)
    subsetter.populate(unicodes=sorted(present))
    subsetter.subset(font)

    # Apache-2.0 §4(b): a modified file carries a notice that it was changed.
    note = (
        "Subset of WenQuanYi Micro Hei 0.2.0-beta (Apache-2.0) made for NQI Hub by "
        f"scripts/build_cjk_font.py: {charset.upper()}, punctuation, Latin-1 and the project's own text."
    )
    font["name"].removeNames(nameID=10)
    font["name"].setName(note, 10, 3, 1, 0x409)
    font["name"].setName(note, 10, 1, 0, 0)

    output.parent.mkdir(parents=True, exist_ok=True)
    font.save(str(output))
    data = output.read_bytes()
    return {
        "output": output,
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "characters": len(present),
        "hanzi": sum(1 for cp in present if 0x3400 <= cp <= 0x9FFF),
        "project_missing": project_missing,
        "gb2312_missing": gb_missing,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=SOURCE_FONT, help="source .ttc/.ttf (default: %(default)s)")
    parser.add_argument("--face", type=int, default=SOURCE_FACE, help="face index in a .ttc (default: %(default)s)")
    parser.add_argument("--charset", choices=sorted(CHARSETS), default="gbk", help="hanzi kept (default: %(default)s)")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="output .ttf (default: %(default)s)")
    args = parser.parse_args(argv)
    if not args.source.exists():
        print(f"{args.source} not found: apt-get install -y fonts-wqy-microhei", file=sys.stderr)
        return 2
    report = build(args.source, args.output, face=args.face, charset=args.charset)
    print(f"wrote {report['output']} ({report['bytes']:,} bytes, sha256 {report['sha256'][:16]}…)")
    print(f"{report['characters']:,} characters, {report['hanzi']:,} hanzi")
    if report["gb2312_missing"]:
        print(f"GB 2312 characters the source font lacks: {''.join(report['gb2312_missing'])}", file=sys.stderr)
    if report["project_missing"]:
        print(f"project characters the source font lacks: {''.join(report['project_missing'])}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
