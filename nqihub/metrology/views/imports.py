"""Ledger import pages: the upload form with the templates, and each job's page with its
progress bar (polling ``status.json``) and, when rejected, every error by row and column."""

from __future__ import annotations

from urllib.parse import quote

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from nqihub.core.errors import ServiceError
from nqihub.core.forms import apply_service_error
from nqihub.core.views_base import record_read
from nqihub.tables.writers import XLSX_CONTENT_TYPE

from ..models import ImportJob
from ..services import imports as services

RECENT_JOBS = 20


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Ledger file (.xlsx, .xls, .ods or .csv)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.xls,.ods,.csv"}),
        help_text=gettext_lazy("At most 50 MB. CSV files may be UTF-8 or GB18030 (GBK), as Chinese Excel saves them."),
    )


def _download(content: bytes, *, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


@login_required
def import_list(request: HttpRequest) -> HttpResponse:
    """Upload a ledger file; the recent imports of the enterprise."""
    can_import = services.import_allowed(actor=request.user)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = services.import_start(actor=request.user, uploaded_file=form.cleaned_data["file"])
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            return redirect("metrology:import_detail", pk=job.pk)
    jobs = ImportJob.objects.for_user(request.user, "view").select_related("created_by")[:RECENT_JOBS]
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "metrology/import_list.html",
        {"form": form, "jobs": jobs, "can_import": can_import},
        status=status,
    )


@login_required
@require_GET
def import_template_xlsx(request: HttpRequest) -> HttpResponse:
    return _download(
        services.import_template_xlsx(), filename="计量器具台账导入模板.xlsx", content_type=XLSX_CONTENT_TYPE
    )


@login_required
@require_GET
def import_template_csv(request: HttpRequest) -> HttpResponse:
    return _download(
        services.import_template_csv(), filename="计量器具台账导入模板.csv", content_type="text/csv; charset=utf-8"
    )


def _job(request: HttpRequest, pk: int) -> ImportJob:
    # Another enterprise's job does not exist for this person: 404, never 403.
    return get_object_or_404(ImportJob.objects.for_user(request.user, "view").select_related("created_by"), pk=pk)


@login_required
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    errors = [{**e, "text": services.import_error_text(e)} for e in job.errors or []]
    return render(
        request,
        "metrology/import_detail.html",
        {"job": job, "status": services.import_status(job), "errors": errors},
    )


@login_required
@require_GET
@never_cache
def import_status(request: HttpRequest, pk: int) -> JsonResponse:
    return JsonResponse(services.import_status(_job(request, pk)))


@login_required
@require_GET
def import_errors(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    filename = _("import-errors-%(id)d.xlsx") % {"id": job.pk}
    content = services.import_errors_xlsx(job=job)
    # A download of the rejected file's problems, row by row (the messages quote its values):
    # recorded for everyone, as exports are.
    record_read(request, ImportJob, params={"id": job.pk}, count=len(job.errors or []), kind="export")
    return _download(content, filename=filename, content_type=XLSX_CONTENT_TYPE)


urlpatterns = [
    path("imports/", import_list, name="import_list"),
    path("imports/template.xlsx", import_template_xlsx, name="import_template_xlsx"),
    path("imports/template.csv", import_template_csv, name="import_template_csv"),
    path("imports/<int:pk>/", import_detail, name="import_detail"),
    path("imports/<int:pk>/status.json", import_status, name="import_status"),
    path("imports/<int:pk>/errors.xlsx", import_errors, name="import_errors"),
]
