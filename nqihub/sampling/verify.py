"""The sampling module's answer on the public check ``/verify/<code>/`` (the address, the rate
limit, refusals and caching are the documents kernel's: ``nqihub.documents.verify``).

An inspection report's check code (``CB`` and 16 characters, the QR code on the report) → the
report's public facts as written at issue: kind and number, the product, the enterprise's name,
the conclusion, the institution and the day — and its live state (valid, revoked, superseded).
Never a person, a contact, a price or a revocation reason. One indexed single-row query.
"""

from __future__ import annotations

import datetime
import functools

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

from nqihub.documents.models import status_of
from nqihub.documents.pdf import public_check_url
from nqihub.documents.registry import CheckKind, register_check
from nqihub.documents.verify import page_response

from .models.records import Conclusion, InspectionReport, is_report_code

STATUS_LABELS = {
    "valid": gettext_lazy("Valid"),
    "revoked": gettext_lazy("Revoked"),
    "superseded": gettext_lazy("Superseded by a newer document"),
}
PAGE_LABELS = {
    "number": gettext_lazy("Number"),
    "product": gettext_lazy("Product"),
    "category": gettext_lazy("Product category"),
    "enterprise": gettext_lazy("Sampled enterprise"),
    "institution": gettext_lazy("Testing institution"),
    "conclusion": gettext_lazy("Conclusion"),
    "issued_on": gettext_lazy("Issued on"),
    "revoked_on": gettext_lazy("Revoked on"),
    "check_newer": gettext_lazy("Check the newer report"),
}
KIND_LABELS = dict(InspectionReport.Kind.choices)
CONCLUSION_LABELS = dict(Conclusion.choices)


@functools.lru_cache(maxsize=16)
def _labels(language: str, kernel: tuple) -> dict[str, str]:
    with translation.override(language):
        return {**dict(kernel), **{key: str(label) for key, label in PAGE_LABELS.items()}}


@functools.lru_cache(maxsize=16)
def _words(language: str) -> dict[str, dict[str, str]]:
    with translation.override(language):
        return {
            name: {key: str(label) for key, label in labels.items()}
            for name, labels in (("status", STATUS_LABELS), ("kind", KIND_LABELS), ("conclusion", CONCLUSION_LABELS))
        }


def _language() -> str:
    return translation.get_language() or settings.LANGUAGE_CODE


_ROW = (
    "number",
    "kind",
    "state",
    "valid_until",
    "revoked_at",
    "public_facts",
    "superseded_by__public_code",
    "superseded_by__number",
)


def lookup_report(code: str, today: datetime.date, request=None) -> dict | None:
    row = InspectionReport.objects.filter(public_code=code).values_list(*_ROW).first()
    if row is None:
        return None
    number, kind, state, valid_until, revoked_at, facts, newer_code, newer_number = row
    status = status_of(state=state, valid_until=valid_until, day=today)
    words = _words(_language())
    conclusion = facts.get("conclusion", "")
    return {
        "type": "inspection_report",
        "code": code,
        "checked_on": today.isoformat(),
        "status": status,
        "status_label": words["status"].get(status, status),
        "kind": kind,
        "kind_label": words["kind"].get(kind, kind),
        "number": number,
        "product": facts.get("product", ""),
        "category": facts.get("category", ""),
        "enterprise": facts.get("enterprise", ""),
        "institution": facts.get("institution", ""),
        "conclusion": conclusion,
        "conclusion_label": words["conclusion"].get(conclusion, conclusion),
        "issued_on": facts.get("issued_on", ""),
        "revoked_on": timezone.localtime(revoked_at).date().isoformat() if status == "revoked" and revoked_at else None,
        "superseded_by": (
            {"number": newer_number, "check_code": newer_code, "check_url": public_check_url(newer_code, request)}
            if status == "superseded" and newer_code
            else None
        ),
    }


def report_page(request: HttpRequest, facts: dict, kernel_labels: dict) -> HttpResponse:
    labels = _labels(_language(), tuple(kernel_labels.items()))
    return page_response("sampling/verify_report.html", {"facts": facts}, labels, branch={"status", "conclusion"})


def register() -> None:
    """Tell the documents kernel's public check about report codes (``apps.py``)."""
    register_check(CheckKind("inspection_report", is_report_code, lookup_report, report_page))
