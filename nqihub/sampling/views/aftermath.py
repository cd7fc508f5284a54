"""Pages after the result: the record's aftermath page (conclusion, notice, objection and re-test,
handling of an unqualified product, the running countdowns and the timeline), the forms that call
the services in ``services/aftermath.py``, and the regulators' list of sampling deadlines
(overdue first). Reads go through the scoping base; writes through the services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from nqihub.cases.models import CaseDeadline
from nqihub.cases.selectors import timeline as case_timeline
from nqihub.core.access import get_actor
from nqihub.core.errors import ServiceError
from nqihub.core.views_base import scoped_object, searched_page

from ..models import Disposal, Objection, SamplingRecord
from ..services import aftermath as services

PAGE_SIZE = 50


def _fail(request: HttpRequest, exc: ServiceError) -> None:
    if exc.status_code == 404 and exc.field is None:
        raise Http404 from exc
    messages.error(request, exc.message)


def _back(pk) -> HttpResponse:
    return redirect("sampling:aftermath", pk=pk)


def _run(request: HttpRequest, record_id, call, done: str) -> HttpResponse:
    try:
        call()
    except ServiceError as exc:
        _fail(request, exc)
    else:
        messages.success(request, done)
    return _back(record_id)


def _record_of(model, pk) -> int:
    row = model._default_manager.filter(pk=pk).values_list("record_id", flat=True).first()
    if row is None:
        raise Http404
    return row


@login_required
def aftermath_page(request: HttpRequest, pk: int) -> HttpResponse:
    record = scoped_object(
        request,
        SamplingRecord.objects.select_related(
            "case", "organization", "producer", "institution", "batch", "pool_object"
        ),
        pk,
    )
    return render(request, "sampling/aftermath.html", {"record": record, "events": case_timeline(record.case)})


@login_required
@require_POST
def record_notify(request: HttpRequest, pk: int) -> HttpResponse:
    return _run(
        request, pk, lambda: services.record_notify(actor=request.user, record=pk), _("The result was notified.")
    )


@login_required
@require_POST
def record_finalize(request: HttpRequest, pk: int) -> HttpResponse:
    return _run(
        request, pk, lambda: services.record_finalize(actor=request.user, record=pk), _("The conclusion is final.")
    )


@login_required
@require_POST
def objection_submit(request: HttpRequest, pk: int) -> HttpResponse:
    return _run(
        request,
        pk,
        lambda: services.objection_submit(
            actor=request.user,
            record=pk,
            reason=request.POST.get("reason", ""),
            disputed_items=request.POST.getlist("disputed_items"),
        ),
        _("The objection was submitted."),
    )


@login_required
@require_POST
def objection_accept(request: HttpRequest, pk: int) -> HttpResponse:
    return _run(
        request,
        _record_of(Objection, pk),
        lambda: services.objection_accept(
            actor=request.user, objection=pk, institution=request.POST.get("institution")
        ),
        _("The objection was accepted and the re-test ordered."),
    )


@login_required
@require_POST
def objection_reject(request: HttpRequest, pk: int) -> HttpResponse:
    return _run(
        request,
        _record_of(Objection, pk),
        lambda: services.objection_reject(actor=request.user, objection=pk, reason=request.POST.get("reason", "")),
        _("The objection was not accepted; the first conclusion is final."),
    )


@login_required
@require_POST
def objection_retest(request: HttpRequest, pk: int) -> HttpResponse:
    post = request.POST
    rows = [
        {
            "test_item": item,
            "measured": post.get(f"measured_{item}", ""),
            "value": post.get(f"value_{item}", ""),
            "conclusion": post.get(f"conclusion_{item}", ""),
            "note": post.get(f"note_{item}", ""),
        }
        for item in post.getlist("test_item")
    ]
    return _run(
        request,
        _record_of(Objection, pk),
        lambda: services.objection_retest(actor=request.user, objection=pk, rows=rows),
        _("The re-test results were recorded; the conclusion is final."),
    )


@login_required
@require_POST
def disposal_correction(request: HttpRequest, pk: int) -> HttpResponse:
    return _run(
        request,
        _record_of(Disposal, pk),
        lambda: services.disposal_report_correction(
            actor=request.user, disposal=pk, report=request.POST.get("report", "")
        ),
        _("The correction was reported."),
    )


@login_required
@require_POST
def disposal_recheck(request: HttpRequest, pk: int) -> HttpResponse:
    post = request.POST
    return _run(
        request,
        _record_of(Disposal, pk),
        lambda: services.disposal_recheck(
            actor=request.user,
            disposal=pk,
            passed=post.get("passed") == "1",
            note=post.get("note", ""),
            announcement=post.get("announcement", ""),
        ),
        _("The re-check was recorded."),
    )


@login_required
@require_POST
def disposal_second_recheck(request: HttpRequest, pk: int) -> HttpResponse:
    post = request.POST
    return _run(
        request,
        _record_of(Disposal, pk),
        lambda: services.disposal_second_recheck(
            actor=request.user, disposal=pk, passed=post.get("passed") == "1", note=post.get("note", "")
        ),
        _("The second re-check was recorded."),
    )


def deadline_search(user):
    """The running deadlines of the sampling records a regulator may see, overdue first."""
    return (
        CaseDeadline.objects.filter(
            state=CaseDeadline.State.OPEN,
            case__kind="sampling_record",
            case__sampling_record__in=SamplingRecord.objects.for_user(user, "view").values("pk"),
        )
        .select_related(
            "case",
            "case__sampling_record__organization",
            "case__sampling_record__batch__organizer",
            "case__sampling_record__pool_object",
        )
        .order_by("due_at", "pk")
    )


@login_required
def deadline_list(request: HttpRequest) -> HttpResponse:
    if not get_actor(request.user).is_regulator:
        raise PermissionDenied
    page = searched_page(request, deadline_search(request.user), per_page=PAGE_SIZE)
    return render(request, "sampling/aftermath_deadlines.html", {"page": page, "now": timezone.now()})


urlpatterns = [
    path("records/<int:pk>/aftermath/", aftermath_page, name="aftermath"),
    path("records/<int:pk>/notify/", record_notify, name="record_notify"),
    path("records/<int:pk>/finalize/", record_finalize, name="record_finalize"),
    path("records/<int:pk>/objection/", objection_submit, name="objection_submit"),
    path("objections/<int:pk>/accept/", objection_accept, name="objection_accept"),
    path("objections/<int:pk>/reject/", objection_reject, name="objection_reject"),
    path("objections/<int:pk>/retest/", objection_retest, name="objection_retest"),
    path("disposals/<int:pk>/correction/", disposal_correction, name="disposal_correction"),
    path("disposals/<int:pk>/recheck/", disposal_recheck, name="disposal_recheck"),
    path("disposals/<int:pk>/second-recheck/", disposal_second_recheck, name="disposal_second_recheck"),
    path("deadlines/", deadline_list, name="deadlines"),
]
