"""The metrology module's answers on the public check ``/verify/<code>/`` (the address, the rate
limit, refusals and caching are the documents kernel's: ``nqihub.documents.verify``).

* A document's check code (16 characters) → the document's status today: valid, expired,
  failed (a notice), revoked or superseded (with the check link of the document that replaced it).
* An instrument's platform code (``JL`` + 12 characters, the labels' QR) → the instrument's
  current status from its latest document in force: a valid certificate's facts, an expired
  one, a failed verification, or no valid certificate.

Only non-personal facts are shown: the document's kind and number, the institution, the
instrument (name, model, factory number, platform code), the catalogue item, the dates and
the result — never the enterprise's contacts, people's names, fees or revocation reasons.

Both answers are one indexed single-row statement, compiled once per database from the ORM
(so it is the same portable SQL the ORM would run) and executed directly: a document's public
facts are written into it at issue (documents never change; only their state does), and an
instrument's latest document in force is found through ``document_instrument_latest_idx``.
``register`` (called from ``apps.py``) tells the kernel about both kinds of code.
"""

from __future__ import annotations

import datetime
import functools
import json
from html import escape
from types import SimpleNamespace

from django.conf import settings
from django.db import connections
from django.db.models import F, FilteredRelation, OuterRef, Q, Subquery
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from nqihub.documents.pdf import public_check_url
from nqihub.documents.registry import CheckKind, register_check
from nqihub.documents.verify import page_response

from ..models import (
    PLATFORM_CODE_ALPHABET,
    Instrument,
    IssuedDocument,
    VerificationResult,
    document_status,
    instrument_public_facts,
)

PUBLIC_CODE_LENGTH = 16
PLATFORM_CODE_PREFIX = "JL"
PLATFORM_CODE_LENGTH = 14
_ALPHABET = frozenset(PLATFORM_CODE_ALPHABET)

# Status words of the public check (what a person reads; the JSON carries the codes too).
STATUS_LABELS = {
    "valid": gettext_lazy("Valid"),
    "expired": gettext_lazy("Expired"),
    "revoked": gettext_lazy("Revoked"),
    "superseded": gettext_lazy("Superseded by a newer document"),
    "failed": gettext_lazy("Failed verification: the instrument must not be used"),
    "none": gettext_lazy("No valid verification certificate"),
}
# The words of the metrology check pages (besides the kernel's), translated once per language
# and process (the pages are the platform's busiest: a template tag per label cost a tenth of a check).
PAGE_LABELS = {
    "document": gettext_lazy("Document"),
    "number": gettext_lazy("Number"),
    "issued_by": gettext_lazy("Issued by"),
    "instrument": gettext_lazy("Instrument"),
    "factory_number": gettext_lazy("Factory number"),
    "platform_code": gettext_lazy("Platform code"),
    "catalogue_item": gettext_lazy("Catalogue item"),
    "result": gettext_lazy("Result"),
    "verified_on": gettext_lazy("Verified on"),
    "valid_until": gettext_lazy("Valid until"),
    "no_expiry": gettext_lazy("no expiry date"),
    "issued_on": gettext_lazy("Issued on"),
    "revoked_on": gettext_lazy("Revoked on"),
    "model_spec": gettext_lazy("Model / specification"),
    "latest_document": gettext_lazy("Latest document"),
    "check_document": gettext_lazy("Check this document"),
    "no_certificate": gettext_lazy("No valid verification certificate for this instrument is on record."),
}


@functools.lru_cache(maxsize=16)
def _page_labels(language: str, kernel: tuple) -> dict[str, str]:
    with translation.override(language):
        return {**dict(kernel), **{key: str(label) for key, label in PAGE_LABELS.items()}}


def page_labels(kernel: dict[str, str]) -> dict[str, str]:
    """The kernel's page words with the metrology ones, in the request's language."""
    return _page_labels(translation.get_language() or settings.LANGUAGE_CODE, tuple(kernel.items()))


def facts_list(doc: dict, t: dict[str, str]) -> str:
    """A document's facts as the page's ``<dl>``, built in one call with every value escaped:
    on the platform's busiest page, a template variable per fact (about 25) cost more than the
    database lookup."""
    instrument = doc["instrument"]
    name = instrument["name"] + (f" · {instrument['model_spec']}" if instrument["model_spec"] else "")
    rows = [
        (t["document"], "kind", doc["kind_label"], False),
        (t["number"], "number", doc["number"], True),
        (t["issued_by"], "", doc["institution"], False),
        (t["instrument"], "", name, False),
        (t["factory_number"], "", instrument["factory_number"], True),
        (t["platform_code"], "", instrument["platform_code"], True),
        (t["catalogue_item"], "", doc["catalogue_item"], False),
        (t["result"], "result", doc["result_label"], False),
        (t["verified_on"], "", doc["verified_on"], False),
    ]
    if doc["kind"] == IssuedDocument.Kind.CERTIFICATE:
        rows.append((t["valid_until"], "valid-until", doc["valid_until"] or t["no_expiry"], False))
    rows.append((t["issued_on"], "", doc["issued_on"], False))
    if doc["revoked_on"]:
        rows.append((t["revoked_on"], "", doc["revoked_on"], False))
    return _definition_list(rows)


