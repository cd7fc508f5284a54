from __future__ import annotations

from .models import AuditEvent


def audit_dashboard(user) -> dict:
    events = AuditEvent.objects.for_user(user, "view")
    return {
        "recent_events": events.order_by("-seq")[:20],
        "failed_logins": events.filter(action="auth.login", outcome="failure").order_by("-seq")[:10],
    }
