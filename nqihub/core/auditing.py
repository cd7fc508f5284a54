"""Recording regulators' data queries and exports.

The seed reports count them ("provided basic data 10,078 times"), and 等保 asks that
important user behaviour be audited. Pages, API lists and exports call this one function.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.conf import settings
from django.utils import translation

from nqihub.audit.services import audit_record


def _in_platform_language(text) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return str(text)


def record_regulator_query(
    *, user, model, params: Mapping, count: int | None, kind: str = "list", **extra
) -> None:
    """One audit record of a read (``kind="list"``) or an export: the parameters as given,
    the number of rows, and ``extra`` details (e.g. ``truncated`` and ``total`` of a capped
    export)."""
    clean = {k: str(v)[:100] for k, v in list(params.items())[:20] if k not in ("csrfmiddlewaretoken",)}
    audit_record(
        action="data.export" if kind == "export" else "data.query",
        actor=user,
        # In the platform's language, whatever the reader's: the trail must read one way.
        target=(model._meta.label_lower, "", _in_platform_language(model._meta.verbose_name_plural)),
        details={"kind": kind, "params": clean, "count": count, **extra},
    )
