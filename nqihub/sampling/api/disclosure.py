"""API of the disclosure area.

* ``GET /api/v1/sampling-results/`` — the published results, open to everyone (no sign-in),
  rate-limited per address like the public check of documents; searched with ``q``
  (enterprise), ``product``, ``category``, ``region`` and ``year``. Only the public fields.
* ``GET /api/v1/sampling-analysis/`` — pass rates and failures for regulators, scoped to the
  caller's jurisdiction (``year``, ``kind``, ``category``); anyone else 403.
* ``/api/v1/sampling-disclosure/`` — the batches under sampling, closed and published that the
  caller may see, with their publication due day; ``POST …/{id}/close/`` and
  ``POST …/{id}/disclose/`` call the same services as the pages.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle

from nqihub.core.api.schema import AutoSchema
from nqihub.core.api.views import ScopedGenericViewSet, ScopedViewSetMixin
from nqihub.core.errors import INVALID, ServiceError

from .. import errors
from ..models import Batch, SamplingRecord
from ..ratelimit import WINDOW_SECONDS, public_rate_limited
from ..services import disclosure as services
from ..services.analysis import clean_filters, sampling_analysis
from ..services.disclosure import clean_public_filters, public_results, public_rows


class Anyone(BasePermission):
    """Open to everyone, signed in or not (a token that is sent must still be valid)."""

    def has_permission(self, request, view) -> bool:
        return True


class PublicResultsThrottle(BaseThrottle):
    """The public results' limit per client address and minute (``sampling.ratelimit``)."""

    def allow_request(self, request, view) -> bool:
        return not public_rate_limited(request)

    def wait(self) -> float:
        return float(WINDOW_SECONDS)


def _filter_error(exc: ServiceError):
    return INVALID(exc.message, field=exc.field)


# --- public results ----------------------------------------------------------------------------


class PublicResultSerializer(serializers.Serializer):
    sampled_party = serializers.CharField(help_text="被抽样单位名称")
    producer = serializers.CharField(help_text="标称生产者 (empty when not known)", allow_blank=True)
    product = serializers.CharField(help_text="产品名称")
    brand = serializers.CharField(help_text="商标", allow_blank=True)
    model = serializers.CharField(help_text="规格型号", allow_blank=True)
    production_batch = serializers.CharField(help_text="生产日期/批号", allow_blank=True)
    conclusion = serializers.CharField(help_text="抽查结论, in the caller's language (拒绝抽样 when refused)")
    conclusion_code = serializers.ChoiceField(choices=["pass", "fail", "refused"])
    failed_items = serializers.CharField(help_text="不合格项目, joined by 、", allow_blank=True)
    institution = serializers.CharField(help_text="检验机构")
    batch_kind = serializers.CharField(help_text="抽查类型")
    organizer = serializers.CharField(help_text="组织部门")
    published_on = serializers.DateField(help_text="公布日期")
    category = serializers.CharField(help_text="Product category")
    region = serializers.CharField(help_text="The sampled party's division")
    batch_number = serializers.CharField()


PUBLIC_PARAMETERS = [
    OpenApiParameter("q", OpenApiTypes.STR, description="Part of the sampled party's or named producer's name."),
    OpenApiParameter("product", OpenApiTypes.STR, description="Part of the product name."),
    OpenApiParameter("category", OpenApiTypes.STR, description="A product category code (sub-categories included)."),
    OpenApiParameter("region", OpenApiTypes.STR, description="A division code (everything below it included)."),
    OpenApiParameter("year", OpenApiTypes.INT, description="The year of the sampling plan."),
]


class PublicResultViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The published results of supervision sampling (no sign-in)."""

    permission_classes = [Anyone]
    throttle_classes = [PublicResultsThrottle]
    serializer_class = PublicResultSerializer
    queryset = SamplingRecord.objects.none()

    def get_queryset(self):
        try:
            filters = clean_public_filters(self.request.query_params)
        except ServiceError as exc:
            raise _filter_error(exc) from None
        return public_results(filters)

    @extend_schema(parameters=PUBLIC_PARAMETERS)
    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        rows = public_rows(page)
        return self.get_paginated_response(PublicResultSerializer(rows, many=True).data)


# --- analysis ----------------------------------------------------------------------------------


class AnalysisRowSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    tested = serializers.IntegerField(help_text="Records whose conclusion is final (after any re-test).")
    passed = serializers.IntegerField(help_text="Of those, qualified.")
    failed = serializers.IntegerField(help_text="Of those, unqualified.")
    pass_rate = serializers.DecimalField(
        max_digits=4, decimal_places=1, allow_null=True, help_text="passed ÷ tested in percent; null when none tested."
    )
    refused = serializers.IntegerField(help_text="Sampling refused (not in the pass rate).")


class ComparisonSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    this_year = AnalysisRowSerializer()
    last_year = AnalysisRowSerializer()
    change = serializers.DecimalField(max_digits=4, decimal_places=1, allow_null=True)


class FailureSerializer(serializers.Serializer):
    test_item = serializers.CharField()
    records = serializers.IntegerField()


class AnalysisSerializer(serializers.Serializer):
    jurisdiction = serializers.CharField(source="jurisdiction.code")
    year = serializers.IntegerField()
    total = AnalysisRowSerializer()
    last_year_total = AnalysisRowSerializer(source="last_total")
    by_category = AnalysisRowSerializer(many=True)
    by_region = AnalysisRowSerializer(many=True)
    by_kind = AnalysisRowSerializer(many=True)
    by_quarter = AnalysisRowSerializer(many=True)
    comparison = ComparisonSerializer(many=True)
    failures_by_item = FailureSerializer(many=True, source="failures_as_rows")


class _OneObjectSchema(AutoSchema):
    """The analysis answers one object (not a list) on its ``list`` route."""

    def _is_list_view(self, serializer=None) -> bool:
        return False


class AnalysisViewSet(ScopedViewSetMixin, viewsets.GenericViewSet):
    """Pass rates and failures of the caller's jurisdiction (regulators)."""

    schema = _OneObjectSchema()
    queryset = SamplingRecord.objects.all()
    serializer_class = AnalysisSerializer
    pagination_class = None
    filter_backends: list = []

    @extend_schema(
        parameters=[
            OpenApiParameter("year", OpenApiTypes.INT, description="The plan year (default: this year)."),
            OpenApiParameter("kind", OpenApiTypes.STR, enum=list(Batch.Kind.values)),
            OpenApiParameter("category", OpenApiTypes.STR, description="A product category code."),
        ],
        responses=AnalysisSerializer,
    )
    def list(self, request, *args, **kwargs):
        try:
            result = sampling_analysis(request.user, **clean_filters(request.query_params))
        except ServiceError as exc:
            if exc.code == errors.REGULATORS_ONLY.code:
                raise PermissionDenied(exc.message) from None
            raise _filter_error(exc) from None
        self._count = result.total.tested + result.total.refused
        return Response(AnalysisSerializer(result).data)

    def read_record(self, request, response, kwargs):
        return {"params": request.query_params, "count": getattr(self, "_count", None), "kind": "statistics"}


# --- closing and publication -------------------------------------------------------------------


class DisclosureBatchSerializer(serializers.ModelSerializer):
    organizer = serializers.CharField(source="organizer.name")
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = Batch
        fields = [
            "id",
            "number",
            "title",
            "kind",
            "organizer",
            "state",
            "closed_at",
            "disclosure_due",
            "disclosed_at",
            "overdue",
        ]
        read_only_fields = fields

    def get_overdue(self, batch) -> bool:
        return services.disclosure_overdue(batch)


class DisclosureViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """Batches under sampling, closed and published; close and publish them."""

    queryset = Batch.objects.filter(
        state__in=[Batch.State.SAMPLING, Batch.State.CLOSED, Batch.State.DISCLOSED]
    ).select_related("organizer")
    serializer_class = DisclosureBatchSerializer

    def _answer(self, batch) -> Response:
        fresh = Batch.objects.select_related("organizer").get(pk=batch.pk)
        return Response(DisclosureBatchSerializer(fresh).data)

    @extend_schema(request=None, responses=DisclosureBatchSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        return self._answer(services.batch_close(actor=request.user, batch=pk))

    @extend_schema(request=None, responses=DisclosureBatchSerializer)
    @action(detail=True, methods=["post"])
    def disclose(self, request, pk=None):
        return self._answer(services.batch_disclose(actor=request.user, batch=pk))


ROUTES = [
    ("sampling-results", PublicResultViewSet, "sampling-result"),
    ("sampling-analysis", AnalysisViewSet, "sampling-analysis"),
    ("sampling-disclosure", DisclosureViewSet, "sampling-disclosure"),
]
