"""Closing batches and publishing their results (the organiser's pages): the list of batches
under sampling, closed and published, the overdue publications first; the close and publish
buttons post here (and come back to the page they were pressed on)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Case, IntegerField, Q, Value, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from nqihub.core.access import get_actor
from nqihub.core.errors import ServiceError
from nqihub.core.views_base import scoped_page

from ..models import Batch
from ..services.disclosure import batch_close, batch_disclose

PAGE_SIZE = 50


def _back(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("sampling:disclosure_list")


@login_required
def disclosure_list(request: HttpRequest) -> HttpResponse:
    if not get_actor(request.user).is_regulator:
        raise Http404
    today = timezone.localdate()
    batches = (
        Batch.objects.filter(state__in=[Batch.State.SAMPLING, Batch.State.CLOSED, Batch.State.DISCLOSED])
        .select_related("organizer", "plan")
        .annotate(
            overdue=Case(
                When(Q(state=Batch.State.CLOSED, disclosure_due__lt=today), then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            )
        )
        .order_by("-overdue", "state", "disclosure_due", "-pk")
    )
    state = request.GET.get("state", "")
    if state in (Batch.State.SAMPLING, Batch.State.CLOSED, Batch.State.DISCLOSED):
        batches = batches.filter(state=state)
    page = scoped_page(request, batches, per_page=PAGE_SIZE)
    manageable = set(
        Batch.objects.for_user(request.user, "manage").filter(pk__in=[b.pk for b in page]).values_list("pk", flat=True)
    )
    return render(
        request,
        "sampling/disclosure_list.html",
        {"page": page, "manageable": manageable, "state": state, "states": Batch.State.choices[2:]},
    )


@login_required
@require_POST
def batch_close_view(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        batch = batch_close(actor=request.user, batch=pk)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Batch %(number)s is closed; publish its results by %(due)s.")
            % {"number": batch.number, "due": batch.disclosure_due.isoformat()},
        )
    return _back(request)


@login_required
@require_POST
def batch_disclose_view(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        batch = batch_disclose(actor=request.user, batch=pk)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The results of batch %(number)s are published.") % {"number": batch.number})
    return _back(request)


urlpatterns = [
    path("disclosure/", disclosure_list, name="disclosure_list"),
    path("batches/<int:pk>/close/", batch_close_view, name="batch_close"),
    path("batches/<int:pk>/disclose/", batch_disclose_view, name="batch_disclose"),
]
