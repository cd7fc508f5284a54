"""一单一细则 pages: the landing page of the module, the inspection-item list and each item with
its 实施细则 (published by law: readable without signing in), and the keeping regulator's forms
(an item, a new version of the rules with its test items). Writes go through
``services.items``."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from nqihub.core.access import get_actor
from nqihub.core.errors import ServiceError
from nqihub.core.forms import apply_service_error
from nqihub.core.views_base import form_page

from ..models import InspectionItem, InspectionRules, ProductCategory, TestItem
from ..services import items as services
from ..services.pools import may_import_capabilities, may_keep_pool


class ItemSearch(forms.Form):
    q = forms.CharField(label=gettext_lazy("Search"), required=False, max_length=100)
    category = forms.ModelChoiceField(
        label=gettext_lazy("Product category"), queryset=ProductCategory.objects.none(), required=False
    )
    importance = forms.ChoiceField(
        label=gettext_lazy("Importance"),
        choices=[("", "—"), *InspectionItem.Importance.choices],
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = ProductCategory.objects.filter(is_active=True)


class ItemForm(forms.Form):
    code = forms.CharField(label=gettext_lazy("item code"), max_length=40)
    name = forms.CharField(label=gettext_lazy("item"), max_length=200)
    category = forms.ModelChoiceField(label=gettext_lazy("product category"), queryset=ProductCategory.objects.none())
    legal_basis = forms.CharField(
        label=gettext_lazy("legal basis"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )
    method = forms.ChoiceField(label=gettext_lazy("method"), choices=InspectionItem.Method.choices)
    importance = forms.ChoiceField(label=gettext_lazy("importance"), choices=InspectionItem.Importance.choices)
    ratio_percent = forms.DecimalField(label=gettext_lazy("sampling ratio (%)"), max_digits=5, decimal_places=2)
    frequency_per_year = forms.IntegerField(label=gettext_lazy("times a year"), min_value=1, max_value=365, initial=1)
    is_active = forms.BooleanField(label=gettext_lazy("active"), required=False, initial=True)

    def __init__(self, *args, item: InspectionItem | None = None, **kwargs):
        if item is not None:
            kwargs.setdefault("initial", {f: getattr(item, f) for f in services.ITEM_FIELDS})
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = ProductCategory.objects.filter(is_active=True)
        low, cap = services.ratio_bounds(InspectionItem.Importance.GENERAL)
        self.fields["ratio_percent"].help_text = _(
            "General items: %(min)s–%(max)s %%; key items: at least %(min)s %%, no cap (the rules of the procedure)."
        ) % {"min": low, "max": cap}


class RulesForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("title"), max_length=200)
    effective_from = forms.DateField(
        label=gettext_lazy("effective from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    test_quantity = forms.IntegerField(label=gettext_lazy("units for testing"), min_value=1, max_value=10000)
    spare_quantity = forms.IntegerField(label=gettext_lazy("spare units"), min_value=0, max_value=10000, initial=0)
    sampling_method = forms.CharField(
        label=gettext_lazy("how samples are taken"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    judgement_rule = forms.CharField(
        label=gettext_lazy("judgement rule"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class TestItemForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("test item"), max_length=200, required=False)
    method_standard = forms.CharField(label=gettext_lazy("test method"), max_length=200, required=False)
    requirement = forms.CharField(label=gettext_lazy("requirement"), max_length=300, required=False)
    judgement = forms.ChoiceField(label=gettext_lazy("judged"), choices=TestItem.Judgement.choices)
    lower = forms.DecimalField(label=gettext_lazy("lower limit"), required=False, max_digits=14, decimal_places=4)
    upper = forms.DecimalField(label=gettext_lazy("upper limit"), required=False, max_digits=14, decimal_places=4)
    unit = forms.CharField(label=gettext_lazy("unit"), max_length=30, required=False)
    is_key = forms.BooleanField(label=gettext_lazy("key test item"), required=False)


TestItemFormSet = forms.formset_factory(TestItemForm, extra=2, max_num=100, validate_max=True)


def _items_for(request: HttpRequest):
    """The list as the reader may see it: published, so everyone signed in reads it through
    ``for_user``; without sign-in the items in force (the list is public by law)."""
    base = InspectionItem.objects.select_related("category", "owner")
    if request.user.is_authenticated:
        return base.for_user(request.user, "view")
    return base.filter(is_active=True)


def sampling_home(request: HttpRequest) -> HttpResponse:
    """The module's landing page: the areas the reader may use."""
    actor = get_actor(request.user)
    return render(
        request,
        "sampling/index.html",
        {
            "is_regulator": actor.is_regulator,
            "is_institution": actor.kind == "institution",
            "can_keep": request.user.is_authenticated and may_keep_pool(request.user),
            "can_capabilities": request.user.is_authenticated and may_import_capabilities(request.user),
        },
    )


