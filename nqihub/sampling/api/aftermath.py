"""API after the result (the same services as the pages).

* ``/api/v1/sampling-outcomes/``: the records from the test on, with their conclusion, final
  conclusion and running deadlines (``?overdue=true`` for the overdue ones, soonest first);
  ``notify`` and ``finalize`` (the organiser).
* ``/api/v1/sampling-objections/``: list and retrieve; create (the sampled party or the named
  producer); ``accept``, ``reject`` (the organiser) and ``retest`` (the re-testing institution).
* ``/api/v1/sampling-disposals/``: list and retrieve; ``correction`` (the enterprise),
  ``recheck`` and ``second-recheck`` (the organiser).
"""

from __future__ import annotations

from django.db.models import Exists, F, Min, OuterRef, Prefetch, Q
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from nqihub.audit.service import ask_permission
from nqihub.cases.models import CaseDeadline
from nqihub.cases.serializers import CaseTimelineField, timeline_queryset
from nqihub.core.api.views import ScopedGenericViewSet, body_after_permission

from ..models import Conclusion, Disposal, Objection, SamplingRecord
from ..querysets import DisposalQuerySet, ObjectionQuerySet, RecordQuerySet
from ..services import aftermath as services

MAX_ID = 2**63 - 1

# --- Output ------------------------------------------------------------------------------------


class AftermathPartySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class SamplingDeadlineSerializer(serializers.ModelSerializer):
    label = serializers.SerializerMethodField()
    overdue = serializers.BooleanField(source="is_overdue", read_only=True)

    class Meta:
        model = CaseDeadline
        fields = ["code", "label", "started_at", "not_before", "due_at", "overdue", "escalated_at"]
        read_only_fields = fields

    def get_label(self, deadline) -> str:
        return str(deadline.label())


class SamplingDisposalRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Disposal
        fields = ["id", "state"]
        read_only_fields = fields


class SamplingResultSerializer(serializers.ModelSerializer):
    number = serializers.CharField(source="case.number", read_only=True)
    organization = AftermathPartySerializer(read_only=True)
    producer = AftermathPartySerializer(read_only=True, allow_null=True)
    institution = AftermathPartySerializer(read_only=True)
    conclusion = serializers.ChoiceField(choices=Conclusion.choices, allow_blank=True, read_only=True)
    final_conclusion = serializers.ChoiceField(choices=Conclusion.choices, allow_blank=True, read_only=True)
    objection = serializers.SerializerMethodField()
    disposal = serializers.SerializerMethodField()
    deadlines = serializers.SerializerMethodField()

    class Meta:
        model = SamplingRecord
        fields = [
            "id",
            "number",
            "stage",
            "organization",
            "producer",
            "institution",
            "division",
            "conclusion",
            "notified_at",
            "final_conclusion",
            "final_at",
            "objection",
            "disposal",
            "deadlines",
        ]
        read_only_fields = fields

    def get_objection(self, record) -> int | None:
        try:
            return record.objection.pk
        except Objection.DoesNotExist:
            return None

    @extend_schema_field(SamplingDisposalRefSerializer(allow_null=True))
    def get_disposal(self, record) -> dict | None:
        try:
            return SamplingDisposalRefSerializer(record.disposal).data
        except Disposal.DoesNotExist:
            return None

    @extend_schema_field(SamplingDeadlineSerializer(many=True))
    def get_deadlines(self, record) -> list[dict]:
        running = getattr(record.case, "running", None)
        if running is None:
            running = list(record.case.deadlines.filter(state=CaseDeadline.State.OPEN).order_by("due_at", "pk"))
        return SamplingDeadlineSerializer(running, many=True).data


class SamplingObjectionSerializer(serializers.ModelSerializer):
    number = serializers.CharField(source="case.number", read_only=True)
    state = serializers.CharField(source="case.state", read_only=True)
    disputed_items = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    recheck_institution = AftermathPartySerializer(read_only=True, allow_null=True)
    conclusion = serializers.ChoiceField(choices=Conclusion.choices, allow_blank=True, read_only=True)
    retest_agrees = serializers.SerializerMethodField()
    events = CaseTimelineField()

    class Meta:
        model = Objection
        fields = [
            "id",
            "number",
            "state",
            "record",
            "reason",
            "disputed_items",
            "recheck_institution",
            "conclusion",
            "concluded_at",
            "retest_agrees",
            "events",
        ]
        read_only_fields = fields

    def get_retest_agrees(self, objection) -> bool | None:
        """Whether the re-test agrees with the first test (the party that objected pays) or not
        (the organiser pays); null before the re-test."""
        return services.retest_agrees(objection)


