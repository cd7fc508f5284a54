"""The interface's translation catalogues: complete, consistent with the code's
placeholders, compiled from the .po files that are checked in, and used by real pages.

The msgids are English; zh-hans (the default language) must translate every one of them.
The English catalogue exists so that switching to English is explicit; its msgstrs stay
empty and Django falls back to the msgid.
"""

from __future__ import annotations

import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

LOCALE_DIR = Path(settings.BASE_DIR) / "locale"
ZH_PO = LOCALE_DIR / "zh_Hans" / "LC_MESSAGES" / "django.po"
ZH_MO = ZH_PO.with_suffix(".mo")
EN_PO = LOCALE_DIR / "en" / "LC_MESSAGES" / "django.po"
EN_MO = EN_PO.with_suffix(".mo")

# %(name)s, %(count)d ... (the placeholders of python-format strings)
NAMED_PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")


# --- a small .po reader (standard library only) ----------------------------------------------


@dataclass
class PoEntry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: str = ""
    msgstr_plural: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def is_plural(self) -> bool:
        return self.msgid_plural is not None

    @property
    def translations(self) -> list[str]:
        return [self.msgstr_plural[k] for k in sorted(self.msgstr_plural)] if self.is_plural else [self.msgstr]

    def __str__(self) -> str:
        return f"line {self.line}: {self.msgid!r}"


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def _unquote(text: str) -> str:
    text = text.strip()
    assert text.startswith('"') and text.endswith('"'), f"not a quoted string: {text}"
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), text[1:-1])


def read_po(path: Path) -> tuple[PoEntry, list[PoEntry]]:
    """The header entry and the live (not obsolete) entries of a .po file."""
    entries: list[PoEntry] = []
    entry: PoEntry | None = None
    target: tuple | None = None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            entry, target = None, None
            continue
        if line.startswith("#~"):
            continue  # obsolete entry
        if entry is None:
            entry = PoEntry(line=number)
            entries.append(entry)
        if line.startswith("#,"):
            entry.flags.update(flag.strip() for flag in line[2:].split(",") if flag.strip())
        elif line.startswith("#"):
            continue
        elif line.startswith("msgctxt "):
            entry.msgctxt, target = _unquote(line[8:]), ("msgctxt",)
        elif line.startswith("msgid_plural "):
            entry.msgid_plural, target = _unquote(line[13:]), ("msgid_plural",)
        elif line.startswith("msgid "):
            entry.msgid, target = _unquote(line[6:]), ("msgid",)
        elif line.startswith("msgstr["):
            index = int(line[7 : line.index("]")])
            entry.msgstr_plural[index] = _unquote(line[line.index("]") + 1 :])
            target = ("msgstr_plural", index)
        elif line.startswith("msgstr "):
            entry.msgstr, target = _unquote(line[7:]), ("msgstr",)
        elif line.startswith('"'):
            assert target is not None, f"{path}:{number}: continuation line without a keyword"
            if target[0] == "msgstr_plural":
                entry.msgstr_plural[target[1]] += _unquote(line)
            else:
                setattr(entry, target[0], getattr(entry, target[0]) + _unquote(line))
        else:
            raise AssertionError(f"{path}:{number}: cannot read {raw!r}")
    # Comment-only blocks (e.g. a file's leading comments) carry no msgid keyword.
    entries = [e for e in entries if e.msgid or e.msgstr or e.msgid_plural is not None]
    header = entries[0]
    assert header.msgid == "", f"{path}: the first entry must be the header"
    return header, entries[1:]


def header_fields(header: PoEntry) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in header.msgstr.splitlines() if ": " in line)


def placeholders(text: str) -> set[str]:
    return set(NAMED_PLACEHOLDER.findall(text))


@pytest.fixture(scope="module")
def zh():
    return read_po(ZH_PO)


@pytest.fixture(scope="module")
def en():
    return read_po(EN_PO)


# --- (a) complete: nothing untranslated, nothing fuzzy ------------------------------------


