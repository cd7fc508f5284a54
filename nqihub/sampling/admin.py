"""Console: the sampling app's configuration, changed by the system administrator through
the services (checked, audited)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from nqihub.core.access import Capability
from nqihub.core.admin import RoleAdmin
from nqihub.core.errors import ServiceError

from .models import SwitchingRules
from .services import aql as aql_services


class SwitchingRulesAdminForm(forms.ModelForm):
    """Checked by the service's own rules, so a refusal shows on the form."""

    class Meta:
        model = SwitchingRules
        fields = list(aql_services.FIELDS)

    def clean(self):
        cleaned = super().clean()
        try:
            aql_services.switching_rules_clean_data({k: cleaned.get(k) for k in aql_services.FIELDS})
        except ServiceError as exc:
            raise ValidationError(
                {k if k in self.fields else NON_FIELD_ERRORS: v for k, v in (exc.errors or {}).items()} or exc.message
            ) from exc
        return cleaned


@admin.register(SwitchingRules)
class SwitchingRulesAdmin(RoleAdmin):
    view_capability = Capability.MANAGE_CONFIGURATION
    change_capability = Capability.MANAGE_CONFIGURATION
    form = SwitchingRulesAdminForm
    list_display = ["__str__", "evidence", "source", "updated_at"]
    allow_add = False  # one row, loaded with the app

    def save_model(self, request, obj, form, change):
        aql_services.switching_rules_update(
            actor=request.user, data={k: form.cleaned_data.get(k) for k in aql_services.FIELDS}
        )
        obj.refresh_from_db()
