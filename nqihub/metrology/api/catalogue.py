"""``/api/v1/catalogue/``: the catalogue of instruments under mandatory management. Every
signed-in caller reads it (reference data, so reads are not recorded as data queries); the
system administrator adds and changes items through the same services as the pages."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.response import Response

from nqihub.audit.service import ask_permission
from nqihub.core.api.views import ScopedGenericViewSet, body_after_permission

from ..models import CatalogueItem
from ..selectors import CatalogueItemFilter
from ..services import catalogue as services
from .serializers import CatalogueItemInputSerializer, CatalogueItemSerializer


class CatalogueItemViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """Items of the catalogue, with how far each was checked (``evidence``)."""

    queryset = CatalogueItem.objects.order_by("level1_no", "level2_no", "code")
    serializer_class = CatalogueItemSerializer
    filterset_class = CatalogueItemFilter
    audit_regulator_queries = False
    http_method_names = ["get", "post", "patch", "head", "options"]

    @extend_schema(request=CatalogueItemInputSerializer, responses={201: CatalogueItemSerializer})
    def create(self, request, *args, **kwargs):
        data = body_after_permission(
            request,
            CatalogueItemInputSerializer,
            may=lambda: ask_permission(services.catalogue_item_create, actor=request.user),
        )
        item = services.catalogue_item_create(actor=request.user, data=data)
        return Response(CatalogueItemSerializer(item).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CatalogueItemInputSerializer, responses=CatalogueItemSerializer)
    def partial_update(self, request, *args, **kwargs):
        item = self.get_object()
        data = body_after_permission(
            request,
            CatalogueItemInputSerializer,
            partial=True,
            may=lambda: ask_permission(services.catalogue_item_update, actor=request.user, item=item),
        )
        item = services.catalogue_item_update(actor=request.user, item=item, data=data)
        return Response(CatalogueItemSerializer(item).data)


ROUTES = [("catalogue", CatalogueItemViewSet, "catalogue-item")]
