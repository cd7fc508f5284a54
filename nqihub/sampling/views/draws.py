"""The draw's actions on a batch (draw, redraw with a reason, confirm) and the download of a
draw's published files (the pool it drew from, its quotas). Writes go through
``services.draws``; the files are read through the draw's ``for_user`` and recorded."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from nqihub.core.errors import ServiceError
from nqihub.core.views_base import record_read, scoped_object

from .. import draw as algorithm
from ..models import Draw
from ..services import draws as services


def _run(request: HttpRequest, pk: int, run, done) -> HttpResponse:
    try:
        result = run()
    except ServiceError as exc:
        if exc.status_code == 404 and exc.field is None:
            raise Http404 from exc
        messages.error(request, exc.message)
    else:
        messages.success(request, done(result))
    return redirect("sampling:batch_detail", pk=pk)


@login_required
@require_POST
def batch_draw(request: HttpRequest, pk: int) -> HttpResponse:
    return _run(
        request,
        pk,
        lambda: services.batch_draw(actor=request.user, batch=pk, reason=request.POST.get("reason", "")),
        lambda drawn: (
            _("Draw no. %(seq)s was made and kept; its seed is %(seed)s.") % {"seq": drawn.seq, "seed": drawn.seed}
        ),
    )


@login_required
@require_POST
def batch_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    return _run(
        request,
        pk,
        lambda: services.batch_confirm(actor=request.user, batch=pk),
        lambda batch: _("Sampling of batch %(number)s has started.") % {"number": batch.number},
    )


def _file(name: str, data: bytes) -> HttpResponse:
    response = HttpResponse(data, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
def draw_pool_file(request: HttpRequest, pk: int) -> HttpResponse:
    drawn = scoped_object(request, Draw.objects.select_related("batch"), pk, record=False)
    # The pool names enterprises: its download is an export, recorded whoever makes it.
    record_read(request, Draw, count=drawn.pool_size, params={"id": pk, "file": "pool"}, kind="export")
    with drawn.pool_file.open("rb") as handle:
        data = handle.read()
    return _file(f"{drawn.batch.number}-{drawn.purpose}-{drawn.seq}.csv", data)


@login_required
def draw_quotas_file(request: HttpRequest, pk: int) -> HttpResponse:
    drawn = scoped_object(request, Draw.objects.select_related("batch"), pk)
    if drawn.purpose != Draw.Purpose.OBJECTS:
        raise Http404
    return _file(f"{drawn.batch.number}-quotas-{drawn.seq}.csv", algorithm.quotas_csv(drawn.quotas))


urlpatterns = [
    path("batches/<int:pk>/draw/", batch_draw, name="batch_draw"),
    path("batches/<int:pk>/confirm/", batch_confirm, name="batch_confirm"),
    path("draws/<int:pk>/pool.csv", draw_pool_file, name="draw_pool_file"),
    path("draws/<int:pk>/quotas.csv", draw_quotas_file, name="draw_quotas_file"),
]
