"""Audit actions registered by name, with the label people read (Wagtail's pattern).

Records store the stable code (``registration.approve``); pages show the label in the
reader's language. Each app registers its own actions from its ``AppConfig.ready()``; this
module registers only the audit trail's own (and ``data.*``, the queries and exports that
``core.auditing`` records for every app). An action that was never registered is shown by its
code.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

_REGISTRY: dict[str, object] = {}


def register(code: str, label) -> None:
    _REGISTRY[code] = label


def label_for(code: str) -> str:
    label = _REGISTRY.get(code)
    return str(label) if label is not None else code


for _code, _label in {
    "data.query": _("Data query"),
    "data.export": _("Data export"),
    "audit.query": _("Audit trail searched"),
    "audit.export": _("Audit trail exported"),
    "audit.verify": _("Audit chain verified"),
    "audit.prune": _("Old audit records pruned"),
    "audit.incident_acknowledged": _("Audit chain head incident acknowledged"),
}.items():
    register(_code, _label)
