"""The public check ``/verify/<code>/``: what anyone who scans a certificate's or a label's QR
code sees, without signing in.

* A document's check code (16 characters) → the document's status today: valid, expired,
  revoked or superseded (with the check link of the document that replaced it).
* An instrument's platform code (``JL`` + 12 characters, the labels' QR) → the instrument's
  current status from its latest document: a valid certificate's facts, an expired one, a
  failed verification, or no valid certificate.

Only non-personal facts are shown: the document's kind and number, the institution, the
instrument (name, model, factory number, platform code), the catalogue item, the dates and
the result — never the enterprise's contacts, people's names, fees or revocation reasons.

``?format=json``, ``Accept: application/json`` or ``/verify/<code>.json`` give the same facts
as JSON for machines. The code is checked for length and alphabet before any query; an
unknown or malformed code is a 404 with a clear message (a forged code looks like this).
Each client address may check ``NQI_VERIFY_RATE_PER_MINUTE`` codes a minute (default 60;
a fixed window counted in Django's cache — production configures a cache shared by all
workers, otherwise each process counts on its own); beyond it, 429.

The page is cheap: a document's public facts are written into it at issue (documents never
change; only their state does), so a document code costs one indexed single-row statement,
compiled once (two ORM queries per platform code); no session or CSRF cookie (the template
does not extend the site's base page, which carries forms); short public caching.
"""

from __future__ import annotations

import datetime
import functools
import json
import time
from html import escape

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import path
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.dateparse import parse_datetime
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from nqihub.core.middleware import client_address
from nqihub.documents.pdf import public_check_url

from ..models import (
    PLATFORM_CODE_ALPHABET,
    Instrument,
    IssuedDocument,
    VerificationResult,
    document_status,
    instrument_public_facts,
)

app_name = "verify"

PUBLIC_CODE_LENGTH = 16
PLATFORM_CODE_PREFIX = "JL"
PLATFORM_CODE_LENGTH = 14
_ALPHABET = frozenset(PLATFORM_CODE_ALPHABET)
RATE_WINDOW_SECONDS = 60

# Status words of the public check (what a person reads; the JSON carries the codes too).
STATUS_LABELS = {
    "valid": gettext_lazy("Valid"),
    "expired": gettext_lazy("Expired"),
    "revoked": gettext_lazy("Revoked"),
    "superseded": gettext_lazy("Superseded by a newer document"),
    "failed": gettext_lazy("Failed verification: the instrument must not be used"),
    "none": gettext_lazy("No valid verification certificate"),
}
# The words every check page shows, translated once per language and process (the pages are
# the platform's busiest: a template tag per label cost a tenth of a check).
PAGE_LABELS = {
    "site": gettext_lazy("NQI Hub"),
    "header": gettext_lazy("Public check of verification certificates"),
    "footer": gettext_lazy(
        "This page shows the platform's record at the time of the check. It contains no personal information."
    ),
    "check_code": gettext_lazy("Check code"),
    "checked_on": gettext_lazy("Checked on"),
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
}


@functools.lru_cache(maxsize=16)
def _page_labels(language: str) -> dict[str, str]:
    with translation.override(language):
        labels = {key: str(label) for key, label in PAGE_LABELS.items()}
    labels["icon"] = static("nqihub/favicon.svg")
    return labels


def page_labels() -> dict[str, str]:
    return _page_labels(translation.get_language() or settings.LANGUAGE_CODE)


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


# --- the code --------------------------------------------------------------------------------


