"""API of the sampling records (抽样单) and the testing institution's LIMS connection.

* ``/api/v1/sampling-records/``: list and retrieve, scoped as the pages are (the regulators of
  the division, the testing institution, the sampled enterprise from the sampling on); filter
  by ``batch``, ``stage``, ``conclusion``.
* ``POST …/{id}/receive/``: the institution received the samples (``condition``).
* ``POST …/{id}/results/``: the institution's LIMS posts the result of every test item
  (``rows``: ``test_item``, ``value`` for range items, ``measured`` and ``conclusion`` for text
  items, ``note``); the same service as the page, judged the same way.
* ``POST …/{id}/report/``: the institution issues the inspection report.

Every write is one service call, which checks permission before the body, records and refuses.
"""

from __future__ import annotations

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from nqihub.core.api.views import ScopedGenericViewSet, body_value

from ..models import Conclusion, InspectionReport, SamplingRecord, TestResult
from ..services import records as services
from ..services import reports as report_services

# --- output --------------------------------------------------------------------------------------


class TestResultSerializer(serializers.ModelSerializer):
    test_item = serializers.IntegerField(source="test_item_id")
    seq = serializers.IntegerField(source="test_item.seq")
    name = serializers.CharField(source="test_item.name")
    requirement = serializers.CharField(source="test_item.requirement")
    unit = serializers.CharField(source="test_item.unit")

    class Meta:
        model = TestResult
        fields = ["test_item", "seq", "name", "requirement", "unit", "measured", "value", "conclusion", "note"]


class ReportRefSerializer(serializers.ModelSerializer):
    # The documents kernel's states (valid, revoked, superseded), as metrology's documents give them.
    state = serializers.CharField(read_only=True)

    class Meta:
        model = InspectionReport
        fields = ["id", "kind", "number", "public_code", "conclusion", "state", "issued_at"]


class SamplingRecordSerializer(serializers.ModelSerializer):
    number = serializers.CharField(source="case.number")
    batch_number = serializers.CharField(source="batch.number")
    product = serializers.CharField(source="pool_object.__str__")
    organization_name = serializers.CharField(source="organization.name")
    institution_name = serializers.CharField(source="institution.name")
    results = serializers.SerializerMethodField()
    reports = ReportRefSerializer(many=True, read_only=True)

    class Meta:
        model = SamplingRecord
        fields = [
            "id",
            "number",
            "batch",
            "batch_number",
            "product",
            "organization",
            "organization_name",
            "division",
            "institution",
            "institution_name",
            "stage",
            "sampled_at",
            "lot_size",
            "test_quantity",
            "spare_quantity",
            "seal_numbers",
            "received_at",
            "sample_condition",
            "tested_at",
            "conclusion",
            "results",
            "reports",
        ]

    def get_results(self, record) -> list[dict]:
        rows = [r for r in record.results.all() if r.round == TestResult.Round.INITIAL]
        rows.sort(key=lambda r: r.test_item.seq)
        return TestResultSerializer(rows, many=True).data


# --- input (documents the body; the service checks it after the permission) -----------------------


class ReceiveInputSerializer(serializers.Serializer):
    condition = serializers.CharField(max_length=300)


class ResultRowSerializer(serializers.Serializer):
    test_item = serializers.IntegerField()
    value = serializers.DecimalField(max_digits=14, decimal_places=4, required=False, allow_null=True)
    measured = serializers.CharField(max_length=100, required=False, allow_blank=True)
    conclusion = serializers.ChoiceField(choices=Conclusion.choices, required=False, allow_blank=True)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True)


class ResultsInputSerializer(serializers.Serializer):
    rows = ResultRowSerializer(many=True)


# --- views ---------------------------------------------------------------------------------------


class RecordFilter(filters.FilterSet):
    stage = filters.ChoiceFilter(choices=SamplingRecord.Stage.choices)
    conclusion = filters.ChoiceFilter(choices=Conclusion.choices)

    class Meta:
        model = SamplingRecord
        fields = ["batch", "stage", "conclusion"]


def _base_queryset():
    return (
        SamplingRecord.objects.select_related("case", "batch", "pool_object", "organization", "institution")
        .prefetch_related("results__test_item", "reports")
        .order_by("-pk")
    )


class SamplingRecordViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """抽样单: read by the regulators of the division, the testing institution and the sampled
    enterprise (from the sampling on); the institution receives, records results and reports."""

    queryset = _base_queryset()
    serializer_class = SamplingRecordSerializer
    filterset_class = RecordFilter
    lookup_value_regex = r"\d+"

    def _detail(self, pk, code=status.HTTP_200_OK) -> Response:
        record = _base_queryset().for_user(self.request.user, "view").get(pk=pk)
        return Response(SamplingRecordSerializer(record).data, status=code)

    @extend_schema(request=ReceiveInputSerializer, responses=SamplingRecordSerializer)
    @action(detail=True, methods=["post"])
    def receive(self, request, pk=None):
        record = services.record_receive(actor=request.user, record=pk, condition=body_value(request, "condition"))
        return self._detail(record.pk)

    @extend_schema(request=ResultsInputSerializer, responses=SamplingRecordSerializer)
    @action(detail=True, methods=["post"])
    def results(self, request, pk=None):
        record = services.record_results(actor=request.user, record=pk, rows=body_value(request, "rows"))
        return self._detail(record.pk)

    @extend_schema(request=None, responses={201: ReportRefSerializer})
    @action(detail=True, methods=["post"])
    def report(self, request, pk=None):
        report = report_services.record_report(actor=request.user, record=pk)
        return Response(ReportRefSerializer(report).data, status=status.HTTP_201_CREATED)


ROUTES = [("sampling-records", SamplingRecordViewSet, "sampling-record")]
