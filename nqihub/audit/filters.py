from __future__ import annotations

from django_filters import rest_framework as filters

from .models import AuditEvent, Outcome


class AuditEventFilter(filters.FilterSet):
    """The one set of audit search criteria, used by the page, its export and the API."""

    username = filters.CharFilter(field_name="actor_username", lookup_expr="iexact", label="Account")
    action = filters.CharFilter(field_name="action", lookup_expr="startswith", label="Action (prefix)")
    outcome = filters.ChoiceFilter(choices=Outcome.choices)
    organization = filters.NumberFilter(field_name="organization_id_snapshot", label="Organisation id")
    target_type = filters.CharFilter(field_name="target_type")
    target_id = filters.CharFilter(field_name="target_id")
    source_address = filters.CharFilter(field_name="source_address")
    since = filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    until = filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")
    date_from = filters.DateFilter(field_name="occurred_at", lookup_expr="date__gte", label="From (date)")
    date_to = filters.DateFilter(field_name="occurred_at", lookup_expr="date__lte", label="To (date)")

    class Meta:
        model = AuditEvent
        fields: list[str] = []
