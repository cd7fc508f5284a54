"""Regulators' statistics and the fee configuration, in the API.

* ``GET /api/v1/stats/waivers/?period=&from=&to=&level=`` — free verification and waivers by
  region;
* ``GET /api/v1/stats/metrology/?period=&from=&to=&level=`` — filed, due, verified, coverage,
  overdue and failed instruments by region and by use field;
* ``/api/v1/tariffs/`` and ``/api/v1/waiver-policies/`` — read by regulators and the system
  administrator, written by the system administrator through ``services.fees``. A caller who
  may not write them is refused (403, recorded) before the body is even looked at.

Statistics are for regulators only (403 for everybody else) and every read is recorded. Both
count verifications by the day of the verification, so a reissued document stays in its period.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from nqihub.audit.service import ask_permission
from nqihub.core.access import get_actor
from nqihub.core.api.schema import AutoSchema
from nqihub.core.api.views import ScopedViewSetMixin, body_after_permission
from nqihub.core.errors import INVALID

from ..models import Instrument, IssuedDocument, Tariff, WaiverPolicy
from ..selectors_stats import BadParameter, coverage_stats, waiver_stats
from ..services import fees as services

PERIOD_PARAMETERS = [
    OpenApiParameter(
        "period",
        OpenApiTypes.STR,
        description="A year (2025), a month (2025-06) or a quarter (2025-Q2); instead of from and to. "
        "Years 1949 to 2200.",
    ),
    OpenApiParameter(
        "from", OpenApiTypes.DATE, description="First day (default: 1 January of this year). Years 1949 to 2200."
    ),
    OpenApiParameter(
        "to", OpenApiTypes.DATE, description="Last day (default: 31 December of the start's year). Years 1949 to 2200."
    ),
    OpenApiParameter(
        "level",
        OpenApiTypes.STR,
        enum=["province", "prefecture", "county"],
        description="Group by this level (default: the next level below the caller's jurisdiction).",
    ),
]


class _Named(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class _Period(serializers.Serializer):
    to = serializers.DateField()

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField()
        return fields


class WaiverRowSerializer(_Named):
    documents = serializers.IntegerField(
        help_text="Certificates and notices of the verifications done in the period (by the day of the "
        "verification, not of the document): the current document of each, superseded ones left out, so a "
        "reissue stays in the period of its verification."
    )
    waived_documents = serializers.IntegerField(help_text="Of which with a waiver (waived > 0).")
    free_documents = serializers.IntegerField(help_text="Of which entirely free (waived = fee > 0).")
    fee_total = serializers.DecimalField(max_digits=16, decimal_places=2)
    waived_total = serializers.DecimalField(max_digits=16, decimal_places=2)


class WaiverStatsSerializer(serializers.Serializer):
    jurisdiction = _Named()
    period = _Period()
    level = serializers.CharField()
    rows = WaiverRowSerializer(many=True)
    total = WaiverRowSerializer()


COVERAGE_DEFINITION = (
    "Filing and verification coverage (受检率) in the caller's jurisdiction, by region and use field. "
    "One population, the mandatory instruments due in the period (due, 应检): those not scrapped (in use "
    "or stopped, as in the due lists) whose next verification falls by the end of the period or is unknown, "
    "and every mandatory instrument verified in the period (by the day of the verification), whatever its "
    "status now. Verified (实检) and failed count the instruments of that population with a certificate "
    "(passed) or a notice (failed) of a verification in the period (the current document; revoked ones left "
    "out), so coverage (受检率) = verified ÷ due never exceeds 100%. Filed: filed and not scrapped. Overdue: "
    "not scrapped and due before today. Regions and use fields are the instrument's."
)


class CoverageRowSerializer(_Named):
    filed = serializers.IntegerField(help_text="Mandatory instruments filed (强检备案), not scrapped.")
    due = serializers.IntegerField(
        help_text="应检: not scrapped and due by the end of the period (or due date unknown), or verified in it."
    )
    verified = serializers.IntegerField(
        help_text="实检: of those due, with a valid certificate of a verification in the period."
    )
    coverage = serializers.DecimalField(
        max_digits=5,
        decimal_places=1,
        help_text="受检率: verified ÷ due, in percent (0 when nothing is due; at most 100).",
    )
    overdue = serializers.IntegerField(help_text="Not scrapped, next verification before today.")
    failed = serializers.IntegerField(
        help_text="Of those due, with a valid notice of failure of a verification in the period."
    )


class CoverageStatsSerializer(serializers.Serializer):
    jurisdiction = _Named()
    period = _Period()
    today = serializers.DateField()
    level = serializers.CharField()
    by_region = CoverageRowSerializer(many=True)
    by_use_field = CoverageRowSerializer(many=True)
    total = CoverageRowSerializer()


class _OneObjectSchema(AutoSchema):
    """The statistics answer one object (not a list) on their ``list`` route."""

    def _is_list_view(self, serializer=None) -> bool:
        return False


class _StatsViewSet(ScopedViewSetMixin, viewsets.GenericViewSet):
    schema = _OneObjectSchema()
    _counted: int | None = None  # the statistics' own count, recorded by the base (read_record)
    pagination_class = None
    filter_backends: list = []

    def _require_regulator(self, request) -> None:
        if not get_actor(request.user).is_regulator:
            raise PermissionDenied(_("Statistics are for regulators."))

    def _run(self, request, selector, count_of):
        self._require_regulator(request)
        try:
            stats = selector(request.user, params=request.query_params)
        except BadParameter as exc:
            raise INVALID(exc.message, field=exc.name) from None
        self._counted = count_of(stats)
        return Response(stats.as_dict())

    def read_record(self, request, response, kwargs):
        if getattr(self, "action", None) != "list":
            return None
        return {"params": request.query_params, "count": self._counted, "kind": "statistics"}


class WaiverStatsViewSet(_StatsViewSet):
    """Free verification and fee waivers in the caller's jurisdiction, by region."""

    queryset = IssuedDocument.objects.none()
    serializer_class = WaiverStatsSerializer

    @extend_schema(parameters=PERIOD_PARAMETERS, responses=WaiverStatsSerializer)
    def list(self, request, *args, **kwargs):
        return self._run(request, waiver_stats, lambda s: s.total.documents)


