"""Input and output serializers of the catalogue and the ledger, kept apart: output
serializers describe what is returned; input serializers only collect what the caller sent,
and the services check it (so the API gives the same messages as the pages and the import)."""

from __future__ import annotations

from rest_framework import serializers

from nqihub.organizations.api.serializers import DivisionRefSerializer

from .. import selectors
from ..models import CatalogueItem, Instrument
from ..services.catalogue import CATALOGUE_FIELDS


class CatalogueItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = CatalogueItem
        fields = ["id", *CATALOGUE_FIELDS, "updated_at"]  # the fields the services write


class CatalogueItemInputSerializer(serializers.Serializer):
    """Create needs level1_no, level1_name, name, supervision, verification_mode, source and
    evidence; a change may send any subset. The code is made from the numbers when omitted."""

    code = serializers.CharField(required=False, allow_blank=True)
    level1_no = serializers.IntegerField(required=False, allow_null=True)
    level1_name = serializers.CharField(required=False, allow_blank=True)
    level2_no = serializers.IntegerField(required=False, allow_null=True)
    name = serializers.CharField(required=False, allow_blank=True)
    supervision = serializers.CharField(required=False, allow_blank=True, help_text="P, V or P+V")
    verification_mode = serializers.CharField(
        required=False, allow_blank=True, help_text="periodic, first_scrap, first_limited or none"
    )
    use_trade = serializers.BooleanField(required=False)
    use_safety = serializers.BooleanField(required=False)
    use_medical = serializers.BooleanField(required=False)
    use_environment = serializers.BooleanField(required=False)
    scope_note = serializers.CharField(required=False, allow_blank=True)
    period_months = serializers.IntegerField(required=False, allow_null=True)
    service_life_months = serializers.IntegerField(required=False, allow_null=True)
    regulation = serializers.CharField(required=False, allow_blank=True)
    source = serializers.CharField(required=False, allow_blank=True)
    evidence = serializers.CharField(required=False, allow_blank=True, help_text="verified, corroborated or unverified")
    is_active = serializers.BooleanField(required=False)


class CatalogueItemRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = CatalogueItem
        fields = ["id", "code", "name", "supervision", "evidence"]


class OrganizationRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class InstrumentSerializer(serializers.ModelSerializer):
    organization = OrganizationRefSerializer(read_only=True)
    division = DivisionRefSerializer(read_only=True)
    catalogue_item = CatalogueItemRefSerializer(read_only=True, allow_null=True)
    mandatory_reason = serializers.SerializerMethodField()

    class Meta:
        model = Instrument
        fields = [
            "id",
            "platform_code",
            "organization",
            "division",
            "catalogue_item",
            "name",
            "model_spec",
            "measuring_range",
            "accuracy_class",
            "factory_number",
            "manufacturer",
            "location",
            "use_field",
            "status",
            "is_mandatory",
            "mandatory_reason",
            "filed",
            "last_verified_on",
            "next_due_on",
            "created_at",
            "updated_at",
        ]

    def get_mandatory_reason(self, obj) -> str:
        return selectors.mandatory_explanation(obj)


class InstrumentInputSerializer(serializers.Serializer):
    """What the ledger form collects. Create needs name, factory_number and use_field; a change
    may send any subset. Values are checked by the same rules as the ledger import."""

    catalogue_item = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="Catalogue code (e.g. 3.1) or the item's exact name; empty if not listed",
    )
    name = serializers.CharField(required=False, allow_blank=True)
    model_spec = serializers.CharField(required=False, allow_blank=True)
    measuring_range = serializers.CharField(required=False, allow_blank=True)
    accuracy_class = serializers.CharField(required=False, allow_blank=True)
    factory_number = serializers.CharField(required=False, allow_blank=True)
    manufacturer = serializers.CharField(required=False, allow_blank=True)
    location = serializers.CharField(required=False, allow_blank=True)
    use_field = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="trade, safety, medical, environment or other (Chinese labels accepted)",
    )
    status = serializers.CharField(required=False, allow_blank=True, help_text="in_use, stopped or scrapped")


class InstrumentStatusInputSerializer(serializers.Serializer):
    status = serializers.CharField(help_text="in_use, stopped or scrapped (scrapping is final)")
