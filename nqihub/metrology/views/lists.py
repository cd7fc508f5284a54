"""What the read pages of metrology share, on the scoping base (``core.views_base``): the
searched list pages of instruments (the ledger, the filed instruments, the due list) and the
casework lists (filings, applications) with their page, query and export buttons; the
statistics pages with their recorded read and their export."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _

from nqihub.core.access import get_actor
from nqihub.core.views_base import record_read, searched_page
from nqihub.divisions.models import AdminDivision
from nqihub.tables.exports import export_response

from .. import selectors
from ..selectors_stats import BadParameter


def query_without_page(request: HttpRequest) -> str:
    """The request's query without its page number, for the pager's and sort links."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def export_context(export: selectors.ListExport, count: int) -> dict:
    """The export buttons of a list whose search finds ``count`` rows."""
    return {
        "export_notice": selectors.export_limit_notice(count),
        "export_background": selectors.export_background_label(count),
        "export_kind": export.kind,
    }


def searched_list(request: HttpRequest, search, export: selectors.ListExport, *, per_page: int) -> dict:
    """The context of a list page of ``search`` (a FilterSet on a scoped queryset): one page
    of it (a regulator's read recorded), its query and its export."""
    page = searched_page(request, search.qs, per_page=per_page)
    return {
        "search": search,
        "page": page,
        "query": query_without_page(request),
        "is_regulator": get_actor(request.user).is_regulator,
        **export_context(export, page.paginator.count),
    }


def state_search(request: HttpRequest, queryset, states, match) -> tuple:
    """A casework list's search (filings, applications): the ``state`` chosen among
    ``states`` (a TextChoices) and the text ``q``, matched by ``match(q)`` (a Q). Returns the
    narrowed queryset, the state and the text, for the page to show them again."""
    state = request.GET.get("state", "")
    if state in states.values:
        queryset = queryset.filter(state=state)
    q = request.GET.get("q", "").strip()
    if q:
        queryset = queryset.filter(match(q))
    return queryset, state, q


def statistics_terms(stats) -> list[tuple[str, str]]:
    """What a statistics export covers, for the lines above its header: the jurisdiction,
    the period and the level regions are grouped at."""
    level = AdminDivision.Level(stats.level).label if stats.level in AdminDivision.Level.values else stats.level
    return [
        (_("Jurisdiction"), f"{stats.jurisdiction.name} ({stats.jurisdiction.code})"),
        (_("Period"), stats.period.label),
        (_("Level"), str(level)),
    ]


@dataclass(frozen=True)
class Statistics:
    """One statistics page and its Excel export, for regulators only (anyone else: 404):
    ``selector(user, params=…)`` computes them for the request's query, refusing a bad
    parameter with ``BadParameter``; the read is recorded with ``count_of(stats)``; the export writes
    ``rows(stats)`` under ``headers()`` with what they cover above them, and a bad parameter
    sends the reader back to ``page`` (a URL name) with its message."""

    selector: Callable[..., Any]
    model: Any
    count_of: Callable[[Any], int]
    page: str
    stem: Any  # lazy: the file name before the jurisdiction and the date
    title: Any  # lazy
    headers: Callable[[], list]
    rows: Callable[[Any], list]

    def read(self, request: HttpRequest) -> tuple:
        """``(stats, None)``, or ``(None, error)`` for a bad parameter."""
        if not get_actor(request.user).is_regulator:
            raise Http404
        try:
            return self.selector(request.user, params=request.GET), None
        except BadParameter as exc:
            return None, exc

    def shown(self, request: HttpRequest) -> tuple:
        """The statistics for the page, a regulator's read recorded."""
        stats, error = self.read(request)
        if stats is not None:
            record_read(request, self.model, count=self.count_of(stats), kind="statistics")
        return stats, error

    def export(self, request: HttpRequest) -> HttpResponse:
        stats, error = self.read(request)
        if stats is None:
            messages.error(request, error.message if error else _("Not found."))
            return redirect(self.page)
        return export_response(
            request,
            model=self.model,
            filename=f"{self.stem}-{stats.jurisdiction.code}-{timezone.localdate():%Y%m%d}.xlsx",
            title=self.title,
            headers=self.headers(),
            rows=self.rows(stats),
            count=self.count_of(stats),
            terms=statistics_terms(stats),
        )