def instrument_list(facts: dict, t: dict[str, str]) -> str:
    """An instrument's own facts on the label check, as the page's ``<dl>`` (see ``facts_list``)."""
    instrument = facts["instrument"]
    return _definition_list(
        [
            (t["platform_code"], "", instrument["platform_code"], True),
            (t["model_spec"], "", instrument["model_spec"] or "—", False),
            (t["factory_number"], "", instrument["factory_number"], True),
            (t["catalogue_item"], "", facts["catalogue_item"] or "—", False),
        ]
    )


def _definition_list(rows) -> str:
    """``<dl>`` of (label, test id, value, as code) rows, every value escaped."""
    parts = ["<dl>"]
    for label, testid, value, code in rows:
        value = escape(str(value), quote=True)
        if code:
            value = f"<code>{value}</code>"
        attribute = f' data-testid="{testid}"' if testid else ""
        parts.append(f"<dt>{escape(label, quote=True)}</dt><dd{attribute}>{value}</dd>")
    parts.append("</dl>")
    return mark_safe("".join(parts))


KIND_LABELS = dict(IssuedDocument.Kind.choices)
RESULT_LABELS = dict(VerificationResult.Outcome.choices)


@functools.lru_cache(maxsize=16)
def _words(language: str) -> dict[str, dict[str, str]]:
    with translation.override(language):
        return {
            name: {key: str(label) for key, label in labels.items()}
            for name, labels in (("status", STATUS_LABELS), ("kind", KIND_LABELS), ("result", RESULT_LABELS))
        }


def words() -> dict[str, dict[str, str]]:
    """The status, kind and result words in the request's language, translated once per
    language and process (a lazy translation per word cost a tenth of a label check)."""
    return _words(translation.get_language() or settings.LANGUAGE_CODE)


# --- the code --------------------------------------------------------------------------------


def is_document_code(code: str) -> bool:
    """A document's check code: 16 characters of the platform alphabet (upper case)."""
    return len(code) == PUBLIC_CODE_LENGTH and _ALPHABET.issuperset(code)


def is_platform_code(code: str) -> bool:
    """An instrument's platform code: ``JL`` and 12 characters of the platform alphabet."""
    return (
        len(code) == PLATFORM_CODE_LENGTH
        and code.startswith(PLATFORM_CODE_PREFIX)
        and _ALPHABET.issuperset(code[len(PLATFORM_CODE_PREFIX) :])
    )


# --- facts -----------------------------------------------------------------------------------

# One row per document: the facts written at issue plus what can still change (state, the
# revocation day, the superseding document). Kept in this order by both lookups below.
_ROW = (
    "public_code",
    "number",
    "kind",
    "state",
    "valid_until",
    "revoked_at",
    "public_facts",
    "superseded_by__public_code",
    "superseded_by__number",
)


@functools.cache
def _by_code_statement(alias: str) -> str:
    """The document lookup by check code, compiled once per database from the ORM (so it is
    the same portable SQL the ORM would run) and executed directly: compiling the query was
    most of the cost of a check."""
    query = IssuedDocument.objects.filter(public_code="?").values_list(*_ROW).query
    sql, params = query.get_compiler(using=alias).as_sql()
    assert params == ("?",), params
    return sql


def _date_iso(value) -> str | None:
    """A date column as ISO text, whether the driver gave a date (PostgreSQL) or text (SQLite)."""
    if value is None or isinstance(value, str):
        return value
    return value.isoformat()


