from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from nqihub.audit.service import ask_permission
from nqihub.core.access import get_actor
from nqihub.core.api.views import ScopedGenericViewSet, body_after_permission
from nqihub.organizations.models import Membership

from .. import services
from ..models import ApiToken


class MeMembershipSerializer(serializers.Serializer):
    organization = serializers.IntegerField(source="organization_id")
    organization_name = serializers.CharField(source="organization.name")
    organization_kind = serializers.CharField(source="organization.kind")
    role = serializers.CharField()


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    display_name = serializers.CharField()
    staff_role = serializers.CharField()
    acting_organization = serializers.IntegerField(allow_null=True)
    memberships = MeMembershipSerializer(many=True)


class MeView(APIView):
    """Who the caller is and which organisation they act for."""

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        actor = get_actor(request.user)
        memberships = Membership.objects.active().filter(user=request.user).select_related("organization")
        data = {
            "username": request.user.username,
            "display_name": request.user.display_name,
            "staff_role": request.user.staff_role,
            "acting_organization": actor.organization.pk if actor.organization else None,
            "memberships": memberships,
        }
        return Response(MeSerializer(data).data)


class TokenSerializer(serializers.ModelSerializer):
    organization = serializers.IntegerField(source="membership.organization_id", allow_null=True, read_only=True)

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "organization", "created_at", "expires_at", "last_used_at", "revoked_at"]


class TokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    days = serializers.IntegerField(min_value=1, max_value=730, default=365)


class TokenCreatedSerializer(TokenSerializer):
    key = serializers.CharField(read_only=True, help_text="Shown once; store it safely.")

    class Meta(TokenSerializer.Meta):
        fields = [*TokenSerializer.Meta.fields, "key"]


class TokenViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """The caller's own API tokens. A new token acts for the organisation the caller acts for."""

    queryset = ApiToken.objects.select_related("membership").order_by("-created_at")
    serializer_class = TokenSerializer
    audit_regulator_queries = False

    @extend_schema(request=TokenCreateSerializer, responses={201: TokenCreatedSerializer})
    def create(self, request, *args, **kwargs):
        membership = get_actor(request.user).membership
        data = body_after_permission(
            request,
            TokenCreateSerializer,
            may=lambda: ask_permission(services.api_token_create, actor=request.user, membership=membership),
        )
        token, key = services.api_token_create(
            actor=request.user, name=data["name"], membership=membership, days=data["days"]
        )
        body = TokenSerializer(token).data
        body["key"] = key
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=TokenSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        token = services.api_token_revoke(actor=request.user, token=self.get_object())
        return Response(TokenSerializer(token).data)
