"""``/api/v1/sampling/items/`` and ``/api/v1/sampling/rules/``: the inspection-item list and
the versioned 实施细则 with their test items. Every signed-in caller reads them (published
reference data: reads are not recorded as data queries); the keeping regulator writes through
the same services as the pages."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from nqihub.audit.service import ask_permission
from nqihub.core.api.views import ScopedGenericViewSet, ScopedReadOnlyViewSet, body_after_permission

from ..models import InspectionItem, InspectionRules, TestItem
from ..services import items as services


class SamplingTestItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = TestItem
        fields = ["seq", "name", "method_standard", "requirement", "judgement", "lower", "upper", "unit", "is_key"]


class SamplingRulesSerializer(serializers.ModelSerializer):
    item = serializers.IntegerField(source="item_id", read_only=True)
    test_items = SamplingTestItemSerializer(many=True, read_only=True)

    class Meta:
        model = InspectionRules
        fields = [
            "id",
            "item",
            "version",
            "title",
            "effective_from",
            "superseded_on",
            "test_quantity",
            "spare_quantity",
            "sampling_method",
            "judgement_rule",
            "test_items",
        ]


class SamplingItemSerializer(serializers.ModelSerializer):
    category = serializers.CharField(source="category.code", read_only=True)
    category_name = serializers.CharField(source="category.name", read_only=True)
    owner = serializers.IntegerField(source="owner_id", read_only=True)
    owner_name = serializers.CharField(source="owner.name", read_only=True)
    division = serializers.CharField(source="division_id", read_only=True)

    class Meta:
        model = InspectionItem
        fields = [
            "id",
            "code",
            "name",
            "category",
            "category_name",
            "legal_basis",
            "method",
            "importance",
            "ratio_percent",
            "frequency_per_year",
            "owner",
            "owner_name",
            "division",
            "is_active",
            "updated_at",
        ]


class SamplingItemInputSerializer(serializers.Serializer):
    """Create needs code, name, category (code or name), legal_basis, importance and
    ratio_percent; a change may send any subset. A general item's ratio lies within the rules'
    bounds (min_ratio_percent to general_ratio_cap_percent), a key item's is at least the minimum."""

    code = serializers.CharField(required=False, allow_blank=True)
    name = serializers.CharField(required=False, allow_blank=True)
    category = serializers.CharField(required=False, allow_blank=True, help_text="product category code or name")
    legal_basis = serializers.CharField(required=False, allow_blank=True)
    method = serializers.CharField(required=False, allow_blank=True, help_text="sample_test or on_site")
    importance = serializers.CharField(required=False, allow_blank=True, help_text="general or key")
    ratio_percent = serializers.CharField(required=False, allow_blank=True, help_text="per cent, e.g. 10 or 12.5")
    frequency_per_year = serializers.IntegerField(required=False)
    is_active = serializers.BooleanField(required=False)


class SamplingTestItemInputSerializer(serializers.Serializer):
    name = serializers.CharField(allow_blank=True)
    method_standard = serializers.CharField(required=False, allow_blank=True)
    requirement = serializers.CharField(allow_blank=True)
    judgement = serializers.CharField(required=False, allow_blank=True, help_text="range or text")
    lower = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    upper = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    unit = serializers.CharField(required=False, allow_blank=True)
    is_key = serializers.BooleanField(required=False)


class SamplingRulesInputSerializer(serializers.Serializer):
    title = serializers.CharField(allow_blank=True)
    effective_from = serializers.CharField(help_text="YYYY-MM-DD; after the current version's")
    test_quantity = serializers.IntegerField()
    spare_quantity = serializers.IntegerField(required=False)
    sampling_method = serializers.CharField(required=False, allow_blank=True)
    judgement_rule = serializers.CharField(required=False, allow_blank=True)
    test_items = SamplingTestItemInputSerializer(many=True)


class ItemViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """The inspection-item list; ``POST …/{id}/rules/`` publishes a new version of the rules."""

    queryset = InspectionItem.objects.select_related("category", "owner").order_by("code", "pk")
    serializer_class = SamplingItemSerializer
    audit_regulator_queries = False
    http_method_names = ["get", "post", "patch", "head", "options"]

    @extend_schema(request=SamplingItemInputSerializer, responses={201: SamplingItemSerializer})
    def create(self, request, *args, **kwargs):
        data = body_after_permission(
            request, SamplingItemInputSerializer, may=lambda: ask_permission(services.item_create, actor=request.user)
        )
        item = services.item_create(actor=request.user, data=data)
        return Response(SamplingItemSerializer(item).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=SamplingItemInputSerializer, responses=SamplingItemSerializer)
    def partial_update(self, request, *args, **kwargs):
        pk = kwargs["pk"]
        data = body_after_permission(
            request,
            SamplingItemInputSerializer,
            partial=True,
            may=lambda: ask_permission(services.item_update, actor=request.user, item=pk),
        )
        item = services.item_update(actor=request.user, item=pk, data=data)
        return Response(SamplingItemSerializer(item).data)

    @extend_schema(request=SamplingRulesInputSerializer, responses={201: SamplingRulesSerializer})
    @action(detail=True, methods=["post"])
    def rules(self, request, pk=None):
        data = body_after_permission(
            request,
            SamplingRulesInputSerializer,
            may=lambda: ask_permission(services.rules_publish, actor=request.user, item=pk),
        )
        lines = data.pop("test_items")
        rules = services.rules_publish(actor=request.user, item=pk, data=data, test_items=lines)
        return Response(SamplingRulesSerializer(rules).data, status=status.HTTP_201_CREATED)


class RulesViewSet(ScopedReadOnlyViewSet):
    """Every version of the 实施细则 with its test items; ``?item=<id>`` narrows to one item."""

    queryset = InspectionRules.objects.prefetch_related("test_items").order_by("item_id", "-version")
    serializer_class = SamplingRulesSerializer
    audit_regulator_queries = False

    def get_queryset(self):
        rows = super().get_queryset()
        item = self.request.query_params.get("item")
        if item:
            rows = rows.filter(item_id=int(item)) if item.isdigit() else rows.none()
        return rows


ROUTES = [
    ("sampling/items", ItemViewSet, "sampling-item"),
    ("sampling/rules", RulesViewSet, "sampling-rules"),
]
