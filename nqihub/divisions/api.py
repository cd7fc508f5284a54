from django_filters import rest_framework as filters
from rest_framework import serializers

from nqihub.core.api.views import ScopedReadOnlyViewSet

from .models import AdminDivision


class AdminDivisionSerializer(serializers.ModelSerializer):
    # "parent" also names a serializer field's own parent in DRF's stubs; here it is the API's field.
    parent = serializers.CharField(source="parent_id", allow_null=True, read_only=True)  # type: ignore[assignment]

    class Meta:
        model = AdminDivision
        fields = ["code", "name", "level", "parent", "is_current", "valid_until"]


class AdminDivisionFilter(filters.FilterSet):
    parent = filters.CharFilter(field_name="parent_id")
    within = filters.CharFilter(method="filter_within", label="Code of a division; returns it and all below it")

    class Meta:
        model = AdminDivision
        fields = ["level", "is_current", "parent"]

    def filter_within(self, queryset, name, value):
        division = AdminDivision.objects.filter(pk=value).first()
        return queryset.within(division) if division else queryset.none()


class AdminDivisionViewSet(ScopedReadOnlyViewSet):
    """GB/T 2260 administrative divisions (current and historic codes)."""

    queryset = AdminDivision.objects.all()
    serializer_class = AdminDivisionSerializer
    filterset_class = AdminDivisionFilter
    lookup_field = "code"
    # Reference data, not a regulator's data query: not recorded.
    audit_regulator_queries = False
