"""Page input of the metrology module.

The forms only collect what a person typed: every rule is the service's (for instruments,
``rules.clean_instrument_input``, shared with the API and the import), so the page shows the
same messages as the other channels and every refusal is recorded. That is why the instrument
fields are not ``required`` here; the ones the rules require are marked in the template.
"""

from __future__ import annotations

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from . import rules
from .models import CatalogueItem, Instrument, UseField
from .selectors import catalogue_choices
from .services.catalogue import CATALOGUE_FIELDS


def _label(model, name: str):
    return capfirst(model._meta.get_field(name).verbose_name)


class InstrumentForm(forms.Form):
    catalogue_item = forms.CharField(
        required=False,
        widget=forms.Select,
        help_text=_(
            "The item of the catalogue of instruments under mandatory management, if the instrument is listed. "
            "Together with the use field it decides whether verification is mandatory."
        ),
    )
    name = forms.CharField(required=False)
    model_spec = forms.CharField(required=False)
    measuring_range = forms.CharField(required=False)
    accuracy_class = forms.CharField(required=False)
    factory_number = forms.CharField(
        required=False,
        help_text=_("As marked on the instrument by its manufacturer; each appears once in your ledger."),
    )
    manufacturer = forms.CharField(required=False)
    location = forms.CharField(required=False)
    use_field = forms.CharField(required=False, widget=forms.Select)

    required_names = frozenset(c.field for c in rules.COLUMNS if c.required)

    def __init__(self, *args, instrument: Instrument | None = None, **kwargs):
        if instrument is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                name: getattr(instrument, name) for name in self.base_fields if name != "catalogue_item"
            } | {"catalogue_item": instrument.catalogue_item.code if instrument.catalogue_item else ""}
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.label = _label(Instrument, name)
            column = rules.COLUMN_BY_FIELD.get(name)
            if column is not None and column.max_length:
                field.widget.attrs["maxlength"] = column.max_length
        current = instrument.catalogue_item if instrument is not None else None
        self.fields["catalogue_item"].widget.choices = [
            ("", _("— not in the catalogue —")),
            *catalogue_choices(include=current),
        ]
        self.fields["use_field"].widget.choices = [("", _("— choose —")), *UseField.choices]
        self.fields["factory_number"].widget.attrs.update(autocomplete="off", spellcheck="false")


class CatalogueItemForm(forms.Form):
    """The system administrator's edit of a catalogue item. Typed fields; the rules that tie
    the fields together are the service's (``catalogue_item_clean_data``)."""

    def __init__(self, *args, item: CatalogueItem | None = None, **kwargs):
        if item is not None and "initial" not in kwargs:
            kwargs["initial"] = {name: getattr(item, name) for name in CATALOGUE_FIELDS}
        super().__init__(*args, **kwargs)
        model_fields = forms.fields_for_model(CatalogueItem, fields=CATALOGUE_FIELDS)
        for name in CATALOGUE_FIELDS:
            field = model_fields[name]
            field.required = False if name not in ("level1_no", "level1_name", "name", "source") else field.required
            self.fields[name] = field
        self.fields["code"].help_text = _("Left empty, it is made from the two numbers, e.g. 5.1.")
        self.fields["source"].widget = forms.Textarea(attrs={"rows": 3, "maxlength": 300})
        self.fields["scope_note"].widget = forms.Textarea(attrs={"rows": 3, "maxlength": 300})
