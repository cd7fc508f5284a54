from __future__ import annotations

from nqihub.core.access import Capability
from nqihub.core.scoping import ScopedQuerySet, capability


class AppendOnlyError(Exception):
    """Raised when code tries to change or delete an audit record."""


class AuditEventQuerySet(ScopedQuerySet):
    # Only the audit administrator reads the trail, and nobody may change it.
    scope = {("view", "export"): (capability(Capability.READ_AUDIT),)}

    def update(self, **kwargs):
        raise AppendOnlyError("Audit records cannot be changed.")

    def delete(self):
        raise AppendOnlyError("Audit records cannot be deleted; see prune_audit for retention.")

    def _prune(self) -> int:
        """Delete for retention only (prune_audit). Bypasses the guard above on purpose."""
        count, _ = super().delete()
        return count
