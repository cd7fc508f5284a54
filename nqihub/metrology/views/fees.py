"""Fee pages: tariffs and waiver policies (read by regulators and the system administrator,
edited by the system administrator through ``services.fees``), and the waiver statistics of a
regulator's jurisdiction (page and Excel export)."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from nqihub.core.access import Capability, get_actor, has_capability
from nqihub.core.views_base import form_page

from ..charts import bar_chart
from ..models import IssuedDocument, Tariff, WaiverPolicy
from ..selectors_stats import BadParameter, waiver_stats
from ..services import fees as services
from .lists import statistics_export, statistics_page


def _may_read_fees(user) -> bool:
    return Tariff.objects.scope_filter(user, "view") is not None


def _require_reader(request: HttpRequest) -> None:
    if not _may_read_fees(request.user):
        raise Http404


def _require_editor(request: HttpRequest) -> None:
    if not has_capability(request.user, Capability.MANAGE_CONFIGURATION):
        raise PermissionDenied


class TariffForm(forms.Form):
    catalogue_item = forms.CharField(label=gettext_lazy("Catalogue item code"), max_length=16)
    division = forms.CharField(
        label=gettext_lazy("Division code"),
        max_length=6,
        required=False,
        help_text=gettext_lazy("Empty: the whole platform; otherwise this division and below."),
    )
    price = forms.DecimalField(label=gettext_lazy("Price (yuan)"), max_digits=10, decimal_places=2)
    valid_from = forms.DateField(label=gettext_lazy("Valid from"), widget=forms.DateInput(attrs={"type": "date"}))
    valid_until = forms.DateField(
        label=gettext_lazy("Valid until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    source = forms.CharField(label=gettext_lazy("Source"), max_length=300)

    def __init__(self, *args, instance: Tariff | None = None, **kwargs):
        if instance is not None and not args:
            kwargs.setdefault(
                "initial",
                {
                    "catalogue_item": instance.catalogue_item.code,
                    "division": instance.division_id or "",
                    "price": instance.price,
                    "valid_from": instance.valid_from,
                    "valid_until": instance.valid_until,
                    "source": instance.source,
                },
            )
        super().__init__(*args, **kwargs)


class WaiverPolicyForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    basis = forms.ChoiceField(label=gettext_lazy("Basis"), choices=WaiverPolicy.Basis.choices)
    catalogue_item = forms.CharField(
        label=gettext_lazy("Catalogue item code"),
        max_length=16,
        required=False,
        help_text=gettext_lazy("Only for a waiver by catalogue item."),
    )
    credit_code_prefix = forms.CharField(
        label=gettext_lazy("Credit code prefix"),
        max_length=2,
        required=False,
        help_text=gettext_lazy("Only for a waiver by kind of user: the credit code's first two characters, e.g. 92."),
    )
    division = forms.CharField(
        label=gettext_lazy("Division code"),
        max_length=6,
        required=False,
        help_text=gettext_lazy("Empty: the whole platform; otherwise this division and below."),
    )
    percentage = forms.IntegerField(label=gettext_lazy("Waived (%)"), min_value=1, max_value=100)
    valid_from = forms.DateField(label=gettext_lazy("Valid from"), widget=forms.DateInput(attrs={"type": "date"}))
    valid_until = forms.DateField(
        label=gettext_lazy("Valid until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)
    source = forms.CharField(label=gettext_lazy("Source"), max_length=300)

    def __init__(self, *args, instance: WaiverPolicy | None = None, **kwargs):
        if instance is not None and not args:
            kwargs.setdefault(
                "initial",
                {
                    "name": instance.name,
                    "basis": instance.basis,
                    "catalogue_item": instance.catalogue_item.code if instance.catalogue_item else "",
                    "credit_code_prefix": instance.credit_code_prefix,
                    "division": instance.division_id or "",
                    "percentage": instance.percentage,
                    "valid_from": instance.valid_from,
                    "valid_until": instance.valid_until,
                    "is_active": instance.is_active,
                    "source": instance.source,
                },
            )
        super().__init__(*args, **kwargs)


# --------------------------------------------------------------------------- tariffs


@login_required
def tariff_list(request: HttpRequest) -> HttpResponse:
    _require_reader(request)
    qs = Tariff.objects.for_user(request.user, "view").select_related("catalogue_item", "division").order_by("catalogue_item__code", "-valid_from")
    page = Paginator(qs, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "metrology/tariff_list.html",
        {"page": page, "can_edit": has_capability(request.user, Capability.MANAGE_CONFIGURATION)},
    )


@login_required
def tariff_create(request: HttpRequest) -> HttpResponse:
    _require_editor(request)
    return form_page(
        request,
        TariffForm(request.POST or None),
        template="metrology/tariff_form.html",
        context={"object": None},
        save=lambda data: services.tariff_create(actor=request.user, data=data),
        done=_("The tariff was added."),
        then="metrology:tariff_list",
    )


@login_required
def tariff_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _require_editor(request)
    tariff = get_object_or_404(Tariff.objects.for_user(request.user, "change").select_related("catalogue_item"), pk=pk)
    return form_page(
        request,
        TariffForm(request.POST or None, instance=tariff),
        template="metrology/tariff_form.html",
        context={"object": tariff},
        save=lambda data: services.tariff_update(actor=request.user, tariff=tariff, data=data),
        done=_("Saved."),
        then="metrology:tariff_list",
    )


# --------------------------------------------------------------------------- waiver policies


@login_required
def waiver_list(request: HttpRequest) -> HttpResponse:
    _require_reader(request)
    qs = WaiverPolicy.objects.for_user(request.user, "view").select_related("catalogue_item", "division").order_by("-is_active", "-valid_from", "pk")
    page = Paginator(qs, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "metrology/waiver_list.html",
        {"page": page, "can_edit": has_capability(request.user, Capability.MANAGE_CONFIGURATION)},
    )


@login_required
def waiver_create(request: HttpRequest) -> HttpResponse:
    _require_editor(request)
    return form_page(
        request,
        WaiverPolicyForm(request.POST or None),
        template="metrology/waiver_form.html",
        context={"object": None},
        save=lambda data: services.waiver_policy_create(actor=request.user, data=data),
        done=_("The waiver policy was added."),
        then="metrology:waiver_list",
    )


@login_required
def waiver_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _require_editor(request)
    policy = get_object_or_404(WaiverPolicy.objects.for_user(request.user, "change").select_related("catalogue_item"), pk=pk)
    return form_page(
        request,
        WaiverPolicyForm(request.POST or None, instance=policy),
        template="metrology/waiver_form.html",
        context={"object": policy},
        save=lambda data: services.waiver_policy_update(actor=request.user, policy=policy, data=data),
        done=_("Saved."),
        then="metrology:waiver_list",
    )


# --------------------------------------------------------------------------- waiver statistics


def waiver_stats_headers() -> list[str]:
    return [
        _("Division code"),
        _("Region"),
        _("Verifications"),
        _("Documents with a waiver"),
        _("Verified free of charge"),
        _("Fees (yuan)"),
        _("Waived (yuan)"),
    ]


def waiver_stats_rows(stats) -> list[list]:
    rows = [
        [r.code, r.name, r.documents, r.waived_documents, r.free_documents, r.fee_total, r.waived_total]
        for r in stats.rows
    ]
    t = stats.total
    rows.append([t.code, t.name, t.documents, t.waived_documents, t.free_documents, t.fee_total, t.waived_total])
    return rows


def _count(stats) -> int:
    return stats.total.documents


def _waiver_stats_or_404(request):
    if not get_actor(request.user).is_regulator:
        raise Http404
    try:
        return waiver_stats(request.user, params=request.GET), None
    except BadParameter as exc:
        return None, exc


@login_required
def fees_waiver_stats(request: HttpRequest) -> HttpResponse:
    stats, error = statistics_page(request, _waiver_stats_or_404, model=IssuedDocument, count_of=_count)
    if stats is None and error is None:  # pragma: no cover - regulators always have a jurisdiction
        raise Http404
    chart = None
    if stats is not None:
        chart = bar_chart(
            title=_("Waived amount by region (yuan)"),
            bars=[(r.name, r.waived_total) for r in stats.rows],
            chart_id="waived-by-region",
        )
    query = request.GET.urlencode()
    return render(
        request,
        "metrology/fees_waiver_stats.html",
        {"stats": stats, "error": error, "chart": chart, "query": query, "params": request.GET},
    )


@login_required
def fees_waiver_stats_export(request: HttpRequest) -> HttpResponse:
    return statistics_export(
        request,
        _waiver_stats_or_404,
        model=IssuedDocument,
        count_of=_count,
        back="metrology:fees_waiver_stats",
        stem=_("waivers"),
        title=_("Fee waivers"),
        headers=waiver_stats_headers,
        rows=waiver_stats_rows,
    )


urlpatterns = [
    path("tariffs/", tariff_list, name="tariff_list"),
    path("tariffs/new/", tariff_create, name="tariff_create"),
    path("tariffs/<int:pk>/edit/", tariff_edit, name="tariff_edit"),
    path("waivers/", waiver_list, name="waiver_list"),
    path("waivers/new/", waiver_create, name="waiver_create"),
    path("waivers/<int:pk>/edit/", waiver_edit, name="waiver_edit"),
    path("statistics/waivers/", fees_waiver_stats, name="fees_waiver_stats"),
    path("statistics/waivers/export/", fees_waiver_stats_export, name="fees_waiver_stats_export"),
]