def test_catalogues_exist():
    for path in (ZH_PO, ZH_MO, EN_PO, EN_MO):
        assert path.is_file(), f"missing {path.relative_to(settings.BASE_DIR)}"


def test_zh_hans_has_no_untranslated_entries(zh):
    _header, entries = zh
    assert len(entries) > 100
    untranslated = [str(e) for e in entries if not all(t.strip() for t in e.translations)]
    assert untranslated == [], "untranslated msgids in zh_Hans:\n" + "\n".join(untranslated)


def test_no_fuzzy_entries(zh, en):
    for path, (header, entries) in ((ZH_PO, zh), (EN_PO, en)):
        fuzzy = [str(e) for e in [header, *entries] if "fuzzy" in e.flags]
        assert fuzzy == [], f"fuzzy entries in {path.name} ({path.parent.parent.name}):\n" + "\n".join(fuzzy)


def test_headers_declare_language_charset_and_plural_forms(zh, en):
    zh_header = header_fields(zh[0])
    assert zh_header["Language"] == "zh_Hans"
    assert "charset=UTF-8" in zh_header["Content-Type"]
    assert zh_header["Plural-Forms"].startswith("nplurals=1;")
    en_header = header_fields(en[0])
    assert en_header["Language"] == "en"
    assert en_header["Plural-Forms"].startswith("nplurals=2;")


def test_zh_hans_plurals_have_exactly_one_form(zh):
    _header, entries = zh
    wrong = [str(e) for e in entries if e.is_plural and sorted(e.msgstr_plural) != [0]]
    assert wrong == [], "Chinese has one plural form (msgstr[0] only):\n" + "\n".join(wrong)


def test_english_catalogue_has_the_same_msgids(zh, en):
    def keys(entries):
        return {(e.msgctxt, e.msgid, e.msgid_plural) for e in entries}

    assert keys(zh[1]) == keys(en[1]), "run makemessages for both languages (-l zh_Hans -l en)"


def test_english_msgstrs_are_empty_or_english(en):
    # Django falls back to the msgid for an empty msgstr; a Chinese msgstr here would be a
    # paste into the wrong file.
    _header, entries = en
    chinese = [
        str(e)
        for e in entries
        if any(re.search(r"[\u4e00-\u9fff]", t) for t in e.translations) and not re.search(r"[\u4e00-\u9fff]", e.msgid)
    ]
    assert chinese == []


# --- (b) placeholders survive translation -------------------------------------------------


def test_every_placeholder_of_the_msgid_is_in_the_msgstr(zh):
    _header, entries = zh
    problems = []
    for e in entries:
        wanted = placeholders(e.msgid) | placeholders(e.msgid_plural or "")
        for text in e.translations:
            got = placeholders(text)
            if got != wanted:
                problems.append(f"{e}: msgid has {sorted(wanted)}, msgstr has {sorted(got)}")
    assert problems == [], "\n".join(problems)


def test_python_format_msgstrs_can_be_formatted(zh):
    """A stray % in a translation would raise at run time, when the message is shown."""
    _header, entries = zh
    problems = []
    for e in entries:
        if "python-format" not in e.flags:
            continue
        names = placeholders(e.msgid) | placeholders(e.msgid_plural or "")
        values = {name: 1 for name in names}
        for text in e.translations:
            try:
                text % values if names else text % ()
            except (ValueError, TypeError, KeyError) as exc:
                problems.append(f"{e}: {exc}")
    assert problems == [], "\n".join(problems)


def test_blocktranslate_variables_are_kept(zh):
    # {{ n }} in a blocktranslate becomes %(n)s in the catalogue; the translation must keep
    # exactly that spelling, or the template renders the raw placeholder.
    _header, entries = zh
    for e in entries:
        for text in e.translations:
            assert "{{" not in text and "}}" not in text, str(e)


# --- (c) the .mo files are compiled from these .po files ----------------------------------


def _load_mo(path: Path) -> gettext.GNUTranslations:
    with path.open("rb") as handle:
        return gettext.GNUTranslations(handle)


