from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
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


class OrganizationAdminForm(forms.ModelForm):
    """Validated by the same rules as the service (credit code, county-level division …)."""

    class Meta:
        model = Organization
        # The fields the service cleans, plus the kind the console alone may set.
        fields = ["kind", *services.ORGANIZATION_FIELDS]

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        kind = cleaned.get("kind") or getattr(self.instance, "kind", "") or ""
        data = {k: cleaned.get(k) for k in services.ORGANIZATION_FIELDS if k in cleaned}
        try:
            cleaned_data = services.organization_clean_data(data, kind=kind)
            if cleaned_data.get("credit_code"):
                services.organization_check_code_free(
                    cleaned_data["credit_code"], exclude_organization=self.instance.pk
                )
        except ServiceError as exc:
            raise ValidationError({exc.field: exc.message} if exc.field in self.fields else exc.message) from exc
        return cleaned


@admin.register(Organization)
class OrganizationAdmin(RoleAdmin):
    view_capability = Capability.GRANT_ROLES
    change_capability = Capability.MANAGE_ORGANIZATIONS
    form = OrganizationAdminForm
    list_display = ["name", "kind", "credit_code", "division", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "credit_code"]
    raw_id_fields = ["division"]
    inlines = [ContactInline, DisciplineInline, ScopeInline]
    actions = ["deactivate", "activate"]

    def get_readonly_fields(self, request, obj=None):
        return ["kind"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        data = {k: form.cleaned_data.get(k) for k in services.ORGANIZATION_FIELDS if k in form.cleaned_data}
        if change:
            services.organization_update(actor=request.user, organization=obj, data=data)
            obj.refresh_from_db()
        else:
            created = services.organization_create(actor=request.user, kind=form.cleaned_data["kind"], data=data)
            obj.pk = created.pk
            obj._state.adding = False
            obj.refresh_from_db()

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        if not self.has_change_permission(request):
            actions.pop("deactivate", None)
            actions.pop("activate", None)
        return actions

    @admin.action(description=_("Deactivate selected organisations"))
    def deactivate(self, request, queryset):
        self.run_service_action(
            request,
            queryset,
            lambda org: services.organization_set_active(actor=request.user, organization=org, active=False),
        )

    @admin.action(description=_("Activate selected organisations"))
    def activate(self, request, queryset):
        self.run_service_action(
            request,
            queryset,
            lambda org: services.organization_set_active(actor=request.user, organization=org, active=True),
        )


class MembershipAdminForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ["user", "organization", "role"]

    def __init__(self, *args, actor=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        user = cleaned.get("user") or getattr(self.instance, "user", None)
        if user is not None and self.actor is not None:
            try:
                services.membership_grant_check(actor=self.actor, user=user, role=cleaned.get("role", ""))
            except ServiceError as exc:
                raise ValidationError({exc.field: exc.message} if exc.field in self.fields else exc.message) from exc
        return cleaned


@admin.register(Membership)
class MembershipAdmin(RoleAdmin):
    """Role grants: the security administrator's work."""

    view_capability = Capability.MANAGE_ACCOUNTS
    change_capability = Capability.GRANT_ROLES
    form = MembershipAdminForm
    list_display = ["user", "organization", "role", "is_active", "is_default"]
    list_filter = ["role", "is_active", "organization__kind"]
    search_fields = ["user__username", "organization__name"]
    raw_id_fields = ["user", "organization"]
    fields = ["user", "organization", "role"]
    actions = ["revoke"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class: Any = super().get_form(request, obj, change=change, **kwargs)

        class BoundForm(form_class):
            def __init__(self, *args, **inner):
                super().__init__(*args, actor=request.user, **inner)

        return BoundForm

    def get_readonly_fields(self, request, obj=None):
        return ["user", "organization"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        membership = services.membership_grant(
            actor=request.user, user=obj.user, organization=obj.organization, role=obj.role
        )
        obj.pk = membership.pk
        obj._state.adding = False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description=_("Revoke selected memberships"))
    def revoke(self, request, queryset):
        self.run_service_action(
            request, queryset, lambda m: services.membership_revoke(actor=request.user, membership=m)
        )


@admin.register(EnterpriseRegistration)
class EnterpriseRegistrationAdmin(ReadOnlyRoleAdmin):
    view_capability = Capability.MANAGE_ORGANIZATIONS
    list_display = ["number", "name", "credit_code", "division", "state", "submitted_at"]
    list_filter = ["state"]
    search_fields = ["number", "name", "credit_code"]
