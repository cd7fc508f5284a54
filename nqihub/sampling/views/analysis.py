"""The regulators' analysis of sampling results: pass rates by product category, region, type
of check and quarter, this year against last, and failures by test item; an Excel export.
Regulators only (anyone else: 404), scoped to the reader's jurisdiction; every read and export
is recorded."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _

from nqihub.core.access import get_actor
from nqihub.core.errors import ServiceError
from nqihub.core.views_base import record_read
from nqihub.tables.exports import export_response

from ..models import Batch, ProductCategory, SamplingRecord
from ..services.analysis import Analysis, clean_filters, sampling_analysis


def _regulator(request: HttpRequest) -> None:
    if not get_actor(request.user).is_regulator:
        raise Http404


def analysis_headers() -> list[str]:
    return [
        _("Breakdown"),
        _("Code"),
        _("Name"),
        _("Tested"),
        _("Qualified"),
        _("Unqualified"),
        _("Pass rate (%)"),
        _("Sampling refused"),
    ]


def analysis_rows(result: Analysis) -> list[list]:
    def line(group, row):
        return [
            group,
            row.key,
            row.name,
            row.tested,
            row.passed,
            row.failed,
            float(row.pass_rate) if row.pass_rate is not None else "",
            row.refused,
        ]

    rows = []
    for group, table in (
        (_("By product category"), result.by_category),
        (_("By region"), result.by_region),
        (_("By type of check"), result.by_kind),
        (_("By quarter"), result.by_quarter),
    ):
        rows.extend(line(group, row) for row in table)
    rows.append(line(_("Total"), result.total))
    for comparison in result.comparison:
        rows.append(line(_("Last year, by product category"), comparison.last_year))
    rows.append(line(_("Last year, total"), result.last_total))
    for name, count in result.failures_by_item:
        rows.append([_("Failures by test item"), "", name, "", "", count, "", ""])
    return rows


def _terms(result: Analysis) -> list[tuple[str, str]]:
    terms = [(_("Jurisdiction"), result.jurisdiction.name), (_("Year"), str(result.year))]
    if result.kind:
        terms.append((_("Type of check"), str(Batch.Kind(result.kind).label)))
    if result.category is not None:
        terms.append((_("Product category"), result.category.name))
    return terms


@login_required
def analysis_page(request: HttpRequest) -> HttpResponse:
    _regulator(request)
    result = error = None
    try:
        result = sampling_analysis(request.user, **clean_filters(request.GET))
    except ServiceError as exc:
        error = exc
    if result is not None:
        record_read(request, SamplingRecord, count=result.total.tested + result.total.refused, kind="statistics")
    return render(
        request,
        "sampling/analysis.html",
        {
            "result": result,
            "error": error,
            "params": request.GET,
            "query": request.GET.urlencode(),
            "kinds": Batch.Kind.choices,
            "categories": ProductCategory.objects.filter(is_active=True),
        },
        status=400 if error else 200,
    )


@login_required
def analysis_export(request: HttpRequest) -> HttpResponse:
    _regulator(request)
    try:
        result = sampling_analysis(request.user, **clean_filters(request.GET))
    except ServiceError as exc:
        return render(request, "sampling/analysis.html", {"error": exc}, status=400)
    rows = analysis_rows(result)
    return export_response(
        request,
        model=SamplingRecord,
        filename=_("sampling-analysis") + f"-{result.year}.xlsx",
        title=_("Analysis of supervision sampling"),
        headers=analysis_headers(),
        rows=rows,
        count=len(rows),
        terms=_terms(result),
    )


urlpatterns = [
    path("analysis/", analysis_page, name="analysis"),
    path("analysis/export/", analysis_export, name="analysis_export"),
]
