from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from rest_framework import serializers

from nqihub.cases.serializers import CaseTimelineField
from nqihub.core.access import MembershipRole, OrganizationKind

from ..models import Discipline, EnterpriseRegistration, Membership, Organization
from ..services import REGISTRATION_FIELDS


class DivisionRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    level = serializers.CharField()


class OrganizationSerializer(serializers.ModelSerializer):
    division = DivisionRefSerializer(read_only=True)
    disciplines = serializers.SerializerMethodField()

    class Meta:
        model = Organization
        fields = [
            "id",
            "kind",
            "name",
            "credit_code",
            "division",
            "address",
            "legal_representative",
            "industry",
            "phone",
            "disciplines",
            "cma_number",
            "cnas_number",
            "is_active",
            "created_at",
            "updated_at",
        ]

    def get_disciplines(self, obj) -> list[str]:
        return [d.discipline for d in obj.disciplines.all()]


class OrganizationWriteSerializer(serializers.Serializer):
    """Input for creating (system administrator) or changing an organisation."""

    kind = serializers.ChoiceField(choices=OrganizationKind.choices, required=False)
    name = serializers.CharField(max_length=200, required=False)
    credit_code = serializers.CharField(max_length=40, required=False, allow_blank=True)
    division = serializers.CharField(max_length=6, required=False)
    address = serializers.CharField(max_length=300, required=False, allow_blank=True)
    legal_representative = serializers.CharField(max_length=100, required=False, allow_blank=True)
    industry = serializers.CharField(max_length=100, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    cma_number = serializers.CharField(max_length=40, required=False, allow_blank=True)
    cnas_number = serializers.CharField(max_length=40, required=False, allow_blank=True)
    disciplines = serializers.ListField(child=serializers.ChoiceField(choices=Discipline.choices), required=False)


class MembershipSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)
    organization_name = serializers.CharField(source="organization.name", read_only=True)

    class Meta:
        model = Membership
        fields = [
            "id",
            "username",
            "organization",
            "organization_name",
            "role",
            "is_active",
            "is_default",
            "created_at",
        ]


class MembershipGrantSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    organization = serializers.IntegerField()
    role = serializers.ChoiceField(choices=MembershipRole.choices)

    def validate_username(self, value):
        user = get_user_model().objects.filter(username=value).first()
        if user is None:
            raise serializers.ValidationError("No such account.", code="does_not_exist")
        return user


class RegistrationSerializer(serializers.ModelSerializer):
    division = DivisionRefSerializer(read_only=True)
    applicant = serializers.CharField(source="applicant.username", read_only=True)
    organization: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(
        read_only=True,
        allow_null=True,  # until approved
    )
    events = CaseTimelineField()

    class Meta:
        model = EnterpriseRegistration
        fields = [
            "id",
            "number",
            "state",
            "applicant",
            *REGISTRATION_FIELDS,  # what the applicant gives (the service's list)
            "submitted_at",
            "reviewed_at",
            "return_reason",
            "organization",
            "events",
        ]


class RegistrationInputSerializer(serializers.Serializer):
    credit_code = serializers.CharField(max_length=40)
    name = serializers.CharField(max_length=200)
    division = serializers.CharField(max_length=6, help_text="Code of the county-level division (旗县区)")
    address = serializers.CharField(max_length=300)
    legal_representative = serializers.CharField(max_length=100)
    industry = serializers.CharField(max_length=100, required=False, allow_blank=True)
    contact_name = serializers.CharField(max_length=100)
    contact_phone = serializers.CharField(max_length=40)
    contact_email = serializers.EmailField(required=False, allow_blank=True)
    confirm_division = serializers.BooleanField(
        required=False,
        default=False,
        help_text=(
            "Confirms the county when the credit code was issued in another division "
            "(refused with `organizations.division_unconfirmed` otherwise)."
        ),
    )


class ReturnInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)
