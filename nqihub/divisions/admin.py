from django.contrib import admin

from nqihub.core.access import Capability
from nqihub.core.admin import ReadOnlyRoleAdmin

from .models import AdminDivision


@admin.register(AdminDivision)
class AdminDivisionAdmin(ReadOnlyRoleAdmin):
    """Divisions change through migrations and ``manage.py load_divisions`` only."""

    view_capability = Capability.MANAGE_CONFIGURATION
    list_display = ["code", "name", "level", "parent", "is_current", "valid_until"]
    list_filter = ["level", "is_current"]
    search_fields = ["code", "name"]
