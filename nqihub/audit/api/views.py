from __future__ import annotations

from rest_framework import serializers

from nqihub.core.api.views import ScopedReadOnlyViewSet

from ..filters import AuditEventFilter
from ..models import AuditEvent


class AuditEventSerializer(serializers.ModelSerializer):
    organization = serializers.IntegerField(source="organization_id_snapshot", allow_null=True)
    actor = serializers.CharField(source="actor_username")

    class Meta:
        model = AuditEvent
        fields = [
            "seq",
            "occurred_at",
            "actor",
            "organization",
            "organization_name",
            "action",
            "target_type",
            "target_id",
            "target_repr",
            "outcome",
            "source_address",
            "channel",
            "request_id",
            "details",
            "hash",
        ]


class AuditEventViewSet(ScopedReadOnlyViewSet):
    """The audit trail, for the audit administrator only. Read-only: records are never
    changed or deleted."""

    queryset = AuditEvent.objects.order_by("-seq")
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilter
    lookup_field = "seq"
    audit_regulator_queries = False

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        # The audit administrator's own reading is itself recorded (安全管理中心: 审计管理 is audited).
        from ..services import audit_record

        audit_record(
            action="audit.query",
            actor=request.user,
            details={
                "params": {k: v[:100] for k, v in request.query_params.items()},
                "count": response.data.get("count"),
            },
        )
        return response