def test_zh_hans_mo_is_compiled_from_the_po(zh):
    _header, entries = zh
    catalogue = _load_mo(ZH_MO)
    assert catalogue.info().get("plural-forms", "").startswith("nplurals=1;")
    stale = []
    for e in entries:
        if e.is_plural:
            for n in (1, 2, 5):
                got = (
                    catalogue.npgettext(e.msgctxt, e.msgid, e.msgid_plural, n)
                    if e.msgctxt
                    else catalogue.ngettext(e.msgid, e.msgid_plural, n)
                )
                if got != e.msgstr_plural[0]:
                    stale.append(f"{e} (n={n}): .mo has {got!r}, .po has {e.msgstr_plural[0]!r}")
        else:
            got = catalogue.pgettext(e.msgctxt, e.msgid) if e.msgctxt else catalogue.gettext(e.msgid)
            if got != e.msgstr:
                stale.append(f"{e}: .mo has {got!r}, .po has {e.msgstr!r}")
    assert stale == [], "recompile: manage.py compilemessages --ignore=.venv\n" + "\n".join(stale)


def test_english_mo_is_compiled_from_the_po(en):
    _header, entries = en
    catalogue = _load_mo(EN_MO)
    assert catalogue.info().get("language") == "en"
    for e in entries:
        if e.is_plural:
            assert catalogue.ngettext(e.msgid, e.msgid_plural, 1) == (e.msgstr_plural.get(0) or e.msgid)
            assert catalogue.ngettext(e.msgid, e.msgid_plural, 2) == (e.msgstr_plural.get(1) or e.msgid_plural)
        else:
            assert catalogue.gettext(e.msgid) == (e.msgstr or e.msgid), str(e)


# --- (d) real pages in both languages ----------------------------------------------------


@pytest.mark.django_db
def test_login_page_is_chinese_by_default():
    response = Client().get("/accounts/login/")
    assert response.status_code == 200
    page = response.content.decode()
    assert '<html lang="zh-hans">' in page
    assert "登录" in page
    assert "质量基础设施一站式服务平台" in page
    assert "账号" in page and "密码" in page  # form labels (gettext_lazy in forms.py)
    assert "Sign in" not in page


@pytest.mark.django_db
def test_login_page_is_chinese_for_a_zh_cn_browser():
    response = Client(HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9,en;q=0.8").get("/accounts/login/")
    assert '<html lang="zh-hans">' in response.content.decode()


@pytest.mark.django_db
def test_login_page_is_english_with_the_language_cookie():
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    page = response.content.decode()
    assert '<html lang="en">' in page
    assert "Sign in" in page
    assert "Quality infrastructure one-stop platform" in page
    assert "登录" not in page


@pytest.mark.django_db
def test_switching_language_sets_the_cookie_and_the_next_page_follows_it():
    client = Client()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert response.status_code == 302
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert "Sign in" in client.get("/accounts/login/").content.decode()
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/accounts/login/"})
    assert "登录" in client.get("/accounts/login/").content.decode()


# --- (e) service messages -----------------------------------------------------------------


def _credit_code_length_message() -> str:
    from nqihub.organizations.credit_code import CreditCodeError, validate_credit_code

    with pytest.raises(CreditCodeError) as caught:
        validate_credit_code("9135", division_exists=lambda code: True)
    return caught.value.messages[0]


def test_service_error_is_chinese_in_zh_hans():
    with translation.override("zh-hans"):
        assert _credit_code_length_message() == "统一社会信用代码应为 18 位，实际输入了 4 位。"


def test_service_error_is_english_in_en():
    with translation.override("en"):
        assert _credit_code_length_message() == "The credit code must have 18 characters; 4 were given."


def test_lazy_labels_follow_the_active_language():
    from nqihub.core.access import OrganizationKind
    from nqihub.organizations.models import EnterpriseRegistration

    with translation.override("zh-hans"):
        assert str(OrganizationKind.ENTERPRISE.label) == "企业"
        assert str(EnterpriseRegistration.State.RETURNED.label) == "已退回"
    with translation.override("en"):
        assert str(OrganizationKind.ENTERPRISE.label) == "Enterprise"
