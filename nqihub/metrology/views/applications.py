"""Pages of online verification applications (在线报检).

Enterprises apply in two steps (choose instruments — due, overdue or never verified — then an
institution among those offered for them, computed on the server, with the mode and details)
and follow their applications' timelines and documents. Institutions work from an inbox
(awaiting acceptance first, the deadline shown and overdue ones marked), accept, reject,
schedule and record each instrument's result with its three signers. Regulators read the
applications in their jurisdiction (recorded). All writes go through the services.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from nqihub.cases.selectors import timeline as case_timeline
from nqihub.core.access import OrganizationKind, get_actor
from nqihub.core.errors import ServiceError
from nqihub.core.views_base import scoped_object, searched_page

from ..models import ApplicationItem, IssuedDocument, VerificationApplication, VerificationResult
from ..services import applications as services
from ..services import reminders
from ..services import results as result_services
from .lists import state_search

PAGE_SIZE = 50
INSTRUMENT_FILTERS = ("due", "overdue", "new")


def _can_apply(user) -> bool:
    actor = get_actor(user)
    return actor.kind == OrganizationKind.ENTERPRISE and actor.can_work


def _date(value) -> date | None:
    try:
        return parse_date(value or "")
    except ValueError:
        return None


def _fail(request: HttpRequest, exc: ServiceError) -> None:
    if exc.status_code == 404 and exc.field is None:
        raise Http404 from exc
    messages.error(request, exc.message)


# --- Applying (enterprise) --------------------------------------------------------------------


def _candidates(request: HttpRequest, which: str):
    qs = services.applicable_instruments(request.user).select_related("catalogue_item")
    today = timezone.localdate()
    if which == "due":
        # "Due" as the due list's amber: from the first reminder stage of the policy on.
        qs = qs.filter(next_due_on__gte=today, next_due_on__lte=today + timedelta(days=reminders.amber_days()))
    elif which == "overdue":
        qs = qs.filter(next_due_on__lt=today)
    elif which == "new":
        qs = qs.filter(last_verified_on__isnull=True)
    return qs.order_by("next_due_on", "name", "pk")


@login_required
def application_create(request: HttpRequest) -> HttpResponse:
    """Step 1 (GET, or POST ``step=choose``): tick instruments. Step 2 (``step=details``):
    the institutions offered for them, the mode and the details; submitting applies."""
    if not _can_apply(request.user):
        raise Http404
    which = request.GET.get("show", "")
    which = which if which in INSTRUMENT_FILTERS else ""
    step = request.POST.get("step", "") if request.method == "POST" else ""
    ids = [i for i in request.POST.getlist("instruments") if i.isdigit()]
    status = 200
    if step in ("choose", "submit") and not ids:
        messages.error(request, _("Choose at least one instrument."))
        status = 400
    elif step in ("choose", "submit"):
        chosen = list(services.applicable_instruments(request.user).filter(pk__in=ids).select_related("catalogue_item"))
        offered = []
        if chosen and len(chosen) == len(set(ids)):
            offered = list(
                services.institutions_offering(
                    organization=get_actor(request.user).organization,
                    catalogue_items={i.catalogue_item for i in chosen},
                )
            )
        if step == "submit":
            try:
                application = services.application_submit(
                    actor=request.user,
                    instrument_ids=ids,
                    institution_id=request.POST.get("institution"),
                    mode=request.POST.get("mode", ""),
                    site_address=request.POST.get("site_address", ""),
                    wished_from=_date(request.POST.get("wished_from")),
                    wished_until=_date(request.POST.get("wished_until")),
                    contact_name=request.POST.get("contact_name", ""),
                    contact_phone=request.POST.get("contact_phone", ""),
                    note=request.POST.get("note", ""),
                )
            except ServiceError as exc:
                messages.error(request, exc.message)
                status = 400
            else:
                messages.success(
                    request,
                    _("Application %(number)s was sent to %(institution)s; it is to be accepted by %(deadline)s.")
                    % {
                        "number": application.number,
                        "institution": application.institution.name,
                        "deadline": timezone.localtime(application.accept_by).strftime("%Y-%m-%d %H:%M"),
                    },
                )
                return redirect("metrology:application_detail", pk=application.pk)
        if offered:
            return render(
                request,
                "metrology/application_form.html",
                {
                    "step": 2,
                    "chosen": chosen,
                    "offered": offered,
                    "modes": VerificationApplication.Mode.choices,
                    "values": request.POST,
                },
                status=status,
            )
        if status == 200:
            messages.error(
                request,
                _(
                    "No institution is authorised to verify all of the chosen instruments where your enterprise is;"
                    " choose fewer or other instruments."
                ),
            )
            status = 400
    candidates = _candidates(request, which)
    return render(
        request,
        "metrology/application_form.html",
        {
            "step": 1,
            "show": which,
            "candidates": candidates[: services.MAX_INSTRUMENTS_PER_APPLICATION],
            "total": candidates.count(),
            "limit": services.MAX_INSTRUMENTS_PER_APPLICATION,
            "checked": {int(i) for i in ids},
            "due_days": reminders.amber_days(),
            "today": timezone.localdate(),
        },
        status=status,
    )


@login_required
@require_POST
def application_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        application = services.application_withdraw(actor=request.user, application=pk)
    except ServiceError as exc:
        _fail(request, exc)
    else:
        messages.success(request, _("Application %(number)s was withdrawn.") % {"number": application.number})
    return redirect("metrology:application_detail", pk=pk)


# --- Lists and detail ---------------------------------------------------------------------------


@login_required
def application_list(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request.user)
    qs = (
        VerificationApplication.objects.for_user(request.user, "view")
        .select_related("organization", "institution", "division")
        .annotate(item_count=Count("items"))
    )
    qs, state, q = state_search(
        request,
        qs,
        VerificationApplication.State,
        lambda q: Q(number__iexact=q) | Q(organization__name__icontains=q) | Q(institution__name__icontains=q),
    )
    is_institution = actor.kind == OrganizationKind.INSTITUTION
    qs = qs.inbox_order() if is_institution else qs.order_by("-submitted_at", "-pk")
    page = searched_page(request, qs, per_page=PAGE_SIZE)
    now = timezone.now()
    rows = [(a, services.is_overdue(a, now)) for a in page.object_list]
    return render(
        request,
        "metrology/application_list.html",
        {
            "page": page,
            "rows": rows,
            "state": state,
            "q": q,
            "states": VerificationApplication.State.choices,
            "is_institution": is_institution,
            "is_regulator": actor.is_regulator,
            "can_apply": _can_apply(request.user),
        },
    )


@login_required
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    application = scoped_object(
        request,
        VerificationApplication.objects.select_related(
            "organization", "institution", "division__parent", "submitted_by", "decided_by", "case"
        ),
        pk,
    )
    items = list(
        ApplicationItem.objects.filter(application=application)
        .select_related(
            "instrument", "catalogue_item", "waiver_policy", "result__verifier", "result__checker", "result__approver"
        )
        .prefetch_related(Prefetch("result__documents", queryset=IssuedDocument.objects.order_by("-issued_at", "-pk")))
        .order_by("pk")
    )
    for item in items:
        try:
            item.recorded = item.result
        except VerificationResult.DoesNotExist:
            item.recorded = None
    events = case_timeline(application.case)
    State = VerificationApplication.State
    may_decide = VerificationApplication.objects.for_user(user, "decide").filter(pk=pk).exists()
    can_record = may_decide and application.state in (State.ACCEPTED, State.SCHEDULED)
    return render(
        request,
        "metrology/application_detail.html",
        {
            "application": application,
            "items": items,
            "events": events,
            "overdue": services.is_overdue(application),
            "can_decide": may_decide and application.state == State.SUBMITTED,
            "can_schedule": can_record,
            "can_record": can_record,
            "can_withdraw": application.state == State.SUBMITTED
            and VerificationApplication.objects.for_user(user, "withdraw").filter(pk=pk).exists(),
            "signers": list(result_services.institution_signers(application.institution)) if can_record else [],
            "outcomes": VerificationResult.Outcome.choices,
            "today": timezone.localdate(),
        },
    )


# --- Institution ------------------------------------------------------------------------------------


@login_required
@require_POST
def application_accept(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        application = services.application_accept(actor=request.user, application=pk)
    except ServiceError as exc:
        _fail(request, exc)
    else:
        messages.success(request, _("Application %(number)s was accepted.") % {"number": application.number})
    return redirect("metrology:application_detail", pk=pk)


@login_required
@require_POST
def application_reject(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        application = services.application_reject(
            actor=request.user, application=pk, reason=request.POST.get("reason", "")
        )
    except ServiceError as exc:
        _fail(request, exc)
    else:
        messages.success(request, _("Application %(number)s was rejected.") % {"number": application.number})
    return redirect("metrology:application_detail", pk=pk)


@login_required
@require_POST
def application_schedule(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        application = services.application_schedule(
            actor=request.user,
            application=pk,
            on_date=_date(request.POST.get("on_date")),
            note=request.POST.get("note", ""),
        )
    except ServiceError as exc:
        _fail(request, exc)
    else:
        messages.success(
            request,
            _("Application %(number)s is scheduled for %(date)s.")
            % {"number": application.number, "date": application.scheduled_on.isoformat()},
        )
    return redirect("metrology:application_detail", pk=pk)


@login_required
@require_POST
def result_create(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    if not VerificationApplication.objects.for_user(request.user, "view").filter(pk=pk, items__pk=item_pk).exists():
        raise Http404
    post = request.POST
    try:
        result_services.result_record(
            actor=request.user,
            item=item_pk,
            outcome=post.get("outcome", ""),
            verified_on=_date(post.get("verified_on")),
            readings=post.get("readings", ""),
            remarks=post.get("remarks", ""),
            failure_reasons=post.get("failure_reasons", ""),
            verifier_id=post.get("verifier"),
            checker_id=post.get("checker"),
            approver_id=post.get("approver"),
        )
    except ServiceError as exc:
        _fail(request, exc)
    else:
        messages.success(request, _("The result was recorded and its document issued."))
    return redirect("metrology:application_detail", pk=pk)


urlpatterns = [
    path("applications/", application_list, name="application_list"),
    path("applications/new/", application_create, name="application_create"),
    path("applications/<int:pk>/", application_detail, name="application_detail"),
    path("applications/<int:pk>/withdraw/", application_withdraw, name="application_withdraw"),
    path("applications/<int:pk>/accept/", application_accept, name="application_accept"),
    path("applications/<int:pk>/reject/", application_reject, name="application_reject"),
    path("applications/<int:pk>/schedule/", application_schedule, name="application_schedule"),
    path("applications/<int:pk>/items/<int:item_pk>/result/", result_create, name="application_result"),
]
