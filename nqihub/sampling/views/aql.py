"""The GB/T 2828.1 sampling plan calculator (``/sampling/aql/``): lot size, inspection level,
AQL and severity give the code letter, the plan used after the arrows, n, Ac, Re, the 100 %
note and how far the tables behind the answer were checked. For staff (regulators, technical
institutions); the plan comes from ``services.aql.sampling_plan``, as in the API."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext_lazy as _

from nqihub.core.errors import ServiceError
from nqihub.core.forms import apply_service_error

from .. import aql as tables
from ..services import aql as services


class PlanForm(forms.Form):
    """Fields only, none checked here: the service checks them (the same rules and messages for
    the page and the API), so a refusal shows once, on its field."""

    lot_size = forms.CharField(
        label=_("Lot size"),
        required=False,
        widget=forms.NumberInput(attrs={"min": 2, "required": True}),
        help_text=_("Units in the lot."),
    )
    level = forms.CharField(
        label=_("Inspection level"),
        required=False,
        widget=forms.Select(choices=[(level, level) for level in tables.LEVELS]),
        initial=tables.DEFAULT_LEVEL,
        help_text=_("General inspection uses level II unless the specification says otherwise."),
    )
    aql = forms.CharField(
        label=_("AQL"),
        required=False,
        widget=forms.Select(choices=[(str(a), str(a)) for a in tables.AQLS]),
        initial="2.5",
    )
    severity = forms.CharField(
        label=_("Severity"),
        required=False,
        widget=forms.Select(choices=[(s, services.SEVERITY_LABELS[s]) for s in tables.SEVERITIES]),
        initial=tables.NORMAL,
    )


def plan_context(plan: tables.Plan) -> dict:
    return {
        "plan": plan,
        "severity_label": services.SEVERITY_LABELS[plan.severity],
        "check_label": services.CHECK_LABELS[plan.check],
        "table_check_label": services.CHECK_LABELS[plan.table.check],
        "notes": [services.NOTE_LABELS[note] for note in plan.notes],
        "doubts": [(f"{letter}/{plan.aql}", doubt.note) for letter, doubt in plan.doubts],
    }


@login_required
def plan_calculator(request: HttpRequest) -> HttpResponse:
    try:
        services.require_plan_user(request.user)
    except ServiceError as exc:
        raise PermissionDenied(str(exc.message)) from None  # the site's 403 page
    status = 200
    context: dict = {}
    if "lot_size" in request.GET:
        form = PlanForm(request.GET)
        try:
            plan = services.sampling_plan(
                lot_size=request.GET.get("lot_size"),
                level=request.GET.get("level"),
                aql_value=request.GET.get("aql"),
                severity=request.GET.get("severity"),
            )
        except ServiceError as exc:
            form.is_valid()
            apply_service_error(form, exc)
            status = 400
        else:
            context.update(plan_context(plan))
    else:
        form = PlanForm()
    rules = services.current_switching_rules()
    context.update(
        {
            "form": form,
            "rules": rules,
            "table_1_source": tables.TABLE_1_SOURCE,
            "table_1_check_label": services.CHECK_LABELS[tables.TABLE_1_CHECK],
        }
    )
    return render(request, "sampling/aql_plans.html", context, status=status)


def _shown(cell) -> str:
    if cell == tables.DOWN:
        return "↓"
    if cell == tables.UP:
        return "↑"
    return f"{cell[0]}/{cell[1]}"


@login_required
def plan_tables(request: HttpRequest) -> HttpResponse:
    """The tables behind the plans, as the platform holds them, each with its evidence and
    source and every doubtful cell marked, so staff can compare them with the printed standard."""
    try:
        services.require_plan_user(request.user)
    except ServiceError as exc:
        raise PermissionDenied(str(exc.message)) from None
    severity = request.GET.get("severity", tables.NORMAL)
    if severity not in tables.TABLES:
        severity = tables.NORMAL
    table = tables.TABLES[severity]
    rows = [
        (
            letter,
            n,
            [(_shown(table.cell(letter, the_aql)), table.doubts.get((letter, the_aql))) for the_aql in tables.AQLS],
        )
        for letter, n in table.sizes.items()
    ]
    table_1 = [
        (f"{low}–{high}" if high else f"≥{low}", [letters[level] for level in tables.LEVELS])
        for (low, high), letters in tables.TABLE_1.items()
    ]
    return render(
        request,
        "sampling/aql_tables.html",
        {
            "table": table,
            "table_check_label": services.CHECK_LABELS[table.check],
            "rows": rows,
            "aqls": tables.AQLS,
            "levels": tables.LEVELS,
            "table_1": table_1,
            "table_1_source": tables.TABLE_1_SOURCE,
            "table_1_check_label": services.CHECK_LABELS[tables.TABLE_1_CHECK],
            "severities": [(s, services.SEVERITY_LABELS[s]) for s in tables.SEVERITIES],
            "severity": severity,
        },
    )


urlpatterns = [
    path("aql/", plan_calculator, name="aql"),
    path("aql/tables/", plan_tables, name="aql_tables"),
]
