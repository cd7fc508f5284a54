from __future__ import annotations

from itertools import groupby

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from nqihub.core.access import OrganizationKind
from nqihub.divisions.models import AdminDivision

from .credit_code import validate_credit_code
from .models import Discipline, EnterpriseRegistration
from .selectors import credit_code_division_note


class CountyChoiceField(forms.ChoiceField):
    """Current county-level divisions, grouped by their 盟市."""

    def __init__(self, **kwargs):
        super().__init__(choices=self._choices_grouped, **kwargs)

    @staticmethod
    def _choices_grouped():
        counties = AdminDivision.objects.current().counties().select_related("parent").order_by("parent_id", "code")
        choices: list = [("", _("— choose —"))]
        for parent, items in groupby(counties, key=lambda d: d.parent):
            label = parent.name if parent else ""
            choices.append((label, [(d.code, d.name) for d in items]))
        return choices


class RegistrationForm(forms.Form):
    credit_code = forms.CharField(
        label=_("Unified social credit code"),
        max_length=40,
        help_text=_("18 characters, as printed on the business licence."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    name = forms.CharField(label=_("Enterprise name"), max_length=200)
    division = CountyChoiceField(label=_("Registered division (county)"))
    address = forms.CharField(label=_("Address"), max_length=300)
    legal_representative = forms.CharField(label=_("Legal representative"), max_length=100)
    industry = forms.CharField(label=_("Industry"), max_length=100, required=False)
    contact_name = forms.CharField(label=_("Contact person"), max_length=100)
    contact_phone = forms.CharField(label=_("Contact telephone"), max_length=40)
    contact_email = forms.EmailField(label=_("Contact email"), required=False)
    # Shown (as a checkbox) only when the code's division differs from the county chosen.
    confirm_division = forms.BooleanField(
        label=_("The credit code and the county are both right"), required=False, widget=forms.HiddenInput
    )

    def clean(self):
        """Compare the division the credit code was issued in with the county chosen, and ask
        the applicant to confirm before the application goes in when they differ (an
        enterprise that moved keeps its code; a slip of the county does not have to reach
        the reviewer). A code that is not valid is left to the service's own message."""
        cleaned = super().clean() or self.cleaned_data
        division = AdminDivision.objects.filter(pk=cleaned.get("division") or "").first()
        try:
            code = validate_credit_code(cleaned.get("credit_code") or "")
        except ValidationError:
            return cleaned
        note = credit_code_division_note(code, division)
        if note and not cleaned.get("confirm_division"):
            self.fields["confirm_division"].widget = forms.CheckboxInput()
            raise ValidationError([note, _("If both are right, tick the box below the form and submit again.")])
        return cleaned

    @classmethod
    def from_registration(cls, registration: EnterpriseRegistration, data=None):
        initial = {f: getattr(registration, f) for f in cls.base_fields if f not in ("division", "confirm_division")}
        initial["division"] = registration.division_id
        return cls(data, initial=initial)


class ReturnForm(forms.Form):
    reason = forms.CharField(label=_("Reason for return"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class OrganizationFilterForm(forms.Form):
    q = forms.CharField(label=_("Name or credit code"), required=False)
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("All kinds")), *OrganizationKind.choices])
    division = forms.CharField(label=_("Division code"), required=False, max_length=6)


class OrganizationForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    legal_representative = forms.CharField(label=_("Legal representative"), max_length=100, required=False)
    industry = forms.CharField(label=_("Industry"), max_length=100, required=False)
    phone = forms.CharField(label=_("Telephone"), max_length=40, required=False)
    cma_number = forms.CharField(label=_("CMA certificate number"), max_length=40, required=False)
    cnas_number = forms.CharField(label=_("CNAS accreditation number"), max_length=40, required=False)
    disciplines = forms.MultipleChoiceField(
        label=_("Disciplines"), choices=Discipline.choices, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, organization=None, **kwargs):
        super().__init__(*args, **kwargs)
        if organization is not None and organization.kind != OrganizationKind.INSTITUTION:
            for name in ("cma_number", "cnas_number", "disciplines"):
                self.fields.pop(name)
