from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from nqihub.core.access import Capability
from nqihub.core.admin import ReadOnlyRoleAdmin, RoleAdmin
from nqihub.core.errors import ServiceError

from . import services
from .models import (
    AuthorisationScope,
    EnterpriseRegistration,
    InstitutionDiscipline,
    Membership,
    Organization,
    OrganizationContact,
)


class ContactInline(admin.TabularInline):
    model = OrganizationContact
    extra = 0


class DisciplineInline(admin.TabularInline):
    model = InstitutionDiscipline
    extra = 0


class ScopeInline(admin.TabularInline):
    model = AuthorisationScope
    extra = 0
    fields = ["discipline", "subject_code", "subject_name", "basis", "valid_from", "valid_until"]


@admin.register(Organization)
class OrganizationAdmin(RoleAdmin):
    view_capability = Capability.GRANT_ROLES
    change_capability = Capability.MANAGE_ORGANIZATIONS
    list_display = ["name", "kind", "credit_code", "division", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "credit_code"]
    raw_id_fields = ["division"]
    inlines = [ContactInline, DisciplineInline, ScopeInline]
    actions = ["deactivate", "activate"]

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        if not self.has_change_permission(request):
            actions.pop("deactivate", None)
            actions.pop("activate", None)
        return actions

    @admin.action(description=_("Deactivate selected organisations"))
    def deactivate(self, request, queryset):
        for org in queryset:
            services.organization_set_active(actor=request.user, organization=org, active=False)

    @admin.action(description=_("Activate selected organisations"))
    def activate(self, request, queryset):
        for org in queryset:
            services.organization_set_active(actor=request.user, organization=org, active=True)


@admin.register(Membership)
class MembershipAdmin(RoleAdmin):
    """Role grants: the security administrator's work."""

    view_capability = Capability.MANAGE_ACCOUNTS
    change_capability = Capability.GRANT_ROLES
    list_display = ["user", "organization", "role", "is_active", "is_default"]
    list_filter = ["role", "is_active", "organization__kind"]
    search_fields = ["user__username", "organization__name"]
    raw_id_fields = ["user", "organization"]
    fields = ["user", "organization", "role"]
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        return ["user", "organization"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        try:
            membership = services.membership_grant(
                actor=request.user, user=obj.user, organization=obj.organization, role=obj.role
            )
        except ServiceError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        obj.pk = membership.pk
        obj._state.adding = False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description=_("Revoke selected memberships"))
    def revoke(self, request, queryset):
        for membership in queryset:
            services.membership_revoke(actor=request.user, membership=membership)


@admin.register(EnterpriseRegistration)
class EnterpriseRegistrationAdmin(ReadOnlyRoleAdmin):
    view_capability = Capability.MANAGE_ORGANIZATIONS
    list_display = ["number", "name", "credit_code", "division", "state", "submitted_at"]
    list_filter = ["state"]
    search_fields = ["number", "name", "credit_code"]
