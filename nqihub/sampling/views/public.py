"""The public results of supervision sampling (no sign-in): the records of published batches
with the fields the law asks to publish and nothing private; searched, paginated, exported to
Excel. Rate-limited per address like the public check of documents."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _

from nqihub.core.errors import ServiceError
from nqihub.tables.exports import export_response

from ..models import Batch, ProductCategory, SamplingRecord
from ..ratelimit import WINDOW_SECONDS, public_rate_limited
from ..services.disclosure import PUBLIC_FIELDS, clean_public_filters, public_results, public_rows

PAGE_SIZE = 50
EXPORT_LIMIT = 10_000


def _limited(request: HttpRequest) -> HttpResponse:
    response = render(request, "sampling/public_limited.html", status=429)
    response["Retry-After"] = str(WINDOW_SECONDS)
    patch_cache_control(response, no_store=True, max_age=0)
    return response


def _search(request: HttpRequest):
    try:
        return clean_public_filters(request.GET), None
    except ServiceError as exc:
        return None, exc


def _terms(filters: dict) -> list[tuple[str, str]]:
    labels = {
        "q": _("Enterprise"),
        "product": _("Product"),
        "category": _("Product category"),
        "region": _("Region"),
        "year": _("Year"),
    }
    return [(labels[k], str(getattr(v, "name", v))) for k, v in filters.items()]


def results(request: HttpRequest) -> HttpResponse:
    if public_rate_limited(request):
        return _limited(request)
    filters, error = _search(request)
    page = rows = None
    if filters is not None:
        page = Paginator(public_results(filters), PAGE_SIZE).get_page(request.GET.get("page"))
        rows = public_rows(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    response = render(
        request,
        "sampling/public_results.html",
        {
            "page": page,
            "rows": rows,
            "error": error,
            "fields": PUBLIC_FIELDS,
            "params": request.GET,
            "query": query.urlencode(),
            "categories": ProductCategory.objects.filter(is_active=True),
            "years": sorted(
                set(Batch.objects.filter(state=Batch.State.DISCLOSED).values_list("plan__year", flat=True)),
                reverse=True,
            ),
        },
        status=400 if error else 200,
    )
    patch_cache_control(response, public=True, no_cache=True, max_age=0)
    return response


def results_export(request: HttpRequest) -> HttpResponse:
    if public_rate_limited(request):
        return _limited(request)
    filters, error = _search(request)
    if error is not None:
        return render(request, "sampling/public_results.html", {"error": error, "fields": PUBLIC_FIELDS}, status=400)
    found = public_results(filters)
    total = found.count()
    rows = public_rows(found[:EXPORT_LIMIT])
    keys = [key for key, _label in PUBLIC_FIELDS]
    return export_response(
        request,
        model=SamplingRecord,
        filename=_("sampling-results") + ".xlsx",
        title=_("Published results of supervision sampling"),
        headers=[str(label) for _key, label in PUBLIC_FIELDS],
        rows=([row[key] for key in keys] for row in rows),
        count=len(rows),
        terms=_terms(filters),
        truncated=total > EXPORT_LIMIT,
        total=total,
    )


urlpatterns = [
    path("results/", results, name="public_results"),
    path("results/export/", results_export, name="public_results_export"),
]
