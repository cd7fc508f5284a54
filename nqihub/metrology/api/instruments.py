"""``/api/v1/instruments/``: the instrument ledger. Enterprises read and keep their own;
regulators read their jurisdiction's (each read is recorded by the base viewset). Writes go
through the ledger services, so the API refuses what the pages and the import refuse, with
the same messages."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from nqihub.audit.service import ask_permission
from nqihub.core.api.views import ScopedGenericViewSet, body_after_permission

from ..models import Instrument
from ..selectors import InstrumentFilter
from ..services import instruments as services
from .serializers import InstrumentInputSerializer, InstrumentSerializer, InstrumentStatusInputSerializer


class InstrumentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """Measuring instruments of the ledger the caller may see, newest first."""

    queryset = Instrument.objects.select_related("catalogue_item", "organization", "division").order_by("-pk")
    serializer_class = InstrumentSerializer
    filterset_class = InstrumentFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    @extend_schema(request=InstrumentInputSerializer, responses={201: InstrumentSerializer})
    def create(self, request, *args, **kwargs):
        data = body_after_permission(
            request,
            InstrumentInputSerializer,
            may=lambda: ask_permission(services.instrument_create, actor=request.user),
        )
        instrument = services.instrument_create(actor=request.user, data=data)
        return Response(InstrumentSerializer(instrument).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=InstrumentInputSerializer, responses=InstrumentSerializer)
    def partial_update(self, request, *args, **kwargs):
        instrument = self.get_object()
        data = body_after_permission(
            request,
            InstrumentInputSerializer,
            partial=True,
            may=lambda: ask_permission(services.instrument_update, actor=request.user, instrument=instrument),
        )
        instrument = services.instrument_update(actor=request.user, instrument=instrument, data=data)
        return Response(InstrumentSerializer(instrument).data)

    @extend_schema(request=InstrumentStatusInputSerializer, responses=InstrumentSerializer)
    @action(detail=True, methods=["post"], url_path="status")
    def set_status(self, request, pk=None):
        instrument = self.get_object()
        data = body_after_permission(
            request,
            InstrumentStatusInputSerializer,
            may=lambda: ask_permission(services.instrument_set_status, actor=request.user, instrument=instrument),
        )
        instrument = services.instrument_set_status(actor=request.user, instrument=instrument, status=data["status"])
        return Response(InstrumentSerializer(instrument).data)


ROUTES = [("instruments", InstrumentViewSet, "instrument")]
