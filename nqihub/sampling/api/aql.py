"""GB/T 2828.1 sampling plans in the API.

* ``GET /api/v1/aql-plans/?lot_size=&level=&aql=&severity=`` — the single sampling plan:
  code letter (Table 1), the plan used after the arrows, n, Ac, Re, whether every unit is
  inspected, and how far the tables behind the answer were checked. For regulators and technical
  institutions (403 for anyone else); bad input is 400 with the fields named. The plan comes from
  ``services.aql.sampling_plan``, as on the page ``/sampling/aql/``.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.response import Response

from nqihub.core.api.schema import AutoSchema
from nqihub.core.api.views import ScopedViewSetMixin

from .. import aql as tables
from ..services import aql as services


class _NoteSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="arrow_down, arrow_up or full_inspection.")
    message = serializers.CharField()


class _DoubtSerializer(serializers.Serializer):
    cell = serializers.CharField(help_text="Code letter/AQL of the doubtful cell, e.g. A/10.")
    pattern = serializers.CharField(help_text="What the table's diagonal pattern gives there.")
    note = serializers.CharField()


class _SourceSerializer(serializers.Serializer):
    evidence = serializers.CharField(help_text="verified, corroborated or unverified.")
    source = serializers.CharField()


class _TableSerializer(_SourceSerializer):
    key = serializers.CharField(help_text="2-A (normal), 2-B (tightened) or 2-C (reduced).")
    title = serializers.CharField()


class AqlPlanSerializer(serializers.Serializer):
    lot_size = serializers.IntegerField()
    level = serializers.CharField(help_text="Inspection level: S-1, S-2, S-3, S-4, I, II or III.")
    aql = serializers.CharField(help_text="As in the tables, e.g. 0.010, 2.5, 10.")
    severity = serializers.CharField(help_text="normal, tightened or reduced.")
    code_letter = serializers.CharField(help_text="From Table 1.")
    used_letter = serializers.CharField(help_text="The row whose plan is used, after following the arrows.")
    n = serializers.IntegerField(help_text="Sample size of the plan used.")
    ac = serializers.IntegerField(help_text="Acceptance number.")
    re = serializers.IntegerField(help_text="Rejection number.")
    full_inspection = serializers.BooleanField(help_text="n reaches the lot size: every unit is inspected.")
    inspect = serializers.IntegerField(help_text="Units to inspect: n, or the whole lot.")
    evidence = serializers.CharField(
        help_text="The weakest state of what the plan rests on: corroborated, unverified, or doubtful when a "
        "doubtful cell was used."
    )
    notes = _NoteSerializer(many=True)
    doubts = _DoubtSerializer(many=True)
    table = _TableSerializer()
    table_1 = _SourceSerializer()


def plan_data(plan: tables.Plan) -> dict:
    return {
        "lot_size": plan.lot_size,
        "level": plan.level,
        "aql": str(plan.aql),
        "severity": plan.severity,
        "code_letter": plan.code_letter,
        "used_letter": plan.used_letter,
        "n": plan.n,
        "ac": plan.ac,
        "re": plan.re,
        "full_inspection": plan.full_inspection,
        "inspect": plan.inspect,
        "evidence": plan.check,
        "notes": [{"code": note, "message": str(services.NOTE_LABELS[note])} for note in plan.notes],
        "doubts": [
            {"cell": f"{letter}/{plan.aql}", "pattern": doubt.pattern, "note": str(doubt.note)}
            for letter, doubt in plan.doubts
        ],
        "table": {
            "key": plan.table.key,
            "title": str(plan.table.title),
            "evidence": plan.table.check,
            "source": str(plan.table.source),
        },
        "table_1": {"evidence": tables.TABLE_1_CHECK, "source": str(tables.TABLE_1_SOURCE)},
    }


class _PlanSchema(AutoSchema):
    """One object, not a list; its 400 and 403 list the sampling plans' own codes as well."""

    def _is_list_view(self, serializer=None) -> bool:
        return False

    def _error_codes(self, status: int) -> tuple[list[str], str]:
        codes, suffix = super()._error_codes(status)
        own = services.ANSWER_CODES.get(status)
        if own:
            return sorted(set(codes) | own), suffix + "SamplingPlan"
        return codes, suffix


class AqlPlanViewSet(ScopedViewSetMixin, viewsets.ViewSet):
    """The GB/T 2828.1 single sampling plan for a lot."""

    schema = _PlanSchema()
    audit_regulator_queries = False  # a standard's tables, not enterprise data

    @extend_schema(
        parameters=[
            OpenApiParameter("lot_size", OpenApiTypes.INT, required=True, description="Units in the lot (≥ 2)."),
            OpenApiParameter(
                "level", OpenApiTypes.STR, enum=list(tables.LEVELS), description="Inspection level (default II)."
            ),
            OpenApiParameter(
                "aql", OpenApiTypes.STR, required=True, enum=[str(a) for a in tables.AQLS], description="AQL."
            ),
            OpenApiParameter("severity", OpenApiTypes.STR, enum=list(tables.SEVERITIES), description="Default normal."),
        ],
        responses=AqlPlanSerializer,
    )
    def list(self, request, *args, **kwargs):
        services.require_plan_user(request.user)
        plan = services.sampling_plan(
            lot_size=request.query_params.get("lot_size"),
            level=request.query_params.get("level"),
            aql_value=request.query_params.get("aql"),
            severity=request.query_params.get("severity"),
        )
        return Response(plan_data(plan))


ROUTES = [("aql-plans", AqlPlanViewSet, "aql-plan")]
