"""API of 强检备案 (mandatory-verification filings): ``/api/v1/instrument-filings/``.

Reads are scoped by ``InstrumentFiling.objects.for_user`` in the base view; every write is
one call of ``nqihub.metrology.services.filings``, which checks, records and refuses. The
actions hand the service the id from the URL, so a refusal because the filing is not the
caller's to see is recorded like every other.
"""

from __future__ import annotations

from django.db.models import Count, Prefetch
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from nqihub.cases.serializers import CaseTimelineField, timeline_queryset
from nqihub.core.api.views import ScopedGenericViewSet, body_value
from nqihub.organizations.api.serializers import DivisionRefSerializer

from ..models import Instrument, InstrumentFiling
from ..rules import MAX_ID
from ..selectors import within_division
from ..services import filings as services

# --- Output ----------------------------------------------------------------------------------


class EnterpriseRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    credit_code = serializers.CharField(allow_null=True)


class FiledInstrumentRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Instrument
        fields = ["id", "platform_code", "name", "model_spec", "factory_number", "use_field", "status", "filed"]
        read_only_fields = fields


@extend_schema_field(
    {
        "type": "string",
        "enum": [choice.value for choice in InstrumentFiling.State],
        "description": "* `submitted` - Awaiting review\n* `returned` - Returned for correction\n* `approved` - Filed",
    },
    component_name="InstrumentFilingStateEnum",
)
class _FilingStateField(serializers.CharField):
    """The filing's state, described once as its own schema component (the list and the
    detail share it, and it does not collide with other models' ``state``)."""


class InstrumentFilingListSerializer(serializers.ModelSerializer):
    state = _FilingStateField(read_only=True)
    organization = EnterpriseRefSerializer(read_only=True)
    division = DivisionRefSerializer(read_only=True)
    instrument_count = serializers.IntegerField(read_only=True)
    submitted_by = serializers.CharField(source="submitted_by.username", read_only=True)
    reviewed_by = serializers.CharField(source="reviewed_by.username", read_only=True, allow_null=True, default=None)

    class Meta:
        model = InstrumentFiling
        fields = [
            "id",
            "number",
            "state",
            "organization",
            "division",
            "instrument_count",
            "submitted_by",
            "submitted_at",
            "reviewed_by",
            "reviewed_at",
            "return_reason",
        ]
        read_only_fields = fields


class InstrumentFilingSerializer(InstrumentFilingListSerializer):
    """One filing with its instruments. ``return_reason`` is the reason of the last return;
    it stays after a resubmission, as the filing's history."""

    instruments = FiledInstrumentRefSerializer(many=True, read_only=True)
    events = CaseTimelineField()

    class Meta(InstrumentFilingListSerializer.Meta):
        fields = [*InstrumentFilingListSerializer.Meta.fields, "instruments", "events"]
        read_only_fields = fields


# --- Input -----------------------------------------------------------------------------------


class FilingInputSerializer(serializers.Serializer):
    instrument_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        allow_empty=True,
        max_length=services.MAX_INSTRUMENTS_PER_FILING * 2,
        help_text="Ids of the acting enterprise's mandatory instruments to file.",
    )


class FilingReturnInputSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        default="",
        help_text="What the enterprise must correct (required).",
    )


# --- Views -----------------------------------------------------------------------------------


class InstrumentFilingFilter(filters.FilterSet):
    state = filters.ChoiceFilter(choices=InstrumentFiling.State.choices)
    organization = filters.NumberFilter(field_name="organization_id", label="Enterprise id")
    within = filters.CharFilter(method="filter_within", label="Division code: filings in it and below")

    class Meta:
        model = InstrumentFiling
        fields = []

    def filter_within(self, queryset, name, value):
        return within_division(queryset, value)


class InstrumentFilingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """强检备案: enterprises file their mandatory-verification instruments; the county-level
    regulator approves a filing or returns it with a reason; regulators above it read them."""

    queryset = (
        InstrumentFiling.objects.select_related("organization", "division", "submitted_by", "reviewed_by")
        .annotate(instrument_count=Count("instruments"))
        .order_by("-submitted_at", "-pk")
    )
    filterset_class = InstrumentFilingFilter
    lookup_value_regex = r"\d+"

    def get_serializer_class(self):
        return InstrumentFilingListSerializer if self.action == "list" else InstrumentFilingSerializer

    def get_queryset(self):
        qs = super().get_queryset()
        if self.action != "list":
            qs = qs.select_related("case").prefetch_related(
                Prefetch("instruments", queryset=Instrument.objects.order_by("pk")),
                Prefetch("case__events", queryset=timeline_queryset()),
            )
        return qs

    def _detail(self, pk) -> Response:
        return Response(InstrumentFilingSerializer(self.get_queryset().get(pk=pk)).data)

    @extend_schema(request=FilingInputSerializer, responses={201: InstrumentFilingSerializer})
    def create(self, request, *args, **kwargs):
        ids = body_value(request, "instrument_ids", [], many=True)
        filing = services.filing_submit(actor=request.user, instrument_ids=ids)
        response = self._detail(filing.pk)
        response.status_code = status.HTTP_201_CREATED
        return response

    @extend_schema(request=None, responses=InstrumentFilingSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        filing = services.filing_approve(actor=request.user, filing=int(pk))
        return self._detail(filing.pk)

    @extend_schema(request=FilingReturnInputSerializer, responses=InstrumentFilingSerializer)
    @action(detail=True, methods=["post"], url_path="return")
    def return_(self, request, pk=None):
        filing = services.filing_return(actor=request.user, filing=int(pk), reason=body_value(request, "reason", ""))
        return self._detail(filing.pk)

    @extend_schema(request=FilingInputSerializer, responses=InstrumentFilingSerializer)
    @action(detail=True, methods=["post"])
    def resubmit(self, request, pk=None):
        filing = services.filing_resubmit(
            actor=request.user, filing=int(pk), instrument_ids=body_value(request, "instrument_ids", [], many=True)
        )
        return self._detail(filing.pk)


ROUTES = [("instrument-filings", InstrumentFilingViewSet, "instrument-filing")]
