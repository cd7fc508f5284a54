"""The management console: Django's admin, opened to the three staff roles only.

Each ModelAdmin names the capability that lets a staff role view and change it; the
queryset comes from the model's ``for_user`` like everywhere else, and every save or delete
writes an audit record in the same transaction. Django's own ``is_superuser`` grants nothing.
"""

from __future__ import annotations

from django.contrib import admin
from django.db import transaction
from django.utils.translation import gettext as _

from nqihub.core.access import StaffRole, has_capability
from nqihub.core.auditing import audit_write

CONSOLE_ROLES = (StaffRole.SYSTEM_ADMIN, StaffRole.SECURITY_ADMIN)


def _console_permission(request) -> bool:
    """Only the system and security administrators use the console; the audit
    administrator's work is the audit trail pages, and nobody else is staff."""
    user = request.user
    return bool(user.is_active and user.is_authenticated and user.staff_role in CONSOLE_ROLES)


admin.site.has_permission = _console_permission  # type: ignore[method-assign]


class RoleAdmin(admin.ModelAdmin):
    view_capability: str | None = None
    change_capability: str | None = None
    allow_add = True
    allow_delete = False

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if hasattr(qs, "for_user"):
            return qs.for_user(request.user, "view")
        return qs

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_view_permission(self, request, obj=None):
        return bool(
            (self.view_capability and has_capability(request.user, self.view_capability))
            or self.has_change_permission(request, obj)
        )

    def has_change_permission(self, request, obj=None):
        return bool(self.change_capability and has_capability(request.user, self.change_capability))

    def has_add_permission(self, request):
        return self.allow_add and self.has_change_permission(request)

    def has_delete_permission(self, request, obj=None):
        return self.allow_delete and self.has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            audit_write(
                action=f"{obj._meta.model_name}.{'update' if change else 'create'}",
                actor=request.user,
                target=obj,
                details={"fields": list(form.changed_data), "via": "console"},
            )

    def save_formset(self, request, form, formset, change):
        """Inline rows (contacts, scopes …) are writes too: one record per changed formset."""
        with transaction.atomic():
            super().save_formset(request, form, formset, change)
            touched = {
                "added": [str(o.pk) for o in formset.new_objects],
                "changed": [str(o.pk) for o, _fields in formset.changed_objects],
                "deleted": [str(o.pk) for o in formset.deleted_objects],
            }
            if any(touched.values()):
                audit_write(
                    action=f"{formset.model._meta.model_name}.update",
                    actor=request.user,
                    target=form.instance,
                    details={**touched, "via": "console"},
                )

    def run_service_action(self, request, queryset, fn) -> None:
        """Apply a service to each selected object; refusals become messages, not errors."""
        from django.contrib import messages

        from nqihub.core.errors import ServiceError

        done = 0
        for obj in queryset:
            try:
                fn(obj)
                done += 1
            except ServiceError as exc:
                self.message_user(request, f"{obj}: {exc.message}", messages.ERROR)
        if done:
            self.message_user(request, _("%(count)d changed.") % {"count": done}, messages.SUCCESS)

    def delete_model(self, request, obj):
        with transaction.atomic():
            audit_write(
                action=f"{obj._meta.model_name}.delete", actor=request.user, target=obj, details={"via": "console"}
            )
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


class ReadOnlyRoleAdmin(RoleAdmin):
    allow_add = False

    def has_change_permission(self, request, obj=None):
        return False