class CoverageStatsViewSet(_StatsViewSet):
    """Filing and verification coverage (受检率) in the caller's jurisdiction, by region and use field."""

    queryset = Instrument.objects.none()
    serializer_class = CoverageStatsSerializer

    @extend_schema(description=COVERAGE_DEFINITION, parameters=PERIOD_PARAMETERS, responses=CoverageStatsSerializer)
    def list(self, request, *args, **kwargs):
        return self._run(request, coverage_stats, lambda s: s.total.due)


# --------------------------------------------------------------------------- fee configuration


class TariffSerializer(serializers.ModelSerializer):
    catalogue_item_code = serializers.CharField(source="catalogue_item.code", read_only=True)

    class Meta:
        model = Tariff
        fields = [
            "id",
            "catalogue_item",
            "catalogue_item_code",
            "division",
            "price",
            "valid_from",
            "valid_until",
            "source",
        ]


class TariffInputSerializer(serializers.Serializer):
    catalogue_item = serializers.CharField(help_text="Catalogue item code (or id).")
    division = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    price = serializers.CharField(help_text="Yuan, at most two decimals.")
    valid_from = serializers.DateField()
    valid_until = serializers.DateField(required=False, allow_null=True)
    source = serializers.CharField()


class WaiverPolicySerializer(serializers.ModelSerializer):
    class Meta:
        model = WaiverPolicy
        fields = ["id", *services.POLICY_FIELDS]  # the fields the services write


class WaiverPolicyInputSerializer(serializers.Serializer):
    name = serializers.CharField()
    basis = serializers.ChoiceField(choices=WaiverPolicy.Basis.choices)
    catalogue_item = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    credit_code_prefix = serializers.CharField(required=False, allow_blank=True)
    division = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    percentage = serializers.IntegerField()
    valid_from = serializers.DateField()
    valid_until = serializers.DateField(required=False, allow_null=True)
    is_active = serializers.BooleanField(required=False)
    source = serializers.CharField()


class _FeeConfigViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSetMixin, viewsets.GenericViewSet):
    """Readable by regulators and the system administrator; other callers see an empty list.
    Writes: the subclass names its input serializer, its two services and the keyword the
    update service takes the row as."""

    http_method_names = ["get", "post", "patch", "head", "options"]
    audit_regulator_queries = False  # configuration, not enterprise data
    filter_backends: list = []
    input_serializer: type[serializers.Serializer]
    create_service: Any
    update_service: Any
    row_argument: str

    def get_queryset(self):
        return self.queryset.for_user(self.request.user, "view")

    def create(self, request, *args, **kwargs):
        create = type(self).create_service
        data = body_after_permission(
            request, self.input_serializer, may=lambda: ask_permission(create, actor=request.user)
        )
        row = create(actor=request.user, data=data)
        return Response(self.get_serializer(row).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        update, row = type(self).update_service, {self.row_argument: self.get_object()}
        data = body_after_permission(
            request,
            self.input_serializer,
            partial=True,
            may=lambda: ask_permission(update, actor=request.user, **row),
        )
        return Response(self.get_serializer(update(actor=request.user, data=data, **row)).data)


@extend_schema_view(
    create=extend_schema(request=TariffInputSerializer, responses={201: TariffSerializer}),
    partial_update=extend_schema(request=TariffInputSerializer, responses=TariffSerializer),
)
class TariffViewSet(_FeeConfigViewSet):
    """Verification tariffs (per catalogue item; a division's tariff beats a platform-wide one)."""

    queryset = Tariff.objects.select_related("catalogue_item").order_by("catalogue_item__code", "-valid_from", "pk")
    serializer_class = TariffSerializer
    input_serializer = TariffInputSerializer
    create_service = services.tariff_create
    update_service = services.tariff_update
    row_argument = "tariff"


@extend_schema_view(
    create=extend_schema(request=WaiverPolicyInputSerializer, responses={201: WaiverPolicySerializer}),
    partial_update=extend_schema(request=WaiverPolicyInputSerializer, responses=WaiverPolicySerializer),
)
class WaiverPolicyViewSet(_FeeConfigViewSet):
    """Fee waiver policies (by catalogue item, kind of user or campaign)."""

    queryset = WaiverPolicy.objects.order_by("-is_active", "-valid_from", "pk")
    serializer_class = WaiverPolicySerializer
    input_serializer = WaiverPolicyInputSerializer
    create_service = services.waiver_policy_create
    update_service = services.waiver_policy_update
    row_argument = "policy"


ROUTES = [
    ("stats/waivers", WaiverStatsViewSet, "stats-waivers"),
    ("stats/metrology", CoverageStatsViewSet, "stats-metrology"),
    ("tariffs", TariffViewSet, "tariff"),
    ("waiver-policies", WaiverPolicyViewSet, "waiver-policy"),
]
