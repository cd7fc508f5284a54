from __future__ import annotations

from django.db import models

from nqihub.core.access import Capability, has_capability


class AppendOnlyError(Exception):
    """Raised when code tries to change or delete an audit record."""


class AuditEventQuerySet(models.QuerySet):
    def for_user(self, user, action: str = "view") -> AuditEventQuerySet:
        """Only the audit administrator reads the trail, and nobody may change it."""
        if action in ("view", "export") and has_capability(user, Capability.READ_AUDIT):
            return self
        return self.none()

    def update(self, **kwargs):
        raise AppendOnlyError("Audit records cannot be changed.")

    def delete(self):
        raise AppendOnlyError("Audit records cannot be deleted; see prune_audit for retention.")

    def _prune(self) -> int:
        """Delete for retention only (prune_audit). Bypasses the guard above on purpose."""
        count, _ = super().delete()
        return count
