"""Console: the catalogue is configuration, changed by the system administrator, and every
save goes through the catalogue services (checked, audited, instruments kept in line)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from nqihub.core.access import Capability
from nqihub.core.admin import RoleAdmin
from nqihub.core.errors import ServiceError

from .models import CatalogueItem
from .services import catalogue as services


class CatalogueItemAdminForm(forms.ModelForm):
    """Checked by the same rules as the service, so a refusal shows on the form instead of
    failing the save."""

    class Meta:
        model = CatalogueItem
        fields = list(services.CATALOGUE_FIELDS)

    def clean(self):
        cleaned = super().clean()
        data = {k: cleaned.get(k) for k in services.CATALOGUE_FIELDS if k in cleaned}
        try:
            services.catalogue_item_clean_data(data, instance=self.instance if self.instance.pk else None)
        except ServiceError as exc:
            if exc.errors:
                raise ValidationError(
                    {k if k in self.fields else NON_FIELD_ERRORS: v for k, v in exc.errors.items()}
                ) from exc
            raise ValidationError(exc.message) from exc
        return cleaned


@admin.register(CatalogueItem)
class CatalogueItemAdmin(RoleAdmin):
    change_capability = Capability.MANAGE_CONFIGURATION
    form = CatalogueItemAdminForm
    list_display = ["code", "name", "level1_name", "supervision", "verification_mode", "evidence", "is_active"]
    list_filter = ["evidence", "supervision", "verification_mode", "is_active"]
    search_fields = ["code", "name", "level1_name", "regulation"]

    def save_model(self, request, obj, form, change):
        data = {k: form.cleaned_data.get(k) for k in services.CATALOGUE_FIELDS if k in form.cleaned_data}
        if change:
            saved = services.catalogue_item_update(actor=request.user, item=obj, data=data)
        else:
            saved = services.catalogue_item_create(actor=request.user, data=data)
            obj.pk = saved.pk
            obj._state.adding = False
        obj.refresh_from_db()

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions
