"""Pages of annual sampling plans: the list, filing a plan, its page with the case's timeline,
and the level above's return or approval. Every write goes through ``services.plans``."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from nqihub.cases.selectors import timeline as case_timeline
from nqihub.core.access import get_actor
from nqihub.core.errors import ServiceError
from nqihub.core.views_base import scoped_object, scoped_page

from ..models import AnnualPlan, Batch
from ..services import plans as services

PAGE_SIZE = 50


def _values(request: HttpRequest) -> dict:
    return {key: request.POST.get(key, "") for key in ("year", "title", "summary")}


def _can_file(user) -> bool:
    actor = get_actor(user)
    return actor.is_regulator and actor.can_work


@login_required
def plan_list(request: HttpRequest) -> HttpResponse:
    page = scoped_page(
        request,
        AnnualPlan.objects.select_related("case", "regulator", "division").order_by("-year", "division", "pk"),
        per_page=PAGE_SIZE,
    )
    return render(request, "sampling/plan_list.html", {"page": page, "can_file": _can_file(request.user)})


@login_required
def plan_create(request: HttpRequest) -> HttpResponse:
    if not _can_file(request.user):
        raise Http404
    values, status, error = {"year": "", "title": "", "summary": ""}, 200, None
    if request.method == "POST":
        values = _values(request)
        try:
            plan = services.plan_submit(actor=request.user, data=values)
        except ServiceError as exc:
            error, status = exc, 400
        else:
            messages.success(request, _("Plan %(number)s was filed.") % {"number": plan.case.number})
            return redirect("sampling:plan_detail", pk=plan.pk)
    return render(request, "sampling/plan_form.html", {"values": values, "error": error}, status=status)


@login_required
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = scoped_object(
        request, AnnualPlan.objects.select_related("case__handling_organization", "regulator", "division"), pk
    )
    user = request.user
    state = plan.case.state
    batches = Batch.objects.for_user(user, "view").filter(plan=plan).select_related("item", "division")
    return render(
        request,
        "sampling/plan_detail.html",
        {
            "plan": plan,
            "events": case_timeline(plan.case),
            "batches": batches,
            "can_review": state == "submitted" and services.may_review(user, plan),
            "can_resubmit": state == "returned" and services.may_change(user, plan),
            "can_add_batch": state == "approved" and services.may_change(user, plan),
        },
    )


def _act(request: HttpRequest, pk: int, run, done: str) -> HttpResponse:
    try:
        plan = run()
    except ServiceError as exc:
        if exc.status_code == 404 and exc.field is None:
            raise Http404 from exc
        messages.error(request, exc.message)
    else:
        messages.success(request, done % {"number": plan.case.number})
    return redirect("sampling:plan_detail", pk=pk)


@login_required
@require_POST
def plan_approve(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda: services.plan_approve(actor=request.user, plan=pk, note=request.POST.get("note", "")),
        _("Plan %(number)s was approved."),
    )


@login_required
@require_POST
def plan_return(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda: services.plan_return(actor=request.user, plan=pk, reason=request.POST.get("reason", "")),
        _("Plan %(number)s was returned for correction."),
    )


@login_required
@require_POST
def plan_resubmit(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda: services.plan_resubmit(actor=request.user, plan=pk, data=_values(request)),
        _("Plan %(number)s was corrected and filed again."),
    )


urlpatterns = [
    path("plans/", plan_list, name="plan_list"),
    path("plans/new/", plan_create, name="plan_create"),
    path("plans/<int:pk>/", plan_detail, name="plan_detail"),
    path("plans/<int:pk>/approve/", plan_approve, name="plan_approve"),
    path("plans/<int:pk>/return/", plan_return, name="plan_return"),
    path("plans/<int:pk>/resubmit/", plan_resubmit, name="plan_resubmit"),
]
