from __future__ import annotations

from django.db.models import Prefetch, Q
from django.shortcuts import get_object_or_404
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from nqihub.audit.service import ask_permission
from nqihub.cases.serializers import timeline_queryset
from nqihub.core.api.views import ScopedGenericViewSet, body_after_permission
from nqihub.divisions.models import AdminDivision

from .. import services
from ..models import EnterpriseRegistration, Membership, Organization
from .serializers import (
    MembershipGrantSerializer,
    MembershipSerializer,
    OrganizationSerializer,
    OrganizationWriteSerializer,
    RegistrationInputSerializer,
    RegistrationSerializer,
    ReturnInputSerializer,
)


class OrganizationFilter(filters.FilterSet):
    q = filters.CharFilter(method="filter_q", label="Name contains, or exact credit code")
    within = filters.CharFilter(method="filter_within", label="Division code: organisations in it and below")

    class Meta:
        model = Organization
        fields = ["kind", "is_active", "credit_code"]

    def filter_q(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(credit_code__iexact=value.strip().upper()))

    def filter_within(self, queryset, name, value):
        division = AdminDivision.objects.filter(pk=value).first()
        if division is None:
            return queryset.none()
        return queryset.filter(division_id__in=AdminDivision.objects.within(division).values("code"))


class OrganizationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ScopedGenericViewSet,
):
    """Enterprises, technical institutions and regulators the caller may see."""

    queryset = Organization.objects.select_related("division").prefetch_related("disciplines").order_by("name", "pk")
    serializer_class = OrganizationSerializer
    filterset_class = OrganizationFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    @extend_schema(request=OrganizationWriteSerializer, responses={201: OrganizationSerializer})
    def create(self, request, *args, **kwargs):
        values = dict(
            body_after_permission(
                request,
                OrganizationWriteSerializer,
                may=lambda: ask_permission(services.organization_create, actor=request.user),
            )
        )
        kind = values.pop("kind", "")
        disciplines = values.pop("disciplines", None)
        organization = services.organization_create(actor=request.user, kind=kind, data=values, disciplines=disciplines)
        return Response(OrganizationSerializer(organization).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=OrganizationWriteSerializer, responses=OrganizationSerializer)
    def partial_update(self, request, *args, **kwargs):
        organization = self.get_object()
        values = dict(
            body_after_permission(
                request,
                OrganizationWriteSerializer,
                partial=True,
                may=lambda: ask_permission(services.organization_update, actor=request.user, organization=organization),
            )
        )
        values.pop("kind", None)
        disciplines = values.pop("disciplines", None)
        organization = services.organization_update(
            actor=request.user, organization=organization, data=values, disciplines=disciplines
        )
        return Response(OrganizationSerializer(organization).data)

    def update(self, request, *args, **kwargs):
        return self.partial_update(request, *args, **kwargs)


class MembershipViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """Who acts for which organisation with which role. Grants and revocations are the
    security administrator's."""

    queryset = Membership.objects.select_related("user", "organization").order_by("pk")
    serializer_class = MembershipSerializer
    filterset_fields = ["organization", "role", "is_active"]

    @extend_schema(request=MembershipGrantSerializer, responses={201: MembershipSerializer})
    def create(self, request, *args, **kwargs):
        ask_permission(services.membership_grant, actor=request.user)  # who, before what
        data = MembershipGrantSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        organization = get_object_or_404(
            Organization.objects.for_user(request.user, "view"), pk=data.validated_data["organization"]
        )
        membership = services.membership_grant(
            actor=request.user,
            user=data.validated_data["username"],
            organization=organization,
            role=data.validated_data["role"],
        )
        return Response(MembershipSerializer(membership).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=MembershipSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        membership = self.get_object()
        membership = services.membership_revoke(actor=request.user, membership=membership)
        return Response(MembershipSerializer(membership).data)


class EnterpriseRegistrationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """Enterprise applications to join the platform, and their review."""

    queryset = (
        EnterpriseRegistration.objects.select_related("division", "applicant", "case")
        .prefetch_related(Prefetch("case__events", queryset=timeline_queryset()))
        .order_by("-submitted_at", "-pk")
    )
    serializer_class = RegistrationSerializer
    filterset_fields = ["state", "credit_code"]

    @extend_schema(request=RegistrationInputSerializer, responses={201: RegistrationSerializer})
    def create(self, request, *args, **kwargs):
        data = body_after_permission(
            request,
            RegistrationInputSerializer,
            may=lambda: ask_permission(services.registration_submit, actor=request.user),
        )
        registration = services.registration_submit(actor=request.user, data=data)
        return Response(RegistrationSerializer(registration).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=RegistrationSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        registration = services.registration_approve(actor=request.user, registration=self.get_object())
        return Response(RegistrationSerializer(registration).data)

    @extend_schema(request=ReturnInputSerializer, responses=RegistrationSerializer)
    @action(detail=True, methods=["post"], url_path="return")
    def return_(self, request, pk=None):
        registration = self.get_object()
        data = body_after_permission(
            request,
            ReturnInputSerializer,
            may=lambda: ask_permission(services.registration_return, actor=request.user, registration=registration),
        )
        registration = services.registration_return(
            actor=request.user, registration=registration, reason=data["reason"]
        )
        return Response(RegistrationSerializer(registration).data)

    @extend_schema(request=RegistrationInputSerializer, responses=RegistrationSerializer)
    @action(detail=True, methods=["post"])
    def resubmit(self, request, pk=None):
        registration = self.get_object()
        data = body_after_permission(
            request,
            RegistrationInputSerializer,
            may=lambda: ask_permission(services.registration_resubmit, actor=request.user, registration=registration),
        )
        registration = services.registration_resubmit(actor=request.user, registration=registration, data=data)
        return Response(RegistrationSerializer(registration).data)

    @extend_schema(request=None, responses=RegistrationSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        registration = services.registration_withdraw(actor=request.user, registration=self.get_object())
        return Response(RegistrationSerializer(registration).data)
