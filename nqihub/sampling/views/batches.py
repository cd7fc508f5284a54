"""Pages of sampling batches: the list, creating a batch under an approved plan (with the figures
of the ratio for each item), and a batch's page with its draws, the drawn objects by stratum,
the inspectors with every recusal, and how to re-run each draw. Writes go through
``services.batches`` and ``services.draws``."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _

from nqihub.core.errors import ServiceError
from nqihub.core.views_base import scoped_object, scoped_page
from nqihub.divisions.models import AdminDivision

from ..models import AnnualPlan, Assignment, Batch, Draw, InspectionItem
from ..services import batches as services
from ..services import draws as draw_services
from ..services.pools import qualified_institutions

PAGE_SIZE = 50
FIELDS = (
    "kind",
    "title",
    "item",
    "division",
    "object_count",
    "inspectors_per_object",
    "follow_up_of",
    "reason",
    "starts_on",
    "ends_on",
)


@login_required
def batch_list(request: HttpRequest) -> HttpResponse:
    page = scoped_page(
        request,
        Batch.objects.select_related("plan", "item", "organizer", "division").order_by("-starts_on", "-pk"),
        per_page=PAGE_SIZE,
    )
    return render(request, "sampling/batch_list.html", {"page": page})


def _items_for(plan: AnnualPlan):
    codes = [code for code in plan.division.path.split("/") if code]
    return InspectionItem.objects.filter(is_active=True, division_id__in=codes).select_related("category")


@login_required
def batch_create(request: HttpRequest, plan_pk: int) -> HttpResponse:
    plan = scoped_object(request, AnnualPlan.objects.select_related("case", "division", "regulator"), plan_pk)
    if not AnnualPlan.objects.for_user(request.user, "change").filter(pk=plan.pk).exists():
        raise Http404
    values: dict = {"kind": "random", "division": plan.division_id, "risk_weighted": True}
    chosen: set[str] = set()
    status, error = 200, None
    if request.method == "POST":
        values = {key: request.POST.get(key, "") for key in FIELDS}
        values["risk_weighted"] = request.POST.get("risk_weighted") == "on"
        chosen = set(request.POST.getlist("institutions"))
        try:
            batch = services.batch_create(
                actor=request.user, plan=plan.pk, data={**values, "institutions": sorted(chosen)}
            )
        except ServiceError as exc:
            if exc.status_code == 404 and exc.field is None:
                raise Http404 from exc
            error, status = exc, 400
        else:
            messages.success(request, _("Batch %(number)s was created.") % {"number": batch.number})
            return redirect("sampling:batch_detail", pk=batch.pk)
    items = list(_items_for(plan))
    figures = [
        (item, services.batch_figures(kind=Batch.Kind.RANDOM, item=item, division=plan.division)) for item in items
    ]
    institutions: dict = {}
    for item in items:
        for institution in qualified_institutions(item.category):
            institutions.setdefault(institution, set()).add(str(item.category))
    areas = AdminDivision.objects.filter(path__startswith=plan.division.path, is_current=True).order_by("code")
    earlier = Batch.objects.for_user(request.user, "manage").exclude(state=Batch.State.DRAFT).order_by("-pk")[:200]
    return render(
        request,
        "sampling/batch_form.html",
        {
            "plan": plan,
            "values": values,
            "error": error,
            "figures": figures,
            "institutions": [(i, sorted(c), str(i.pk) in chosen) for i, c in institutions.items()],
            "areas": areas,
            "earlier": earlier,
            "kinds": Batch.Kind.choices,
        },
        status=status,
    )


@login_required
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = scoped_object(
        request,
        Batch.objects.select_related("plan__case", "item__category", "rules", "organizer", "division", "follow_up_of"),
        pk,
    )
    user = request.user
    may_manage = Batch.objects.for_user(user, "manage").filter(pk=batch.pk).exists()
    may_see_draws = Draw.objects.for_user(user, "view").filter(batch=batch).exists() or may_manage
    draws = []
    if may_see_draws:
        assignments = Assignment.objects.select_related("inspector", "replaces__inspector").order_by("rank")
        for drawn in Draw.objects.for_user(user, "view").filter(batch=batch).order_by("-seq", "-purpose"):
            rows = []
            if drawn.purpose == Draw.Purpose.OBJECTS:
                rows = list(
                    drawn.selections.all()
                    .select_related("pool_object__organization", "pool_object__division")
                    .order_by("stratum", "rank")
                    .prefetch_related(Prefetch("assignments", queryset=assignments))
                )
            draws.append(
                {
                    "draw": drawn,
                    "selections": rows,
                    "command": draw_services.verifier_command(drawn),
                    "examined": sum(drawn.quotas.values()) if drawn.purpose == Draw.Purpose.OBJECTS else None,
                }
            )
    latest = draw_services.latest_draw(batch)
    return render(
        request,
        "sampling/batch_detail.html",
        {
            "batch": batch,
            "institutions": batch.testing.select_related("institution").order_by("institution_id"),
            "draws": draws,
            "latest": latest,
            "may_draw": may_manage and batch.state in (Batch.State.DRAFT, Batch.State.DRAWN),
            "may_confirm": may_manage and batch.state == Batch.State.DRAWN,
        },
    )


urlpatterns = [
    path("batches/", batch_list, name="batch_list"),
    path("plans/<int:plan_pk>/batches/new/", batch_create, name="batch_create"),
    path("batches/<int:pk>/", batch_detail, name="batch_detail"),
]