class SamplingDisposalSerializer(serializers.ModelSerializer):
    class Meta:
        model = Disposal
        fields = [
            "id",
            "record",
            "state",
            "ordered_at",
            "correction_report",
            "corrected_at",
            "rechecked_at",
            "announced_at",
            "announcement",
            "second_rechecked_at",
        ]
        read_only_fields = fields


# --- Input -------------------------------------------------------------------------------------


class SamplingObjectionInput(serializers.Serializer):
    record = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    reason = serializers.CharField(max_length=2000)
    disputed_items = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), allow_empty=False, max_length=200
    )


class SamplingObjectionAcceptInput(serializers.Serializer):
    institution = serializers.IntegerField(min_value=1, max_value=MAX_ID)


class SamplingObjectionRejectInput(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class SamplingRetestRow(serializers.Serializer):
    test_item = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    measured = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    value = serializers.DecimalField(max_digits=14, decimal_places=4, required=False, allow_null=True, default=None)
    conclusion = serializers.ChoiceField(
        choices=Conclusion.choices, required=False, help_text="Judgement of a text item (range items are judged)."
    )
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class SamplingRetestInput(serializers.Serializer):
    rows = SamplingRetestRow(many=True, allow_empty=False, max_length=200)


class SamplingCorrectionInput(serializers.Serializer):
    report = serializers.CharField(max_length=2000)


class SamplingRecheckInput(serializers.Serializer):
    passed = serializers.BooleanField()
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    announcement = serializers.CharField(
        max_length=300, required=False, allow_blank=True, default="", help_text="Required when the re-check failed."
    )


class SamplingSecondRecheckInput(serializers.Serializer):
    passed = serializers.BooleanField()
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


# --- Views -------------------------------------------------------------------------------------


def _running():
    return Prefetch(
        "case__deadlines",
        queryset=CaseDeadline.objects.filter(state=CaseDeadline.State.OPEN).order_by("due_at", "pk"),
        to_attr="running",
    )


class SamplingResultViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """Sampling records from the test on: the conclusion, what followed and the running
    countdowns. ``?overdue=true``: those with an overdue countdown; soonest deadline first."""

    queryset = RecordQuerySet(model=SamplingRecord).filter(stage__in=services.AFTER_TEST_STAGES)
    serializer_class = SamplingResultSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        qs = (
            super()
            .get_queryset()
            .select_related("case", "organization", "producer", "institution", "objection", "disposal")
            .prefetch_related(_running())
            .annotate(next_due=Min("case__deadlines__due_at", filter=Q(case__deadlines__state=CaseDeadline.State.OPEN)))
            .order_by(F("next_due").asc(nulls_last=True), "-pk")
        )
        if self.request.query_params.get("overdue") in ("true", "1"):
            qs = qs.filter(
                Exists(
                    CaseDeadline.objects.filter(
                        case_id=OuterRef("case_id"), state=CaseDeadline.State.OPEN, due_at__lt=timezone.now()
                    )
                )
            )
        return qs

    @extend_schema(
        parameters=[OpenApiParameter("overdue", OpenApiTypes.BOOL, description="Only records with an overdue step.")]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def _detail(self, pk) -> Response:
        return Response(SamplingResultSerializer(self.get_queryset().get(pk=pk)).data)

    @extend_schema(request=None, responses=SamplingResultSerializer)
    @action(detail=True, methods=["post"])
    def notify(self, request, pk=None):
        return self._detail(services.record_notify(actor=request.user, record=int(pk)).pk)

    @extend_schema(request=None, responses=SamplingResultSerializer)
    @action(detail=True, methods=["post"])
    def finalize(self, request, pk=None):
        return self._detail(services.record_finalize(actor=request.user, record=int(pk)).pk)


class SamplingObjectionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """Objections to sampling results (异议) and their re-tests; the re-test is final."""

    queryset = (
        ObjectionQuerySet(model=Objection)
        .select_related("case", "recheck_institution")
        .prefetch_related("disputed_items", Prefetch("case__events", queryset=timeline_queryset()))
        .order_by("-pk")
    )
    serializer_class = SamplingObjectionSerializer
    lookup_value_regex = r"\d+"

    def _detail(self, pk, code=status.HTTP_200_OK) -> Response:
        return Response(SamplingObjectionSerializer(self.get_queryset().get(pk=pk)).data, status=code)

    @extend_schema(request=SamplingObjectionInput, responses={201: SamplingObjectionSerializer})
    def create(self, request, *args, **kwargs):
        record = request.data.get("record") if hasattr(request.data, "get") else None
        values = body_after_permission(
            request,
            SamplingObjectionInput,
            may=lambda: ask_permission(services.objection_submit, actor=request.user, record=record),
        )
        objection = services.objection_submit(actor=request.user, **values)
        return self._detail(objection.pk, status.HTTP_201_CREATED)

    @extend_schema(request=SamplingObjectionAcceptInput, responses=SamplingObjectionSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        values = body_after_permission(
            request,
            SamplingObjectionAcceptInput,
            may=lambda: ask_permission(services.objection_accept, actor=request.user, objection=pk),
        )
        return self._detail(services.objection_accept(actor=request.user, objection=int(pk), **values).pk)

    @extend_schema(request=SamplingObjectionRejectInput, responses=SamplingObjectionSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        values = body_after_permission(
            request,
            SamplingObjectionRejectInput,
            may=lambda: ask_permission(services.objection_reject, actor=request.user, objection=pk),
        )
        return self._detail(services.objection_reject(actor=request.user, objection=int(pk), **values).pk)

    @extend_schema(request=SamplingRetestInput, responses=SamplingObjectionSerializer)
    @action(detail=True, methods=["post"])
    def retest(self, request, pk=None):
        values = body_after_permission(
            request,
            SamplingRetestInput,
            may=lambda: ask_permission(services.objection_retest, actor=request.user, objection=pk),
        )
        rows = [dict(row) for row in values["rows"]]
        return self._detail(services.objection_retest(actor=request.user, objection=int(pk), rows=rows).pk)


class SamplingDisposalViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """The handling of unqualified products: correction, re-check, announcement, second re-check."""

    queryset = DisposalQuerySet(model=Disposal).order_by("-pk")
    serializer_class = SamplingDisposalSerializer
    lookup_value_regex = r"\d+"

    def _detail(self, pk) -> Response:
        return Response(SamplingDisposalSerializer(self.get_queryset().get(pk=pk)).data)

    @extend_schema(request=SamplingCorrectionInput, responses=SamplingDisposalSerializer)
    @action(detail=True, methods=["post"])
    def correction(self, request, pk=None):
        values = body_after_permission(
            request,
            SamplingCorrectionInput,
            may=lambda: ask_permission(services.disposal_report_correction, actor=request.user, disposal=pk),
        )
        return self._detail(services.disposal_report_correction(actor=request.user, disposal=int(pk), **values).pk)

    @extend_schema(request=SamplingRecheckInput, responses=SamplingDisposalSerializer)
    @action(detail=True, methods=["post"])
    def recheck(self, request, pk=None):
        values = body_after_permission(
            request,
            SamplingRecheckInput,
            may=lambda: ask_permission(services.disposal_recheck, actor=request.user, disposal=pk),
        )
        return self._detail(services.disposal_recheck(actor=request.user, disposal=int(pk), **values).pk)

    @extend_schema(request=SamplingSecondRecheckInput, responses=SamplingDisposalSerializer)
    @action(detail=True, methods=["post"], url_path="second-recheck")
    def second_recheck(self, request, pk=None):
        values = body_after_permission(
            request,
            SamplingSecondRecheckInput,
            may=lambda: ask_permission(services.disposal_second_recheck, actor=request.user, disposal=pk),
        )
        return self._detail(services.disposal_second_recheck(actor=request.user, disposal=int(pk), **values).pk)


ROUTES = [
    ("sampling-outcomes", SamplingResultViewSet, "sampling-outcome"),
    ("sampling-objections", SamplingObjectionViewSet, "sampling-objection"),
    ("sampling-disposals", SamplingDisposalViewSet, "sampling-disposal"),
]