def _local_day_iso(value) -> str | None:
    """The local calendar day of a stored moment (aware datetime, or UTC text on SQLite)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = parse_datetime(value)
    if timezone.is_naive(value):
        value = timezone.make_aware(value, datetime.UTC)
    return timezone.localtime(value).date().isoformat()


def _facts_from_row(row, today: str, request=None) -> dict:
    """The public facts of a document row (``_ROW``) and its status on ``today`` (ISO day)."""
    code, number, kind, state, valid_until, revoked_at, facts, newer_code, newer_number = row
    if isinstance(facts, str):
        facts = json.loads(facts)
    valid_until = _date_iso(valid_until)
    status = document_status(state=state, kind=kind, valid_until=valid_until, day=today)
    outcome = facts["result"]
    word = words()
    return {
        "status": status,
        "status_label": word["status"][status],
        "kind": kind,
        "kind_label": word["kind"].get(kind, kind),
        "number": number,
        "check_code": code,
        "check_url": public_check_url(code, request),
        "institution": facts["institution"],
        "instrument": facts["instrument"],
        "catalogue_item": facts["catalogue_item"],
        "result": outcome,
        "result_label": word["result"].get(outcome, outcome),
        "verified_on": facts["verified_on"],
        "valid_until": valid_until,
        "issued_on": facts["issued_on"],
        "revoked_on": _local_day_iso(revoked_at) if status == "revoked" else None,
        "superseded_by": (
            {"number": newer_number, "check_code": newer_code, "check_url": public_check_url(newer_code, request)}
            if status == "superseded" and newer_code
            else None
        ),
    }


def _document_row(code: str):
    connection = connections[IssuedDocument.objects.db]
    with connection.cursor() as cursor:
        cursor.execute(_by_code_statement(connection.alias), [code])
        return cursor.fetchone()


# The instrument's own facts, then its latest document in force (``_ROW``; NULLs when none).
_INSTRUMENT_ROW = (
    "name",
    "model_spec",
    "factory_number",
    "platform_code",
    "catalogue_item__code",
    "catalogue_item__name",
)


def latest_in_force():
    """The id of an instrument's latest document in force (neither revoked nor superseded):
    the latest verification, then the latest issue — one seek of ``document_instrument_latest_idx``."""
    return (
        IssuedDocument.objects.filter(instrument=OuterRef("pk"), state=IssuedDocument.State.VALID)
        .order_by("-verified_on", "-issued_at", "-pk")
        .values("pk")[:1]
    )


@functools.cache
def _by_platform_code_statement(alias: str) -> tuple[str, tuple]:
    """The instrument lookup by platform code with its latest document in force joined in one
    single-row statement, compiled once per database from the ORM and executed directly."""
    query = (
        Instrument.objects.filter(platform_code="?")
        .annotate(in_force=FilteredRelation("documents", condition=Q(documents__pk=Subquery(latest_in_force()))))
        .order_by()
        .values_list(
            *_INSTRUMENT_ROW,
            *(F(f"in_force__{name}") for name in _ROW if not name.startswith("superseded_by__")),
        )
        .query
    )
    sql, params = query.get_compiler(using=alias).as_sql()
    assert params.count("?") == 1, params
    return sql, tuple(str(p) for p in params)


def _instrument_row(code: str):
    connection = connections[Instrument.objects.db]
    sql, params = _by_platform_code_statement(connection.alias)
    with connection.cursor() as cursor:
        cursor.execute(sql, [code if p == "?" else p for p in params])
        return cursor.fetchone()


def instrument_facts(row, today: str, request=None) -> dict:
    """An instrument's current status from its latest document still in force (neither
    revoked nor superseded): a certificate's status, a failed verification, or none."""
    name, model_spec, factory_number, platform_code, item_code, item_name, *document_row = row
    document = _facts_from_row((*document_row, None, None), today, request) if document_row[0] is not None else None
    status = document["status"] if document else "none"
    return {
        "status": status,
        "status_label": words()["status"][status],
        "instrument": instrument_public_facts(
            SimpleNamespace(
                name=name, model_spec=model_spec, factory_number=factory_number, platform_code=platform_code
            )
        ),
        "catalogue_item": f"{item_code} {item_name}" if item_code is not None else None,
        "document": document,
    }


def lookup_document(code: str, today: datetime.date, request=None) -> dict | None:
    day = today.isoformat()
    row = _document_row(code)
    if row is None:
        return None
    return {"type": "document", "code": code, "checked_on": day, **_facts_from_row(row, day, request)}


def lookup_instrument(code: str, today: datetime.date, request=None) -> dict | None:
    day = today.isoformat()
    row = _instrument_row(code)
    if row is None:
        return None
    return {"type": "instrument", "code": code, "checked_on": day, **instrument_facts(row, day, request)}


def lookup(kind: str, code: str, today: datetime.date, request=None) -> dict | None:
    """The public facts of a ``document`` check code or an ``instrument`` platform code."""
    return (lookup_document if kind == "document" else lookup_instrument)(code, today, request)


# --- pages -----------------------------------------------------------------------------------


def document_page(request: HttpRequest, facts: dict, kernel_labels: dict) -> HttpResponse:
    labels = page_labels(kernel_labels)
    facts["facts_html"] = facts_list(facts, labels)
    return page_response("metrology/verify_document.html", {"facts": facts}, labels)


def instrument_page(request: HttpRequest, facts: dict, kernel_labels: dict) -> HttpResponse:
    labels = page_labels(kernel_labels)
    facts["facts_html"] = instrument_list(facts, labels)
    if facts["document"] is not None:
        facts["document"]["facts_html"] = facts_list(facts["document"], labels)
    return page_response("metrology/verify_instrument.html", {"facts": facts}, labels)


def register() -> None:
    """Tell the documents kernel's public check about the metrology codes (``apps.py``)."""
    register_check(CheckKind("instrument", is_platform_code, lookup_instrument, instrument_page))
    register_check(CheckKind("document", is_document_code, lookup_document, document_page))
