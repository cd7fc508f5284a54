"""``/api/v1/sampling/pool-objects/``, ``…/inspectors/`` and ``…/conflicts/``: the two pools,
scoped as their pages (a regulator's jurisdiction; an enterprise reads its own objects), with
the same searches (``pool_filters``) and the same services for writes. Reads by regulators are
recorded as data queries."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from nqihub.audit.service import ask_permission
from nqihub.core.api.views import ScopedGenericViewSet, body_after_permission

from ..models import Inspector, InspectorConflict, PoolObject
from ..pool_filters import InspectorFilter, PoolObjectFilter
from ..services import pools as services


class SamplingPoolObjectSerializer(serializers.ModelSerializer):
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    credit_code = serializers.CharField(source="organization.credit_code", read_only=True, allow_null=True)
    division = serializers.CharField(source="division_id", read_only=True)
    category = serializers.CharField(source="category.code", read_only=True)
    role = serializers.CharField(read_only=True, help_text="producer or seller")

    class Meta:
        model = PoolObject
        fields = [
            "id",
            "organization",
            "organization_name",
            "credit_code",
            "division",
            "category",
            "role",
            "product_name",
            "brand",
            "model",
            "standard",
            "producer_name",
            "complaints",
            "earlier_failures",
            "abnormal_listed",
            "risk_score",
            "is_active",
            "updated_at",
        ]


class SamplingPoolObjectInputSerializer(serializers.Serializer):
    """Create names the enterprise by ``credit_code`` (or ``organization`` id) and needs
    category and product_name; a change may send any subset of the product and risk fields
    (the enterprise stays). The risk score is computed, never sent."""

    credit_code = serializers.CharField(required=False, allow_blank=True)
    organization = serializers.IntegerField(required=False)
    category = serializers.CharField(required=False, allow_blank=True, help_text="product category code or name")
    role = serializers.CharField(required=False, allow_blank=True, help_text="producer or seller")
    product_name = serializers.CharField(required=False, allow_blank=True)
    brand = serializers.CharField(required=False, allow_blank=True)
    model = serializers.CharField(required=False, allow_blank=True)
    standard = serializers.CharField(required=False, allow_blank=True)
    producer_name = serializers.CharField(required=False, allow_blank=True)
    complaints = serializers.IntegerField(required=False, min_value=0)
    earlier_failures = serializers.IntegerField(required=False, min_value=0)
    abnormal_listed = serializers.BooleanField(required=False)


class PoolObjectViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """The inspection-object pool; ``POST …/{id}/deactivate/`` and ``…/activate/`` take an
    object out of the pool and put it back."""

    queryset = PoolObject.objects.select_related("organization", "category").order_by("division", "category", "pk")
    serializer_class = SamplingPoolObjectSerializer
    filterset_class = PoolObjectFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    @extend_schema(request=SamplingPoolObjectInputSerializer, responses={201: SamplingPoolObjectSerializer})
    def create(self, request, *args, **kwargs):
        data = body_after_permission(
            request,
            SamplingPoolObjectInputSerializer,
            may=lambda: ask_permission(services.pool_object_create, actor=request.user),
        )
        obj = services.pool_object_create(actor=request.user, data=data)
        return Response(SamplingPoolObjectSerializer(obj).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=SamplingPoolObjectInputSerializer, responses=SamplingPoolObjectSerializer)
    def partial_update(self, request, *args, **kwargs):
        pk = kwargs["pk"]
        data = body_after_permission(
            request,
            SamplingPoolObjectInputSerializer,
            partial=True,
            may=lambda: ask_permission(services.pool_object_update, actor=request.user, obj=pk),
        )
        data.pop("credit_code", None)
        data.pop("organization", None)
        obj = services.pool_object_update(actor=request.user, obj=pk, data=data)
        return Response(SamplingPoolObjectSerializer(obj).data)

    @extend_schema(request=None, responses=SamplingPoolObjectSerializer)
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        return Response(SamplingPoolObjectSerializer(services.pool_object_deactivate(actor=request.user, obj=pk)).data)

    @extend_schema(request=None, responses=SamplingPoolObjectSerializer)
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        return Response(SamplingPoolObjectSerializer(services.pool_object_activate(actor=request.user, obj=pk)).data)


class SamplingConflictSerializer(serializers.ModelSerializer):
    organization_name = serializers.CharField(source="organization.name", read_only=True)

    class Meta:
        model = InspectorConflict
        fields = ["id", "inspector", "organization", "organization_name", "reason", "declared_at"]


class SamplingInspectorSerializer(serializers.ModelSerializer):
    office_name = serializers.CharField(source="office.name", read_only=True)
    division = serializers.CharField(source="division_id", read_only=True)
    fields = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = Inspector
        fields = [
            "id",
            "name",
            "enforcement_number",
            "office",
            "office_name",
            "division",
            "fields",
            "is_available",
            "unavailable_until",
            "certificate_valid_until",
        ]


class SamplingInspectorInputSerializer(serializers.Serializer):
    """Create needs name, enforcement_number (unique) and office (a regulator within the
    caller's jurisdiction: id, name or credit code); ``fields`` lists category codes."""

    name = serializers.CharField(required=False, allow_blank=True)
    enforcement_number = serializers.CharField(required=False, allow_blank=True)
    office = serializers.CharField(required=False, allow_blank=True)
    fields = serializers.ListField(child=serializers.CharField(), required=False)
    is_available = serializers.BooleanField(required=False)
    unavailable_until = serializers.DateField(required=False, allow_null=True)
    certificate_valid_until = serializers.DateField(required=False, allow_null=True)


class SamplingConflictInputSerializer(serializers.Serializer):
    credit_code = serializers.CharField(required=False, allow_blank=True)
    organization = serializers.IntegerField(required=False)
    reason = serializers.CharField(allow_blank=True)


class InspectorViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """The inspector pool; ``POST …/{id}/conflicts/`` records a declared conflict of interest."""

    queryset = Inspector.objects.select_related("office").prefetch_related("fields").order_by("division", "name", "pk")
    serializer_class = SamplingInspectorSerializer
    filterset_class = InspectorFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    @extend_schema(request=SamplingInspectorInputSerializer, responses={201: SamplingInspectorSerializer})
    def create(self, request, *args, **kwargs):
        data = body_after_permission(
            request,
            SamplingInspectorInputSerializer,
            may=lambda: ask_permission(services.inspector_create, actor=request.user),
        )
        person = services.inspector_create(actor=request.user, data=data)
        return Response(SamplingInspectorSerializer(person).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=SamplingInspectorInputSerializer, responses=SamplingInspectorSerializer)
    def partial_update(self, request, *args, **kwargs):
        pk = kwargs["pk"]
        data = body_after_permission(
            request,
            SamplingInspectorInputSerializer,
            partial=True,
            may=lambda: ask_permission(services.inspector_update, actor=request.user, inspector=pk),
        )
        person = services.inspector_update(actor=request.user, inspector=pk, data=data)
        return Response(SamplingInspectorSerializer(person).data)

    @extend_schema(request=SamplingConflictInputSerializer, responses={201: SamplingConflictSerializer})
    @action(detail=True, methods=["post"])
    def conflicts(self, request, pk=None):
        data = body_after_permission(
            request,
            SamplingConflictInputSerializer,
            may=lambda: ask_permission(services.conflict_add, actor=request.user, inspector=pk),
        )
        conflict = services.conflict_add(actor=request.user, inspector=pk, data=data)
        return Response(SamplingConflictSerializer(conflict).data, status=status.HTTP_201_CREATED)


class ConflictViewSet(mixins.ListModelMixin, mixins.DestroyModelMixin, ScopedGenericViewSet):
    """Declared conflicts (``?inspector=<id>``); ``DELETE`` removes one."""

    queryset = InspectorConflict.objects.select_related("organization").order_by("inspector_id", "pk")
    serializer_class = SamplingConflictSerializer

    def get_queryset(self):
        rows = super().get_queryset()
        inspector = self.request.query_params.get("inspector")
        if inspector:
            rows = rows.filter(inspector_id=int(inspector)) if inspector.isdigit() else rows.none()
        return rows

    def destroy(self, request, *args, **kwargs):
        services.conflict_remove(actor=request.user, conflict=kwargs["pk"])
        return Response(status=status.HTTP_204_NO_CONTENT)


ROUTES = [
    ("sampling/pool-objects", PoolObjectViewSet, "sampling-pool-object"),
    ("sampling/inspectors", InspectorViewSet, "sampling-inspector"),
    ("sampling/conflicts", ConflictViewSet, "sampling-conflict"),
]
