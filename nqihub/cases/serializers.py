"""The one API shape of a case's timeline, used by every case's serializer."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .models import CaseEvent
from .selectors import label_events


class CaseEventSerializer(serializers.Serializer):
    """One step of a case's timeline: when, which step (its code and its label in the reader's
    language), who, and the note."""

    at = serializers.DateTimeField()
    kind = serializers.CharField(help_text="The step's code (submitted, returned, approved, …).")
    # The API field is named `label`, like DRF's Field.label attribute the stubs declare.
    label = serializers.SerializerMethodField()  # type: ignore[assignment]
    actor = serializers.CharField(source="actor.username", allow_null=True, default=None)
    note = serializers.CharField()

    def get_label(self, event) -> str:
        label = getattr(event, "label", None)
        if label is None:
            label = event.label_for(event.case.kind)
        return str(label)


@extend_schema_field(CaseEventSerializer(many=True))
class CaseTimelineField(serializers.Field):
    """A domain serializer's ``events`` field: the steps of the object's ``case``, in order. With
    ``Prefetch("case__events", queryset=timeline_queryset())`` a list costs no query per row."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("source", "*")
        super().__init__(**kwargs)

    def to_representation(self, value):
        case = getattr(value, "case", None)
        if case is None:
            return []
        events = sorted(case.events.all(), key=lambda e: (e.at, e.pk))
        return CaseEventSerializer(label_events(events, case.kind), many=True).data


def timeline_queryset():
    return CaseEvent.objects.select_related("actor").order_by("at", "pk")
