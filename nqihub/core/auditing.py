"""Recording regulators' data queries and exports.

The seed reports count them ("provided basic data 10,078 times"), and 等保 asks that
important user behaviour be audited. Pages, API lists and exports call this one function.

Core is the bottom layer and imports no other app, yet it writes audit records (this recorder,
the console's saves in ``core.admin``). The audit app plugs its ``audit_record`` in here with
``register_audit_writer`` from ``AuditConfig.ready``; ``audit_write`` then is that function.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from django.conf import settings
from django.utils import translation


class AuditWriter(Protocol):
    def __call__(self, *, action: str, actor: Any = None, target: Any = None, details: dict | None = None) -> Any: ...


_writer: AuditWriter | None = None


def register_audit_writer(writer: AuditWriter) -> None:
    """Called once, from ``AuditConfig.ready`` with ``nqihub.audit.services.audit_record``."""
    global _writer
    _writer = writer


def audit_write(*, action: str, actor: Any = None, target: Any = None, details: dict | None = None) -> Any:
    """Append one audit record through the registered writer (``audit.services.audit_record``).
    Without the audit app nothing could be recorded, so that is refused, not ignored."""
    if _writer is None:  # pragma: no cover - only without the audit app installed
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("No audit writer: nqihub.audit must be installed.")
    return _writer(action=action, actor=actor, target=target, details=details)


def _in_platform_language(text) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return str(text)


def record_regulator_query(*, user, model, params: Mapping, count: int | None, kind: str = "list", **extra) -> None:
    """One audit record of a read (``kind="list"``) or an export: the parameters as given,
    the number of rows, and ``extra`` details (e.g. ``truncated`` and ``total`` of a capped
    export)."""
    clean = {k: str(v)[:100] for k, v in list(params.items())[:20] if k not in ("csrfmiddlewaretoken",)}
    audit_write(
        action="data.export" if kind == "export" else "data.query",
        actor=user,
        # In the platform's language, whatever the reader's: the trail must read one way.
        target=(model._meta.label_lower, "", _in_platform_language(model._meta.verbose_name_plural)),
        details={"kind": kind, "params": clean, "count": count, **extra},
    )
