"""``/api/v1/due-instruments/``: the due list with its traffic light (``?colour=red``,
amber, green or grey, and the ledger's filters). Enterprises read their own mandatory
instruments, regulators their jurisdiction's (each read recorded by the base viewset), nobody
else any. Most urgent first."""

from __future__ import annotations

from django.utils import timezone
from rest_framework import mixins, serializers

from nqihub.core.api.views import ScopedGenericViewSet
from nqihub.organizations.api.serializers import DivisionRefSerializer

from ..models import Instrument
from ..services import reminders
from .serializers import CatalogueItemRefSerializer, OrganizationRefSerializer


class DueInstrumentSerializer(serializers.ModelSerializer):
    organization = OrganizationRefSerializer(read_only=True)
    division = DivisionRefSerializer(read_only=True)
    catalogue_item = CatalogueItemRefSerializer(read_only=True, allow_null=True)
    colour = serializers.SerializerMethodField(help_text="red (overdue), amber (due soon), green or grey (no due date)")
    days_left = serializers.SerializerMethodField(help_text="Days until the due date; negative when overdue")

    class Meta:
        model = Instrument
        fields = [
            "id",
            "platform_code",
            "name",
            "factory_number",
            "organization",
            "division",
            "catalogue_item",
            "use_field",
            "status",
            "last_verified_on",
            "next_due_on",
            "days_left",
            "colour",
        ]

    def get_colour(self, obj) -> str:
        return reminders.due_status(obj.next_due_on, self.context["today"], window=self.context["window"])

    def get_days_left(self, obj) -> int | None:
        return (obj.next_due_on - self.context["today"]).days if obj.next_due_on else None


class DueInstrumentViewSet(mixins.ListModelMixin, ScopedGenericViewSet):
    """Mandatory, not scrapped instruments the caller may see, the most overdue first."""

    queryset = Instrument.objects.all()
    serializer_class = DueInstrumentSerializer
    filterset_class = reminders.DueInstrumentFilter

    def get_queryset(self):
        return reminders.due_instruments_for(self.request.user, self.scope_action)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context.setdefault("today", timezone.localdate())
        context.setdefault("window", reminders.amber_days())
        return context


ROUTES = [("due-instruments", DueInstrumentViewSet, "due-instrument")]
