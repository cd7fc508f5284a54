"""API of issued documents (检定证书 / 检定结果通知书): ``/api/v1/documents/``.

Reads are scoped by ``IssuedDocument.objects.for_user`` (the enterprise's received documents, the
institution's issued ones, a regulator's jurisdiction — a regulator's reads are recorded by
the base view). ``reissue`` and ``revoke`` are one call each of
``nqihub.metrology.services.documents``, given the id from the URL so that refusals are
recorded there. The public check's JSON is not here: it is ``/verify/<code>.json`` (no
authentication, rate-limited), outside the token-authenticated API.
"""

from __future__ import annotations

from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from nqihub.core.api.views import ScopedGenericViewSet, body_value
from nqihub.documents.pdf import public_check_url

from ..models import DOCUMENT_STATUSES, IssuedDocument
from ..services import documents as services

# --- Output ----------------------------------------------------------------------------------


class _OrgRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class _DocumentInstrumentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    platform_code = serializers.CharField()
    name = serializers.CharField()
    model_spec = serializers.CharField()
    factory_number = serializers.CharField()


@extend_schema_field(
    {
        "type": "string",
        "enum": list(DOCUMENT_STATUSES),
        "description": "The document's status today, as the public check reports it.",
    },
    component_name="IssuedDocumentStatusEnum",
)
class _StatusField(serializers.CharField):
    pass


def _choice_field(choices, component: str, description: str):
    @extend_schema_field(
        {
            "type": "string",
            "enum": [value for value, _label in choices],
            "description": description + "\n" + "\n".join(f"* `{v}` - {label}" for v, label in choices),
        },
        component_name=component,
    )
    class _Field(serializers.CharField):
        pass

    return _Field


_KindField = _choice_field(
    IssuedDocument.Kind.choices, "IssuedDocumentKindEnum", "certificate (pass) or notice (fail)."
)
_StateField = _choice_field(IssuedDocument.State.choices, "IssuedDocumentStateEnum", "The recorded state.")


class IssuedDocumentSerializer(serializers.ModelSerializer):
    kind = _KindField(read_only=True)
    state = _StateField(read_only=True)
    institution = _OrgRefSerializer(read_only=True)
    organization = _OrgRefSerializer(read_only=True)
    instrument = _DocumentInstrumentSerializer(read_only=True)
    result_id = serializers.IntegerField(read_only=True)
    outcome = serializers.CharField(source="result.outcome", read_only=True)
    verified_on = serializers.DateField(source="result.verified_on", read_only=True)
    status = serializers.SerializerMethodField()
    superseded_by = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    check_url = serializers.SerializerMethodField()
    pdf_url = serializers.SerializerMethodField()

    class Meta:
        model = IssuedDocument
        fields = [
            "id",
            "number",
            "kind",
            "state",
            "status",
            "public_code",
            "check_url",
            "institution",
            "organization",
            "instrument",
            "result_id",
            "outcome",
            "verified_on",
            "valid_until",
            "issued_at",
            "fee",
            "waived",
            "superseded_by",
            "revoked_at",
            "revoked_reason",
            "pdf_sha256",
            "pdf_url",
        ]
        read_only_fields = fields

    @extend_schema_field(_StatusField)
    def get_status(self, obj) -> str:
        return obj.status_on(timezone.localdate())

    def get_check_url(self, obj) -> str:
        return public_check_url(obj.public_code, self.context.get("request"))

    def get_pdf_url(self, obj) -> str | None:
        """The stored PDF, downloaded through the parties' page (signed-in session)."""
        if not obj.pdf:
            return None
        from django.urls import reverse

        url = reverse("metrology:document_pdf", args=[obj.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url


# --- Input -----------------------------------------------------------------------------------


class DocumentReasonInputSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=services.MAX_REASON_LENGTH,
        required=False,
        allow_blank=True,
        default="",
        help_text="Why the document is reissued or revoked (required; recorded).",
    )


# --- Views -----------------------------------------------------------------------------------


class IssuedDocumentFilter(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=IssuedDocument.Kind.choices)
    state = filters.ChoiceFilter(choices=IssuedDocument.State.choices)
    instrument = filters.NumberFilter(field_name="instrument_id", label="Instrument id")
    number = filters.CharFilter(field_name="number", label="Document number (exact)")

    class Meta:
        model = IssuedDocument
        fields = []


class IssuedDocumentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """检定证书 and 检定结果通知书: the enterprise's received documents, the institution's issued
    ones, a regulator's jurisdiction. The issuing institution reissues and revokes."""

    queryset = IssuedDocument.objects.select_related("institution", "organization", "instrument", "result").order_by(
        "-issued_at", "-pk"
    )
    serializer_class = IssuedDocumentSerializer
    filterset_class = IssuedDocumentFilter
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        allowed = services.IssuedDocument.objects.for_user(self.request.user, "view").values("pk")
        return self.queryset.filter(pk__in=allowed)

    def _detail(self, pk, code=status.HTTP_200_OK) -> Response:
        serializer = IssuedDocumentSerializer(self.queryset.get(pk=pk), context=self.get_serializer_context())
        return Response(serializer.data, status=code)

    @extend_schema(request=DocumentReasonInputSerializer, responses={201: IssuedDocumentSerializer})
    @action(detail=True, methods=["post"])
    def reissue(self, request, pk=None):
        document = services.document_reissue(
            actor=request.user, document=int(pk), reason=body_value(request, "reason", "")
        )
        return self._detail(document.pk, status.HTTP_201_CREATED)

    @extend_schema(request=DocumentReasonInputSerializer, responses=IssuedDocumentSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        document = services.document_revoke(
            actor=request.user, document=int(pk), reason=body_value(request, "reason", "")
        )
        return self._detail(document.pk)


ROUTES = [("documents", IssuedDocumentViewSet, "document")]
