"""The downloads page (/downloads/): the person's own background exports, with their state,
rows and a link to each finished file; starting an export (the list pages' button); and the
download itself, checked against its owner and recorded in the audit trail."""

from __future__ import annotations

from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from nqihub.core.errors import ServiceError
from nqihub.tables.jobs import recover_if_stale
from nqihub.tables.writers import XLSX_CONTENT_TYPE

from . import services
from .models import ExportJob

app_name = "downloads"
PAGE_SIZE = 30
REFRESH_SECONDS = 10


@login_required
@never_cache
def export_list(request: HttpRequest) -> HttpResponse:
    jobs = ExportJob.objects.for_user(request.user, "view").select_related("organization")
    page = Paginator(jobs, PAGE_SIZE).get_page(request.GET.get("page"))
    for job in page.object_list:
        recover_if_stale(job)  # an export whose worker died is made again or failed, never left running
    downloadable = set(
        ExportJob.objects.for_user(request.user, "download")
        .filter(pk__in=[job.pk for job in page.object_list])
        .values_list("pk", flat=True)
    )
    return render(
        request,
        "downloads/export_list.html",
        {
            "page": page,
            "query": "",
            "downloadable": downloadable,
            "under_way": any(not job.finished for job in page.object_list),
            "refresh_seconds": REFRESH_SECONDS,
            "retention_days": services.retention_days(),
        },
    )


@login_required
@require_POST
def export_start(request: HttpRequest) -> HttpResponse:
    """Start a background export of a list page's search: ``kind`` names the export, ``query``
    is the page's query string (its search, as the direct export would get it)."""
    try:
        job = services.export_start(
            actor=request.user, kind=request.POST.get("kind", ""), params=QueryDict(request.POST.get("query", ""))
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("The export “%(title)s” is under way. It is listed here and can be downloaded when it is ready.")
            % {"title": job.title},
        )
    return redirect("downloads:list")


@login_required
@require_GET
def export_download(request: HttpRequest, pk: int) -> HttpResponseBase:
    # Anyone else's export does not exist for this person: 404, never 403.
    job = get_object_or_404(ExportJob.objects.for_user(request.user, "download"), pk=pk, state=ExportJob.State.DONE)
    if not job.file:
        raise Http404  # deleted after the retention period
    try:
        handle = job.file.open("rb")
    except OSError as exc:  # the storage lost it
        raise Http404 from exc
    services.export_downloaded(actor=request.user, job=job)
    filename = services.download_filename(job)
    response = FileResponse(handle, as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE)
    ascii_name = filename.encode("ascii", "ignore").decode().strip("-_ ") or f"export-{job.pk}.xlsx"
    ascii_name = ascii_name.replace('"', "").replace("\\", "")
    if ascii_name.startswith("."):
        ascii_name = f"export-{job.pk}{ascii_name}"
    response["Content-Disposition"] = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    return response


urlpatterns = [
    path("", export_list, name="list"),
    path("start/", export_start, name="start"),
    path("<int:pk>/file/", export_download, name="download"),
]