def classify_code(raw: str) -> tuple[str, str] | None:
    """("document" | "instrument", normalised code) when ``raw`` has the form of a check code
    or a platform code (letters case-insensitive), else None — decided without a query."""
    code = (raw or "").strip().upper()
    if len(code) == PUBLIC_CODE_LENGTH and _ALPHABET.issuperset(code):
        return "document", code
    if (
        len(code) == PLATFORM_CODE_LENGTH
        and code.startswith(PLATFORM_CODE_PREFIX)
        and _ALPHABET.issuperset(code[len(PLATFORM_CODE_PREFIX) :])
    ):
        return "instrument", code
    return None


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
    return {
        "status": status,
        "status_label": str(STATUS_LABELS[status]),
        "kind": kind,
        "kind_label": str(KIND_LABELS.get(kind, kind)),
        "number": number,
        "check_code": code,
        "check_url": public_check_url(code, request),
        "institution": facts["institution"],
        "instrument": facts["instrument"],
        "catalogue_item": facts["catalogue_item"],
        "result": outcome,
        "result_label": str(RESULT_LABELS.get(outcome, outcome)),
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


def instrument_facts(instrument: Instrument, today: str, request=None) -> dict:
    """An instrument's current status from its latest document still in force (neither
    revoked nor superseded): a certificate's status, a failed verification, or none."""
    latest = (
        IssuedDocument.objects.filter(instrument=instrument, state=IssuedDocument.State.VALID)
        .order_by("-result__verified_on", "-issued_at", "-pk")
        .values_list(*_ROW)
        .first()
    )
    document = _facts_from_row(latest, today, request) if latest else None
    status = document["status"] if document else "none"
    return {
        "status": status,
        "status_label": str(STATUS_LABELS[status]),
        "instrument": instrument_public_facts(instrument),
        "catalogue_item": (
            f"{instrument.catalogue_item.code} {instrument.catalogue_item.name}" if instrument.catalogue_item else None
        ),
        "document": document,
    }


def lookup(kind: str, code: str, today: datetime.date, request=None) -> dict | None:
    day = today.isoformat()
    if kind == "document":
        row = _document_row(code)
        if row is None:
            return None
        return {"type": "document", "code": code, "checked_on": day, **_facts_from_row(row, day, request)}
    instrument = (
        Instrument.objects.select_related("catalogue_item")
        .only("name", "model_spec", "factory_number", "platform_code", "catalogue_item__code", "catalogue_item__name")
        .filter(platform_code=code)
        .first()
    )
    if instrument is None:
        return None
    return {"type": "instrument", "code": code, "checked_on": day, **instrument_facts(instrument, day, request)}


# --- rate limit ------------------------------------------------------------------------------


def rate_limited(request: HttpRequest) -> bool:
    """Whether this client address has used up this minute's checks (fixed window, counted in
    the default cache). A limit of 0 or less switches the check off."""
    limit = int(getattr(settings, "NQI_VERIFY_RATE_PER_MINUTE", 60))
    if limit <= 0:
        return False
    window = int(time.time() // RATE_WINDOW_SECONDS)
    key = f"nqi:verify-rate:{client_address(request) or '-'}:{window}"
    cache.add(key, 0, RATE_WINDOW_SECONDS + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, RATE_WINDOW_SECONDS + 5)
        count = 1
    return count > limit


# --- views -----------------------------------------------------------------------------------


def _wants_json(request: HttpRequest, as_json: bool) -> bool:
    if as_json or request.GET.get("format") == "json":
        return True
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def _no_store(response: HttpResponse) -> HttpResponse:
    patch_cache_control(response, no_store=True, max_age=0)
    return response


def _refusal(request, *, json: bool, status: int, code: str, detail: str, template: str) -> HttpResponse:
    if json:
        response = JsonResponse(
            {"detail": detail, "code": code}, status=status, json_dumps_params={"ensure_ascii": False}
        )
    else:
        response = render(request, template, {"detail": detail, "t": page_labels()}, status=status)
    return _no_store(response)


def check(request: HttpRequest, code: str, as_json: bool = False) -> HttpResponse:
    """The public check of a document's check code or an instrument's platform code."""
    json = _wants_json(request, as_json)
    if rate_limited(request):
        response = _refusal(
            request,
            json=json,
            status=429,
            code="rate_limited",
            template="metrology/verify_limited.html",
            detail=_("Too many checks from your address. Please wait a minute and try again."),
        )
        response["Retry-After"] = str(RATE_WINDOW_SECONDS)
        return response
    parsed = classify_code(code)
    facts = lookup(*parsed, timezone.localdate(), request) if parsed else None
    if facts is None:
        return _refusal(
            request,
            json=json,
            status=404,
            code="not_found",
            template="metrology/verify_not_found.html",
            detail=_(
                "No certificate, notice or instrument has the check code “%(code)s”. Check that it was entered "
                "correctly; a document whose code cannot be found here was not issued through this platform "
                "and may be forged."
            )
            % {"code": code[:40]},
        )
    if json:
        response = JsonResponse(facts, json_dumps_params={"ensure_ascii": False})
    else:
        facts["json_url"] = f"../{facts['code']}.json"  # relative to /verify/<code>/: no reverse() per check
        labels = page_labels()
        document = facts if facts["type"] == "document" else facts["document"]
        if document is not None:
            document["facts_html"] = facts_list(document, labels)
        template = (
            "metrology/verify_document.html" if facts["type"] == "document" else "metrology/verify_instrument.html"
        )
        response = render(request, template, {"facts": facts, "t": labels})
    # Shared caches may keep the page, but must ask again each time: a revocation counts at once.
    patch_cache_control(response, public=True, no_cache=True, max_age=0)
    patch_vary_headers(response, ["Accept"])
    return response


def check_json(request: HttpRequest, code: str) -> HttpResponse:
    return check(request, code, as_json=True)


urlpatterns = [
    path("<str:code>.json", check_json, name="check_json"),
    path("<str:code>/", check, name="check"),
]
