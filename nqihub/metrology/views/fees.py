"""Fee pages: tariffs and waiver policies (read by regulators and the system administrator,
edited by the system administrator through ``services.fees``), and the waiver statistics of a
regulator's jurisdiction (page and Excel export)."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from nqihub.core.access import Capability, has_capability
from nqihub.core.views_base import form_page, scoped_page

from ..charts import bar_chart
from ..models import IssuedDocument, Tariff, WaiverPolicy
from ..selectors_stats import waiver_stats
from ..services import fees as services
from .lists import Statistics


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


# --------------------------------------------------------------------------- tariffs and waiver policies


def _configuration_pages(*, model, form_class, name: str, order: tuple, created: str, create, update):
    """The list, create and edit pages of one kind of fee configuration: read by regulators
    and the system administrator (not recorded: configuration, not enterprise data), written
    by the system administrator through ``create(actor, data)`` and ``update(actor, obj,
    data)``."""
    template, back = f"metrology/{name}_form.html", f"metrology:{name}_list"

    @login_required
    def list_page(request: HttpRequest) -> HttpResponse:
        _require_reader(request)
        queryset = model.objects.select_related("catalogue_item", "division").order_by(*order)
        return render(
            request,
            f"metrology/{name}_list.html",
            {
                "page": scoped_page(request, queryset, per_page=100, record=False),
                "can_edit": has_capability(request.user, Capability.MANAGE_CONFIGURATION),
            },
        )

    @login_required
    def create_page(request: HttpRequest) -> HttpResponse:
        _require_editor(request)
        return form_page(
            request,
            form_class(request.POST or None),
            template=template,
            context={"object": None},
            save=lambda data: create(request.user, data),
            done=str(created),
            then=back,
        )

    @login_required
    def edit_page(request: HttpRequest, pk: int) -> HttpResponse:
        _require_editor(request)
        obj = get_object_or_404(model.objects.for_user(request.user, "change").select_related("catalogue_item"), pk=pk)
        return form_page(
            request,
            form_class(request.POST or None, instance=obj),
            template=template,
            context={"object": obj},
            save=lambda data: update(request.user, obj, data),
            done=_("Saved."),
            then=back,
        )

    return list_page, create_page, edit_page


tariff_list, tariff_create, tariff_edit = _configuration_pages(
    model=Tariff,
    form_class=TariffForm,
    name="tariff",
    order=("catalogue_item__code", "-valid_from"),
    created=gettext_lazy("The tariff was added."),
    create=lambda actor, data: services.tariff_create(actor=actor, data=data),
    update=lambda actor, tariff, data: services.tariff_update(actor=actor, tariff=tariff, data=data),
)
waiver_list, waiver_create, waiver_edit = _configuration_pages(
    model=WaiverPolicy,
    form_class=WaiverPolicyForm,
    name="waiver",
    order=("-is_active", "-valid_from", "pk"),
    created=gettext_lazy("The waiver policy was added."),
    create=lambda actor, data: services.waiver_policy_create(actor=actor, data=data),
    update=lambda actor, policy, data: services.waiver_policy_update(actor=actor, policy=policy, data=data),
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


WAIVERS = Statistics(
    selector=waiver_stats,
    model=IssuedDocument,
    count_of=lambda stats: stats.total.documents,
    page="metrology:fees_waiver_stats",
    stem=gettext_lazy("waivers"),
    title=gettext_lazy("Fee waivers"),
    headers=waiver_stats_headers,
    rows=waiver_stats_rows,
)


@login_required
def fees_waiver_stats(request: HttpRequest) -> HttpResponse:
    stats, error = WAIVERS.shown(request)
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
    return WAIVERS.export(request)


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
