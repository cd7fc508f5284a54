"""API of annual sampling plans, batches and their draws: ``/api/v1/sampling-plans/``,
``/api/v1/sampling-batches/`` and ``/api/v1/sampling-draws/``. Reads are scoped by each model's
``for_user`` in the base view; every write (filing, approving or returning a plan, creating a
batch, drawing, redrawing, confirming) is one call of the same service the pages call, handed
the id from the URL so that a refusal is recorded like any other."""

from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from nqihub.cases.serializers import CaseTimelineField, timeline_queryset
from nqihub.core.api.views import ScopedGenericViewSet, body_value

from ..models import AnnualPlan, Assignment, Batch, Draw, Selection
from ..services import batches as batch_services
from ..services import draws as draw_services
from ..services import plans as plan_services

# --- Output ----------------------------------------------------------------------------------


class SamplingPlanSerializer(serializers.ModelSerializer):
    number = serializers.CharField(source="case.number", read_only=True)
    state = serializers.CharField(source="case.state", read_only=True, help_text="submitted, returned or approved")
    regulator = serializers.CharField(source="regulator.name", read_only=True)
    filed_with = serializers.CharField(
        source="case.handling_organization.name", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = AnnualPlan
        fields = ["id", "number", "state", "year", "title", "summary", "regulator", "division", "filed_with"]
        read_only_fields = fields


class SamplingPlanDetailSerializer(SamplingPlanSerializer):
    events = CaseTimelineField()

    class Meta(SamplingPlanSerializer.Meta):
        fields = [*SamplingPlanSerializer.Meta.fields, "events"]
        read_only_fields = fields


class SamplingBatchSerializer(serializers.ModelSerializer):
    item = serializers.CharField(source="item.code", read_only=True)
    rules_version = serializers.IntegerField(source="rules.version", read_only=True)
    organizer = serializers.CharField(source="organizer.name", read_only=True)
    kind = serializers.CharField(read_only=True, help_text="random, special, follow_up or emergency")
    institutions = serializers.SerializerMethodField()

    class Meta:
        model = Batch
        fields = [
            "id",
            "number",
            "plan",
            "kind",
            "title",
            "item",
            "rules_version",
            "organizer",
            "division",
            "object_count",
            "inspectors_per_object",
            "risk_weighted",
            "follow_up_of",
            "reason",
            "starts_on",
            "ends_on",
            "state",
            "institutions",
        ]
        read_only_fields = fields

    def get_institutions(self, batch) -> list[int]:
        return sorted(t.institution_id for t in batch.testing.all())


class AssignmentSerializer(serializers.ModelSerializer):
    inspector_name = serializers.CharField(source="inspector.name", read_only=True)
    recusal = serializers.CharField(
        read_only=True, help_text="Empty when drawn; else why they recused: same_office, declared or recent_check."
    )

    class Meta:
        model = Assignment
        fields = ["inspector", "inspector_name", "rank", "recusal", "replaces"]
        read_only_fields = fields


class SelectionSerializer(serializers.ModelSerializer):
    enterprise = serializers.CharField(source="pool_object.organization.name", read_only=True)
    assignments = AssignmentSerializer(many=True, read_only=True)

    class Meta:
        model = Selection
        fields = ["pool_object", "enterprise", "stratum", "rank", "status", "excluded_reason", "assignments"]
        read_only_fields = fields


class SamplingDrawSerializer(serializers.ModelSerializer):
    drawn_by = serializers.CharField(source="drawn_by.username", read_only=True)
    verify_command = serializers.SerializerMethodField()

    class Meta:
        model = Draw
        fields = [
            "id",
            "batch",
            "purpose",
            "seq",
            "seed",
            "algorithm",
            "pool_size",
            "pool_sha256",
            "quotas",
            "result",
            "reason",
            "drawn_by",
            "drawn_at",
            "verify_command",
        ]
        read_only_fields = fields

    def get_verify_command(self, drawn) -> str:
        return draw_services.verifier_command(drawn)


class SamplingDrawDetailSerializer(SamplingDrawSerializer):
    selections = SelectionSerializer(many=True, read_only=True)

    class Meta(SamplingDrawSerializer.Meta):
        fields = [*SamplingDrawSerializer.Meta.fields, "selections"]
        read_only_fields = fields


# --- Input -----------------------------------------------------------------------------------


class PlanInputSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    title = serializers.CharField(max_length=200)
    summary = serializers.CharField(required=False, allow_blank=True, default="")


class ReasonInputSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", help_text="Required for a redraw.")


class NoteInputSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class BatchInputSerializer(serializers.Serializer):
    plan = serializers.IntegerField(help_text="An approved plan of the acting regulator.")
    kind = serializers.CharField(help_text="random (双随机), special (专项), follow_up (跟踪) or emergency (应急)")
    title = serializers.CharField(max_length=200)
    item = serializers.IntegerField()
    division = serializers.CharField(required=False, help_text="The area: the organiser's division or one below.")
    object_count = serializers.IntegerField()
    inspectors_per_object = serializers.IntegerField(required=False)
    risk_weighted = serializers.BooleanField(required=False, default=True)
    follow_up_of = serializers.IntegerField(required=False, allow_null=True)
    reason = serializers.CharField(required=False, allow_blank=True)
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    institutions = serializers.ListField(child=serializers.IntegerField())


def _body(request) -> dict:
    return dict(request.data.items()) if hasattr(request.data, "items") else {}


# --- Views -----------------------------------------------------------------------------------


class SamplingPlanViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """Annual sampling plans, filed with the regulator one level above (the region's own plan is
    approved when filed)."""

    queryset = AnnualPlan.objects.select_related("case__handling_organization", "regulator").order_by(
        "-year", "division", "pk"
    )
    lookup_value_regex = r"\d+"

    def get_serializer_class(self):
        return SamplingPlanSerializer if self.action == "list" else SamplingPlanDetailSerializer

    def get_queryset(self):
        qs = super().get_queryset()
        if self.action != "list":
            qs = qs.prefetch_related(Prefetch("case__events", queryset=timeline_queryset()))
        return qs

    def _detail(self, pk, code=status.HTTP_200_OK) -> Response:
        plan = AnnualPlan.objects.select_related("case__handling_organization", "regulator").get(pk=pk)
        return Response(SamplingPlanDetailSerializer(plan).data, status=code)

    @extend_schema(request=PlanInputSerializer, responses={201: SamplingPlanDetailSerializer})
    def create(self, request, *args, **kwargs):
        plan = plan_services.plan_submit(actor=request.user, data=_body(request))
        return self._detail(plan.pk, status.HTTP_201_CREATED)

    @extend_schema(request=NoteInputSerializer, responses=SamplingPlanDetailSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        plan = plan_services.plan_approve(actor=request.user, plan=int(pk), note=body_value(request, "note", ""))
        return self._detail(plan.pk)

    @extend_schema(request=ReasonInputSerializer, responses=SamplingPlanDetailSerializer)
    @action(detail=True, methods=["post"], url_path="return")
    def return_(self, request, pk=None):
        plan = plan_services.plan_return(actor=request.user, plan=int(pk), reason=body_value(request, "reason", ""))
        return self._detail(plan.pk)

    @extend_schema(request=PlanInputSerializer, responses=SamplingPlanDetailSerializer)
    @action(detail=True, methods=["post"])
    def resubmit(self, request, pk=None):
        plan = plan_services.plan_resubmit(actor=request.user, plan=int(pk), data=_body(request))
        return self._detail(plan.pk)


class SamplingBatchViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """Sampling batches under approved plans; ``draw`` (a redraw with its reason) and ``confirm``
    (start sampling) are the organiser's actions."""

    queryset = (
        Batch.objects.select_related("item", "rules", "organizer")
        .prefetch_related("testing")
        .order_by("-starts_on", "-pk")
    )
    serializer_class = SamplingBatchSerializer
    lookup_value_regex = r"\d+"

    def _detail(self, pk, code=status.HTTP_200_OK) -> Response:
        return Response(SamplingBatchSerializer(self.queryset.get(pk=pk)).data, status=code)

    @extend_schema(request=BatchInputSerializer, responses={201: SamplingBatchSerializer})
    def create(self, request, *args, **kwargs):
        data = _body(request)
        if hasattr(request.data, "getlist"):
            data["institutions"] = request.data.getlist("institutions")
        batch = batch_services.batch_create(actor=request.user, plan=data.pop("plan", None), data=data)
        return self._detail(batch.pk, status.HTTP_201_CREATED)

    @extend_schema(request=ReasonInputSerializer, responses={201: SamplingDrawDetailSerializer})
    @action(detail=True, methods=["post"])
    def draw(self, request, pk=None):
        drawn = draw_services.batch_draw(actor=request.user, batch=int(pk), reason=body_value(request, "reason", ""))
        return Response(SamplingDrawDetailSerializer(drawn).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=SamplingBatchSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        batch = draw_services.batch_confirm(actor=request.user, batch=int(pk))
        return self._detail(batch.pk)


class SamplingDrawViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """Every draw of a batch, kept: seed, algorithm, the pool's size and SHA-256, the quotas, the
    result and, on the detail, the drawn objects with their inspectors and recusals."""

    queryset = Draw.objects.select_related("batch", "drawn_by").order_by("batch", "purpose", "seq")
    lookup_value_regex = r"\d+"

    def get_serializer_class(self):
        return SamplingDrawSerializer if self.action == "list" else SamplingDrawDetailSerializer

    def get_queryset(self):
        qs = super().get_queryset()
        batch = self.request.query_params.get("batch")
        if batch is not None:
            qs = qs.filter(batch_id=int(batch)) if batch.isdigit() else qs.none()
        if self.action != "list":
            qs = qs.prefetch_related(
                Prefetch(
                    "selections",
                    queryset=Selection.objects.select_related("pool_object__organization")
                    .prefetch_related(Prefetch("assignments", queryset=Assignment.objects.select_related("inspector")))
                    .order_by("stratum", "rank"),
                )
            )
        return qs


ROUTES = [
    ("sampling-plans", SamplingPlanViewSet, "sampling-plan"),
    ("sampling-batches", SamplingBatchViewSet, "sampling-batch"),
    ("sampling-draws", SamplingDrawViewSet, "sampling-draw"),
]
