"""The searches of the two pools, shared by their pages, their Excel exports and the API (one
``FilterSet`` each, as the project's other lists do)."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from nqihub.divisions.models import AdminDivision

from .models import Inspector, PoolObject, ProductCategory


def within_division(queryset, code: str, *, field: str = "division_id"):
    """``queryset`` narrowed to division ``code`` and below; an unknown code matches nothing.
    It only narrows: the queryset is already scoped to the reader."""
    division = AdminDivision.objects.filter(pk=(code or "").strip()).first()
    if division is None:
        return queryset.none()
    return queryset.filter(**{f"{field}__in": AdminDivision.objects.within(division).values("code")})


class PoolObjectFilter(filters.FilterSet):
    q = filters.CharFilter(method="filter_q", label=_("Enterprise, credit code or product"))
    category = filters.ModelChoiceFilter(
        queryset=ProductCategory.objects.filter(is_active=True), label=_("Product category")
    )
    division = filters.CharFilter(method="filter_division", label=_("Division (code): objects in it and below"))
    role = filters.ChoiceFilter(choices=PoolObject.Role.choices, empty_label=_("All"), label=_("Role"))
    is_active = filters.BooleanFilter(label=_("In the pool"))

    class Meta:
        model = PoolObject
        fields: list[str] = []

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(organization__name__icontains=value)
            | Q(organization__credit_code=value.upper())
            | Q(product_name__icontains=value)
            | Q(brand__icontains=value)
        )

    def filter_division(self, queryset, name, value):
        return within_division(queryset, value)


class InspectorFilter(filters.FilterSet):
    q = filters.CharFilter(method="filter_q", label=_("Name or enforcement certificate number"))
    field = filters.ModelChoiceFilter(
        field_name="fields", queryset=ProductCategory.objects.filter(is_active=True), label=_("Field")
    )
    division = filters.CharFilter(method="filter_division", label=_("Division (code): inspectors in it and below"))
    is_available = filters.BooleanFilter(label=_("Available"))

    class Meta:
        model = Inspector
        fields: list[str] = []

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(enforcement_number=value.upper()))

    def filter_division(self, queryset, name, value):
        return within_division(queryset, value)


def pool_objects_for(user, action: str = "view"):
    return PoolObject.objects.for_user(user, action).select_related("organization", "category", "division")


def inspectors_for(user, action: str = "view"):
    return Inspector.objects.for_user(user, action).select_related("office", "division").prefetch_related("fields")
