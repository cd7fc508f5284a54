from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tasks_db.models import DBTaskResult

from nqihub.core.access import Capability, StaffRole, has_capability
from nqihub.core.admin import RoleAdmin

from . import services
from .forms import ConsoleLoginForm
from .models import User

admin.site.unregister(Group)
# The console's own sign-in page waits as the site's does (accounts.lockout).
admin.site.login_form = ConsoleLoginForm
# Second-factor devices are managed by their owners (enrolment page), not edited in the console.
admin.site.unregister(TOTPDevice)
# Task results are operators' concern (logs, `manage.py prune_db_task_results`), not the console's.
admin.site.unregister(DBTaskResult)


class UserAddForm(forms.ModelForm):
    password = forms.CharField(label=_("Initial password"), strip=False, widget=forms.PasswordInput)

    class Meta:
        model = User
        fields = ["username", "display_name", "email", "phone"]


@admin.register(User)
class UserAdmin(RoleAdmin):
    """Accounts: the system administrator creates and deactivates them; the security
    administrator sees them to grant staff roles (via the action below)."""

    view_capability = Capability.GRANT_ROLES
    change_capability = Capability.MANAGE_ACCOUNTS
    list_display = ["username", "display_name", "staff_role", "is_active", "last_login"]
    list_filter = ["staff_role", "is_active"]
    search_fields = ["username", "display_name", "email", "phone"]
    fields = ["username", "display_name", "email", "phone", "is_active", "staff_role", "last_login", "date_joined"]
    readonly_fields = ["username", "staff_role", "last_login", "date_joined", "is_active"]
    actions = [
        "deactivate",
        "activate",
        "grant_system_admin",
        "grant_security_admin",
        "grant_audit_admin",
        "revoke_staff_role",
    ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = UserAddForm
            kwargs["fields"] = ["username", "display_name", "email", "phone", "password"]
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["username", "display_name", "email", "phone", "password"]
        return self.fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        created = services.account_create(
            actor=request.user,
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password"],
            display_name=form.cleaned_data.get("display_name", ""),
            email=form.cleaned_data.get("email", ""),
            phone=form.cleaned_data.get("phone", ""),
        )
        obj.pk = created.pk
        obj._state.adding = False

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not has_capability(request.user, Capability.MANAGE_ACCOUNTS):
            actions.pop("deactivate", None)
            actions.pop("activate", None)
        if not has_capability(request.user, Capability.GRANT_ROLES):
            for name in ("grant_system_admin", "grant_security_admin", "grant_audit_admin", "revoke_staff_role"):
                actions.pop(name, None)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description=_("Deactivate selected accounts"))
    def deactivate(self, request, queryset):
        self.run_service_action(
            request, queryset, lambda u: services.account_set_active(actor=request.user, user=u, active=False)
        )

    @admin.action(description=_("Activate selected accounts"))
    def activate(self, request, queryset):
        self.run_service_action(
            request, queryset, lambda u: services.account_set_active(actor=request.user, user=u, active=True)
        )

    @admin.action(description=_("Make system administrator"))
    def grant_system_admin(self, request, queryset):
        self.run_service_action(
            request,
            queryset,
            lambda u: services.staff_role_grant(actor=request.user, user=u, role=StaffRole.SYSTEM_ADMIN),
        )

    @admin.action(description=_("Make security administrator"))
    def grant_security_admin(self, request, queryset):
        self.run_service_action(
            request,
            queryset,
            lambda u: services.staff_role_grant(actor=request.user, user=u, role=StaffRole.SECURITY_ADMIN),
        )

    @admin.action(description=_("Make audit administrator"))
    def grant_audit_admin(self, request, queryset):
        self.run_service_action(
            request,
            queryset,
            lambda u: services.staff_role_grant(actor=request.user, user=u, role=StaffRole.AUDIT_ADMIN),
        )

    @admin.action(description=_("Remove staff role"))
    def revoke_staff_role(self, request, queryset):
        self.run_service_action(
            request, queryset, lambda u: services.staff_role_grant(actor=request.user, user=u, role="")
        )
