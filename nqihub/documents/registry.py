"""What modules tell the documents kernel, in their ``AppConfig.ready``.

* :func:`register_document_kind` — a kind of issued document: its model and kind value, the
  counter key, the number's form, the status word while in force, and how its PDF is drawn.
* :func:`register_check` — a kind of public check code: how to recognise it (without a query),
  how to look it up and how to show it. ``/verify/<code>/`` dispatches by these.

The kernel imports no module: the module imports this registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.http import HttpResponse

if TYPE_CHECKING:
    from .models import IssuedDocumentBase


@dataclass(frozen=True)
class DocumentKind:
    """One kind of issued document.

    ``key`` names the counter (``metrology.certificate``); ``number_prefix(issuer_id, year)``
    gives everything before the sequence (``JD-12-2026-``), the sequence follows with at least
    ``digits`` digits (more once a year passes the width). ``in_force`` is the public status
    while valid (``valid``, or ``failed`` for a notice of failure). ``render(document)`` returns
    the PDF bytes; ``filename(document)`` the download name."""

    key: str
    model: type[IssuedDocumentBase]
    value: str
    number_prefix: Callable[[int, int], str]
    render: Callable[[object], bytes]
    filename: Callable[[object], str] = field(default=lambda document: f"{document.number}.pdf")
    digits: int = 6
    in_force: str = "valid"

    def number(self, issuer_id: int, year: int, sequence: int) -> str:
        return f"{self.number_prefix(issuer_id, year)}{sequence:0{self.digits}d}"


_KINDS: dict[tuple[str, str], DocumentKind] = {}
_KEYS: dict[str, DocumentKind] = {}


def register_document_kind(kind: DocumentKind) -> None:
    label = kind.model._meta.label_lower
    existing = _KEYS.get(kind.key)
    if existing is not None and (existing.model._meta.label_lower, existing.value) != (label, kind.value):
        raise ValueError(f"document kind {kind.key!r} is already registered for {existing.model._meta.label}")
    _KINDS[(label, kind.value)] = kind
    _KEYS[kind.key] = kind


def document_kind(model_or_document, value: str | None = None) -> DocumentKind:
    """The registered kind of a document (or of a model and kind value)."""
    if value is None:
        value = model_or_document.kind
    try:
        return _KINDS[(model_or_document._meta.label_lower, value)]
    except KeyError:
        raise LookupError(f"no document kind {value!r} is registered for {model_or_document._meta.label}") from None


def document_kinds() -> list[DocumentKind]:
    return list(_KEYS.values())


@dataclass(frozen=True)
class CheckKind:
    """One kind of public check code.

    ``recognise(code)`` takes the code upper-cased and stripped and says, without a query,
    whether it has this kind's form (prefix, length, alphabet). ``lookup(code, today, request)``
    returns the public facts as a JSON-ready dict (with ``type``, ``code``, ``checked_on``) or
    None when no such code exists. ``page(request, facts, labels)`` renders the HTML answer."""

    name: str
    recognise: Callable[[str], bool]
    lookup: Callable[..., dict | None]
    page: Callable[..., HttpResponse]


_CHECKS: dict[str, CheckKind] = {}


def register_check(kind: CheckKind) -> None:
    _CHECKS[kind.name] = kind


def check_kinds() -> list[CheckKind]:
    return list(_CHECKS.values())


def classify_code(raw: str) -> tuple[CheckKind, str] | None:
    """(the registered kind, normalised code) when ``raw`` has the form of a registered check
    code (letters case-insensitive), else None — decided without a query. Kinds are tried in
    the order they were registered; their forms must not overlap."""
    code = (raw or "").strip().upper()
    if not code or len(code) > 64:
        return None
    for kind in _CHECKS.values():
        if kind.recognise(code):
            return kind, code
    return None
