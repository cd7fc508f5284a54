"""Catalogue pages: the list and each item for every signed-in user; creating and editing
for the system administrator (``CatalogueItem.objects.for_user(user, "change")``)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.translation import gettext as _

from nqihub.core.access import Capability, has_capability
from nqihub.core.views_base import form_page

from .. import selectors
from ..forms import CatalogueItemForm
from ..models import CatalogueItem, Evidence
from ..services import catalogue as services


@login_required
def catalogue_list(request: HttpRequest) -> HttpResponse:
    search = selectors.catalogue_search(request.user, request.GET)
    page = Paginator(search.qs, 100).get_page(request.GET.get("page"))
    counts = selectors.catalogue_evidence_counts(request.user)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "metrology/catalogue_list.html",
        {
            "search": search,
            "page": page,
            "query": query.urlencode(),
            "not_verified": counts.get(Evidence.UNVERIFIED, 0) + counts.get(Evidence.CORROBORATED, 0),
            "unverified": counts.get(Evidence.UNVERIFIED, 0),
            "can_create": has_capability(request.user, Capability.MANAGE_CONFIGURATION),
        },
    )


@login_required
def catalogue_detail(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(CatalogueItem.objects.for_user(request.user, "view"), pk=pk)
    return render(
        request,
        "metrology/catalogue_detail.html",
        {
            "item": item,
            "use_fields": selectors.mandatory_use_fields(item),
            "can_change": CatalogueItem.objects.for_user(request.user, "change").filter(pk=pk).exists(),
        },
    )


@login_required
def catalogue_create(request: HttpRequest) -> HttpResponse:
    if not has_capability(request.user, Capability.MANAGE_CONFIGURATION):
        raise PermissionDenied
    return form_page(
        request,
        CatalogueItemForm(request.POST or None),
        template="metrology/catalogue_form.html",
        context={"item": None},
        save=lambda data: services.catalogue_item_create(actor=request.user, data=data),
        done=lambda item: _("Catalogue item %(item)s was added.") % {"item": item},
        then=lambda item: reverse("metrology:catalogue_detail", kwargs={"pk": item.pk}),
    )


@login_required
def catalogue_edit(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(CatalogueItem.objects.for_user(request.user, "change"), pk=pk)
    return form_page(
        request,
        CatalogueItemForm(request.POST or None, item=item),
        template="metrology/catalogue_form.html",
        context={"item": item},
        save=lambda data: services.catalogue_item_update(actor=request.user, item=item, data=data),
        done=_("Saved."),
        then=reverse("metrology:catalogue_detail", kwargs={"pk": pk}),
    )


urlpatterns = [
    path("catalogue/", catalogue_list, name="catalogue_list"),
    path("catalogue/new/", catalogue_create, name="catalogue_create"),
    path("catalogue/<int:pk>/", catalogue_detail, name="catalogue_detail"),
    path("catalogue/<int:pk>/edit/", catalogue_edit, name="catalogue_edit"),
]