def item_list(request: HttpRequest) -> HttpResponse:
    search = ItemSearch(request.GET or None)
    items = _items_for(request)
    if search.is_valid():
        data = search.cleaned_data
        if data["q"]:
            items = items.filter(
                Q(name__icontains=data["q"]) | Q(code__icontains=data["q"]) | Q(legal_basis__icontains=data["q"])
            )
        if data["category"]:
            items = items.filter(category=data["category"])
        if data["importance"]:
            items = items.filter(importance=data["importance"])
    page = Paginator(items.order_by("code", "pk"), 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "sampling/items_list.html",
        {
            "search": search,
            "page": page,
            "query": query.urlencode(),
            "can_create": request.user.is_authenticated and services.item_create_allowed(request.user),
        },
    )


def item_detail(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(_items_for(request), pk=pk)
    versions = list(InspectionRules.objects.filter(item=item).prefetch_related("test_items").order_by("-version"))
    current = next((v for v in versions if v.superseded_on is None), None)
    return render(
        request,
        "sampling/items_detail.html",
        {
            "item": item,
            "current": current,
            "earlier": [v for v in versions if v is not current],
            "can_change": request.user.is_authenticated and services.may_change_item(request.user, item),
        },
    )


@login_required
def item_create(request: HttpRequest) -> HttpResponse:
    if not services.item_create_allowed(request.user):
        raise PermissionDenied
    return form_page(
        request,
        ItemForm(request.POST or None),
        template="sampling/items_form.html",
        context={"item": None},
        save=lambda data: services.item_create(actor=request.user, data=data),
        done=lambda item: _("Inspection item %(item)s was added.") % {"item": item},
        then=lambda item: reverse("sampling:item_detail", kwargs={"pk": item.pk}),
    )


@login_required
def item_edit(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(InspectionItem.objects.for_user(request.user, "change"), pk=pk)
    return form_page(
        request,
        ItemForm(request.POST or None, item=item),
        template="sampling/items_form.html",
        context={"item": item},
        save=lambda data: services.item_update(actor=request.user, item=item, data=data),
        done=_("Saved."),
        then=reverse("sampling:item_detail", kwargs={"pk": pk}),
    )


@login_required
def rules_create(request: HttpRequest, pk: int) -> HttpResponse:
    """A new version of the item's 实施细则: the current version's values and test items are the
    starting point; saving supersedes it."""
    item = get_object_or_404(InspectionItem.objects.for_user(request.user, "change"), pk=pk)
    current = services.current_rules(item)
    initial, lines = {}, [{"judgement": TestItem.Judgement.RANGE}]
    if current is not None:
        initial = {f: getattr(current, f) for f in services.RULES_FIELDS if f != "effective_from"}
        lines = [{f: getattr(t, f) for f in services.TEST_ITEM_FIELDS} for t in current.test_items.all()] or lines
    form = RulesForm(request.POST or None, initial=initial)
    formset = TestItemFormSet(request.POST or None, initial=lines, prefix="t")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        rows = [f.cleaned_data for f in formset.forms if f.cleaned_data and f.cleaned_data.get("name")]
        try:
            rules = services.rules_publish(actor=request.user, item=item, data=form.cleaned_data, test_items=rows)
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, _("Version %(version)d of the rules was published.") % {"version": rules.version})
            return redirect("sampling:item_detail", pk=item.pk)
    return render(
        request, "sampling/items_rules_form.html", {"item": item, "current": current, "form": form, "formset": formset}
    )


urlpatterns = [
    path("", sampling_home, name="index"),
    path("items/", item_list, name="item_list"),
    path("items/new/", item_create, name="item_create"),
    path("items/<int:pk>/", item_detail, name="item_detail"),
    path("items/<int:pk>/edit/", item_edit, name="item_edit"),
    path("items/<int:pk>/rules/new/", rules_create, name="rules_create"),
]
