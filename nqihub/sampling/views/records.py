"""Pages of the sampling records (抽样单): the list per role, the record's page with its timeline,
countdowns, files, sampling and results panels, and a form for each step of the field work.

Who sees what is the record's scope: the regulators of its division, the testing institution
(its inbox), the sampled enterprise from the taking of the samples on (never before). Every
write is one service call (``services.records``, ``services.reports``); a refusal is shown on
the form in the reader's language.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from nqihub.cases.selectors import timeline as case_timeline
from nqihub.core.errors import Forbidden, ServiceError
from nqihub.core.views_base import record_read, scoped_object, scoped_page
from nqihub.documents.pdf import pdf_response
from nqihub.documents.services import PdfMismatch, stored_pdf

from ..models import Batch, Conclusion, InspectionReport, SamplingRecord, TestItem, TestResult
from ..pdf import render_sampling_form, report_filename
from ..services import records as services
from ..services import reports as report_services
from ..services.rules import rule

PAGE_SIZE = 50


def _related(queryset):
    return queryset.select_related(
        "case", "batch", "pool_object", "organization", "institution", "division", "batch__rules"
    )


def _may(request: HttpRequest, pk: int, action: str) -> bool:
    return SamplingRecord.objects.for_user(request.user, action).filter(pk=pk).exists()


# --- the list ------------------------------------------------------------------------------------


@login_required
def record_list(request: HttpRequest) -> HttpResponse:
    records = _related(SamplingRecord.objects.all()).order_by("-pk")
    batches = Batch.objects.for_user(request.user, "view").order_by("-starts_on", "-pk")[:200]
    batch = request.GET.get("batch", "")
    if batch.isdigit():
        records = records.filter(batch_id=int(batch))
    stage = request.GET.get("stage", "")
    if stage in SamplingRecord.Stage.values:
        records = records.filter(stage=stage)
    conclusion = request.GET.get("conclusion", "")
    if conclusion in Conclusion.values:
        records = records.filter(conclusion=conclusion)
    page = scoped_page(request, records, per_page=PAGE_SIZE)
    return render(
        request,
        "sampling/record_list.html",
        {
            "page": page,
            "batches": batches,
            "batch": batch,
            "stages": SamplingRecord.Stage.choices,
            "stage": stage,
            "conclusions": Conclusion.choices,
            "conclusion": conclusion,
        },
    )


# --- the record ----------------------------------------------------------------------------------


def _results(record: SamplingRecord) -> list:
    return list(
        TestResult.objects.filter(record=record, round=TestResult.Round.INITIAL)
        .select_related("test_item")
        .order_by("test_item__seq")
    )


@login_required
def record_detail(request: HttpRequest, pk: int) -> HttpResponse:
    record = scoped_object(request, _related(SamplingRecord.objects.all()), pk)
    return _detail(request, record)


def _detail(request: HttpRequest, record: SamplingRecord, *, status: int = 200, **extra) -> HttpResponse:
    stage = record.stage
    may_sample = stage == SamplingRecord.Stage.ASSIGNED and _may(request, record.pk, "sample")
    may_test = _may(request, record.pk, "test")
    results = _results(record)
    items = list(TestItem.objects.filter(rules_id=record.batch.rules_id).order_by("seq"))
    context = {
        "record": record,
        "events": case_timeline(record.case),
        "samplers": list(record.samplers.all()) if stage != SamplingRecord.Stage.ASSIGNED else [],
        "results": results,
        "reports": list(record.reports.order_by("-issued_at", "-pk")),
        "may_sample": may_sample,
        "may_receive": may_test and stage == SamplingRecord.Stage.SAMPLED,
        "may_record": may_test and stage == SamplingRecord.Stage.RECEIVED,
        "may_report": may_test
        and stage == SamplingRecord.Stage.RECEIVED
        and bool(items)
        and len(results) == len(items),
        **extra,
    }
    return render(request, "sampling/record_detail.html", context, status=status)


def _acting(request: HttpRequest, pk: int, action: str) -> SamplingRecord:
    """The record for a step's page: 404 outside the reader's view, 403 (the site's page) when
    they see it but may not take the step."""
    record = _related(SamplingRecord.objects.for_user(request.user, "view")).filter(pk=pk).first()
    if record is None:
        raise Http404
    if not _may(request, pk, action):
        raise PermissionDenied(_("You may not do this in supervision sampling."))
    return record


def _refused(exc: ServiceError) -> None:
    if isinstance(exc, Forbidden):
        raise PermissionDenied(str(exc.message)) from None
    if exc.status_code == 404:
        raise Http404 from None


# --- sampling ------------------------------------------------------------------------------------


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (photos of the sealed samples, the signed form)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*,.pdf"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(item, initial) for item in data]
        return [single(data, initial)] if data else []


class SampleForm(forms.Form):
    samplers = forms.MultipleChoiceField(
        label=gettext_lazy("Samplers"), widget=forms.CheckboxSelectMultiple, required=False
    )
    notice_number = forms.CharField(label=gettext_lazy("Notice number shown"), max_length=40)
    sampled_at = forms.DateTimeField(
        label=gettext_lazy("Sampled at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    place = forms.CharField(label=gettext_lazy("Place of sampling"), max_length=300)
    production_batch = forms.CharField(label=gettext_lazy("Production date or batch"), max_length=100)
    lot_size = forms.IntegerField(label=gettext_lazy("Lot size (units)"), min_value=1)
    test_quantity = forms.IntegerField(label=gettext_lazy("Units for testing"), min_value=0)
    spare_quantity = forms.IntegerField(label=gettext_lazy("Spare units"), min_value=0)
    seal_numbers = forms.CharField(
        label=gettext_lazy("Seal numbers"),
        max_length=300,
        help_text=gettext_lazy("One per sealed set (test and spare samples), separated by commas or spaces."),
    )
    sample_price = forms.DecimalField(
        label=gettext_lazy("Price paid for the samples (yuan)"), min_value=0, decimal_places=2, max_digits=10
    )
    party_signatory = forms.CharField(label=gettext_lazy("Signed for the sampled party by"), max_length=50)
    files = MultipleFileField(
        label=gettext_lazy("Photos of the sealed samples and the signed sampling form"),
        required=False,
        help_text=gettext_lazy("At least one file."),
    )

    def __init__(self, *args, record: SamplingRecord, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["samplers"].choices = [
            (str(person.pk), f"{person.name}（{person.enforcement_number}）")
            for person in services.eligible_samplers(record)
        ]
        self.fields["samplers"].help_text = _("At least %(count)d, from the inspectors drawn for this object.") % {
            "count": rule("min_inspectors")
        }


@login_required
def record_sample_page(request: HttpRequest, pk: int) -> HttpResponse:
    record = _acting(request, pk, "sample")
    rules = record.batch.rules
    initial = {
        "test_quantity": rules.test_quantity,
        "spare_quantity": rules.spare_quantity,
        "sampled_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
    }
    form = SampleForm(request.POST or None, request.FILES or None, record=record, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        files = data.pop("files")
        try:
            services.record_sample(actor=request.user, record=record.pk, data=data, files=files)
        except ServiceError as exc:
            _refused(exc)
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("The samples were recorded as taken and sealed."))
            return redirect("sampling:record_detail", pk=record.pk)
    return render(request, "sampling/record_sample.html", {"record": record, "form": form, "rules": rules})


class RefuseForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("How the sampling was refused"), widget=forms.Textarea(attrs={"rows": 4}), max_length=2000
    )
    evidence = MultipleFileField(label=gettext_lazy("Evidence (photos, the refused notice …)"), required=False)


@login_required
def record_refuse_page(request: HttpRequest, pk: int) -> HttpResponse:
    record = _acting(request, pk, "sample")
    form = RefuseForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.record_refuse(
                actor=request.user,
                record=record.pk,
                reason=form.cleaned_data["reason"],
                evidence=form.cleaned_data["evidence"],
            )
        except ServiceError as exc:
            _refused(exc)
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("The refusal was recorded."))
            return redirect("sampling:record_detail", pk=record.pk)
    return render(request, "sampling/record_refuse.html", {"record": record, "form": form})


# --- at the institution --------------------------------------------------------------------------


@require_POST
@login_required
def record_receive_page(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        services.record_receive(actor=request.user, record=pk, condition=request.POST.get("condition", ""))
    except ServiceError as exc:
        _refused(exc)
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The samples were recorded as received."))
    return redirect("sampling:record_detail", pk=pk)


def _posted_rows(request: HttpRequest, items) -> list[dict]:
    rows = []
    for item in items:
        row = {
            "test_item": item.pk,
            "measured": request.POST.get(f"measured_{item.pk}", ""),
            "note": request.POST.get(f"note_{item.pk}", ""),
        }
        if item.judgement == TestItem.Judgement.RANGE:
            row["value"] = request.POST.get(f"value_{item.pk}", "")
        else:
            row["conclusion"] = request.POST.get(f"conclusion_{item.pk}", "")
        rows.append(row)
    return rows


@login_required
def record_results_page(request: HttpRequest, pk: int) -> HttpResponse:
    record = _acting(request, pk, "test")
    items = list(TestItem.objects.filter(rules_id=record.batch.rules_id).order_by("seq"))
    error = None
    if request.method == "POST":
        rows = _posted_rows(request, items)
        try:
            services.record_results(actor=request.user, record=record.pk, rows=rows)
        except ServiceError as exc:
            _refused(exc)
            error = exc
        else:
            messages.success(request, _("The results were recorded."))
            return redirect("sampling:record_detail", pk=record.pk)
        entered = {row["test_item"]: row for row in rows}
    else:
        entered = {
            r.test_item_id: {
                "value": "" if r.value is None else f"{r.value.normalize():f}",
                "measured": r.measured,
                "conclusion": r.conclusion,
                "note": r.note,
            }
            for r in _results(record)
        }
    lines = [
        {
            "item": item,
            "entered": entered.get(item.pk, {}),
            "error": error is not None and error.field == f"item_{item.pk}",
        }
        for item in items
    ]
    return render(
        request,
        "sampling/record_results.html",
        {"record": record, "lines": lines, "error": error, "conclusions": Conclusion.choices},
        status=400 if error is not None else 200,
    )


@require_POST
@login_required
def record_report_page(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        report = report_services.record_report(actor=request.user, record=pk)
    except ServiceError as exc:
        _refused(exc)
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Inspection report %(number)s was issued.") % {"number": report.number})
    return redirect("sampling:record_detail", pk=pk)


@login_required
def report_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The report's PDF as issued (checked against its SHA-256); every download is recorded."""
    report = InspectionReport.objects.for_user(request.user, "download").filter(pk=pk).first()
    if report is None:
        raise Http404
    try:
        data = stored_pdf(report)
    except PdfMismatch:
        raise Http404 from None
    record_read(request, InspectionReport, params={"id": pk, "number": report.number}, count=1, kind="export")
    return pdf_response(
        data, report_filename(report), inline=request.GET.get("inline") == "1", ascii_filename=f"{report.number}.pdf"
    )


@login_required
def record_form_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The printable 抽样单 (blank lines before the sampling, filled in after); recorded as an export."""
    record = scoped_object(
        request,
        _related(SamplingRecord.objects.all()).select_related("batch__organizer", "producer"),
        pk,
        record=False,
    )
    data = render_sampling_form(record)
    record_read(request, SamplingRecord, params={"id": pk, "form": "sampling"}, count=1, kind="export")
    return pdf_response(data, f"抽样单-{record.case.number}.pdf", ascii_filename=f"{record.case.number}.pdf")


urlpatterns = [
    path("records/", record_list, name="record_list"),
    path("records/<int:pk>/", record_detail, name="record_detail"),
    path("records/<int:pk>/sample/", record_sample_page, name="record_sample"),
    path("records/<int:pk>/refuse/", record_refuse_page, name="record_refuse"),
    path("records/<int:pk>/receive/", record_receive_page, name="record_receive"),
    path("records/<int:pk>/results/", record_results_page, name="record_results"),
    path("records/<int:pk>/report/", record_report_page, name="record_report"),
    path("records/<int:pk>/form.pdf", record_form_pdf, name="record_form_pdf"),
    path("reports/<int:pk>/pdf/", report_pdf, name="report_pdf"),
]
