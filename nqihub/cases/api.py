"""``/api/v1/cases/``: "my cases" (我的办件) for machines — the cases the caller may see, all
kinds together, filtered and ordered as the page does (``selectors.case_list``)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers

from nqihub.core.api.views import ScopedGenericViewSet

from . import selectors
from .models import Case


class CaseListSerializer(serializers.ModelSerializer):
    """One case: number, kind, parties, state, time limit and whether it is overdue, and the
    path of the owning module's page."""

    kind_label = serializers.SerializerMethodField()
    state_label = serializers.CharField(source="get_state_display")
    applicant = serializers.CharField(source="applicant_organization.name", allow_null=True, default=None)
    handler = serializers.CharField(source="handling_organization.name", allow_null=True, default=None)
    division = serializers.CharField(source="division_id", allow_null=True)
    overdue = serializers.BooleanField(source="is_overdue")
    url = serializers.CharField(source="page_url", help_text="The path of the case's page in the owning module.")

    class Meta:
        model = Case
        fields = [
            "id",
            "number",
            "kind",
            "kind_label",
            "state",
            "state_label",
            "applicant",
            "handler",
            "division",
            "opened_at",
            "submitted_at",
            "deadline",
            "overdue",
            "decided_at",
            "closed_at",
            "url",
        ]

    def get_kind_label(self, case) -> str:
        return str(case.kind_label)


@extend_schema(
    parameters=[
        OpenApiParameter("kind", OpenApiTypes.STR, description="Only cases of this kind (its code)."),
        OpenApiParameter("state", OpenApiTypes.STR, description="Only cases in this state."),
        OpenApiParameter(
            "overdue", OpenApiTypes.STR, enum=["1", "0"], description="1: only overdue cases; 0: none of them."
        ),
    ]
)
class CaseViewSet(mixins.ListModelMixin, ScopedGenericViewSet):
    """The cases the caller may see (applicant, handler, submitter, or regulator of the
    division), newest first."""

    queryset = Case.objects.all()
    serializer_class = CaseListSerializer

    def get_queryset(self):
        params = self.request.query_params
        return selectors.case_list(
            super().get_queryset(),
            kind=str(params.get("kind", ""))[:40],
            state=str(params.get("state", ""))[:40],
            overdue=str(params.get("overdue", ""))[:8],
        )
