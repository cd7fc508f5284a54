"""The regulator's statistics page: filed, due, verified, coverage (受检率), overdue and failed
instruments of the jurisdiction, by region and by use field, with SVG charts and an Excel
export. Regulators only: anyone else gets 404. Each read and export is recorded."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..charts import bar_chart
from ..models import Instrument
from ..selectors_stats import coverage_stats
from .lists import Statistics


def coverage_headers() -> list[str]:
    return [
        _("Breakdown"),
        _("Code"),
        _("Name"),
        _("Filed"),
        _("Due"),
        _("Verified"),
        _("Coverage (%)"),
        _("Overdue"),
        _("Failed"),
    ]


def coverage_rows(stats) -> list[list]:
    def line(group, row):
        return [
            group,
            row.key,
            row.name,
            row.filed,
            row.due,
            row.verified,
            float(row.coverage),
            row.overdue,
            row.failed,
        ]

    by_region, by_use = _("By region"), _("By use field")
    return [
        *(line(by_region, row) for row in stats.by_region),
        *(line(by_use, row) for row in stats.by_use_field),
        line(_("Total"), stats.total),
    ]


COVERAGE = Statistics(
    selector=coverage_stats,
    model=Instrument,
    count_of=lambda stats: stats.total.due,
    page="metrology:stats_metrology",
    stem=gettext_lazy("verification-statistics"),
    title=gettext_lazy("Verification statistics"),
    headers=coverage_headers,
    rows=coverage_rows,
)


@login_required
def stats_metrology(request: HttpRequest) -> HttpResponse:
    stats, error = COVERAGE.shown(request)
    charts = None
    if stats is not None:
        charts = {
            "region": bar_chart(
                title=_("Coverage by region (%)"),
                bars=[(r.name, r.coverage) for r in stats.by_region],
                unit="%",
                max_value=100,
                chart_id="coverage-by-region",
            ),
            "use_field": bar_chart(
                title=_("Coverage by use field (%)"),
                bars=[(r.name, r.coverage) for r in stats.by_use_field],
                unit="%",
                max_value=100,
                chart_id="coverage-by-use-field",
            ),
        }
    return render(
        request,
        "metrology/stats_metrology.html",
        {"stats": stats, "error": error, "charts": charts, "query": request.GET.urlencode(), "params": request.GET},
    )


@login_required
def stats_metrology_export(request: HttpRequest) -> HttpResponse:
    return COVERAGE.export(request)


urlpatterns = [
    path("statistics/", stats_metrology, name="stats_metrology"),
    path("statistics/export/", stats_metrology_export, name="stats_metrology_export"),
]
