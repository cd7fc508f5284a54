"""Reads shared by the metrology pages, the API and the exports.

The filter sets are the one definition of each search: the ledger page, its Excel export and
``/api/v1/instruments/`` filter the same way, as do the catalogue page and its API; the due
list and the filed instruments extend the ledger's search. ``within_division`` is the one rule
for narrowing a list by division (pages and API), ``jurisdiction_divisions`` the one list of
divisions offered, and ``export_xlsx`` the one way a list is exported (capped, and saying so).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

from django import forms
from django.db.models import Count, OuterRef, Q, Subquery
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from nqihub.core.access import get_actor
from nqihub.core.views_base import search_terms
from nqihub.divisions.models import AdminDivision
from nqihub.organizations.models import Organization
from nqihub.tables.exports import export_response

from .models import CatalogueItem, Evidence, Instrument, InstrumentFiling, Supervision, UseField


def _yes_no_select() -> forms.Select:
    """A yes/no/all select for a boolean filter (the API takes true/false)."""
    return forms.Select(choices=(("", _("All")), ("true", _("Yes")), ("false", _("No"))))


USE_FLAG_BY_FIELD = {
    UseField.TRADE: "use_trade",
    UseField.SAFETY: "use_safety",
    UseField.MEDICAL: "use_medical",
    UseField.ENVIRONMENT: "use_environment",
}


# --- Catalogue ----------------------------------------------------------------------------


class CatalogueItemFilter(filters.FilterSet):
    q = filters.CharFilter(method="filter_q", label=_("Code or name"))
    supervision = filters.ChoiceFilter(choices=Supervision.choices, empty_label=_("All"), label=_("Supervision"))
    evidence = filters.ChoiceFilter(choices=Evidence.choices, empty_label=_("All"), label=_("Evidence"))
    use_field = filters.ChoiceFilter(
        choices=[c for c in UseField.choices if c[0] != UseField.OTHER],
        empty_label=_("All"),
        method="filter_use_field",
        label=_("Mandatory in use field"),
    )
    is_active = filters.BooleanFilter(widget=_yes_no_select(), label=_("In force"))

    class Meta:
        model = CatalogueItem
        fields: list[str] = []

    def filter_q(self, queryset, name, value):
        value = value.strip()
        return (
            queryset.filter(Q(code__iexact=value) | Q(name__icontains=value) | Q(level1_name__icontains=value))
            if value
            else queryset
        )

    def filter_use_field(self, queryset, name, value):
        flag = USE_FLAG_BY_FIELD.get(value)
        return queryset.filter(**{flag: True}).exclude(supervision=Supervision.TYPE_APPROVAL) if flag else queryset


def catalogue_search(user, data) -> CatalogueItemFilter:
    return CatalogueItemFilter(data or None, queryset=CatalogueItem.objects.for_user(user, "view"))


def catalogue_evidence_counts(user) -> dict[str, int]:
    rows = CatalogueItem.objects.for_user(user, "view").values("evidence").annotate(n=Count("pk"))
    return {row["evidence"]: row["n"] for row in rows}


def catalogue_choices(*, include: CatalogueItem | None = None) -> list:
    """Items in force for a select box, grouped under their first-level name; ``include``
    adds an item no longer in force (the one an instrument still refers to)."""
    items = list(CatalogueItem.objects.active())
    if include is not None and all(i.pk != include.pk for i in items):
        items.append(include)
    groups: dict[str, list] = {}
    for item in items:
        label = f"{item.code} {item.name}"
        if item.evidence == Evidence.UNVERIFIED:
            label += " " + gettext("(unverified)")
        groups.setdefault(f"{item.level1_no} {item.level1_name}", []).append((item.code, label))
    return list(groups.items())


def mandatory_use_fields(item: CatalogueItem) -> list[str]:
    return [
        str(label)
        for value, label in UseField.choices
        if value in USE_FLAG_BY_FIELD and getattr(item, USE_FLAG_BY_FIELD[value])
    ]


# --- Instruments --------------------------------------------------------------------------


class InstrumentFilter(filters.FilterSet):
    q = filters.CharFilter(method="filter_q", label=_("Name, factory number or platform code"))
    catalogue_item = filters.CharFilter(field_name="catalogue_item__code", label=_("Catalogue item (code)"))
    use_field = filters.ChoiceFilter(choices=UseField.choices, empty_label=_("All"), label=_("Use field"))
    status = filters.ChoiceFilter(choices=Instrument.Status.choices, empty_label=_("All"), label=_("Status"))
    is_mandatory = filters.BooleanFilter(widget=_yes_no_select(), label=_("Mandatory verification"))
    division = filters.CharFilter(method="filter_division", label=_("Division (code): instruments in it and below"))

    class Meta:
        model = Instrument
        fields: list[str] = []

    def filter_q(self, queryset, name, value):
        return queryset.filter(instrument_text_q(value)) if value.strip() else queryset

    def filter_division(self, queryset, name, value):
        return within_division(queryset, value)


def instrument_text_q(value: str) -> Q:
    """What a person types in an instrument search box, as one condition: part of the name,
    or the whole factory number or platform code.

    Codes are compared exactly, so their indexes serve them: platform codes are stored in
    upper case (typed letters are upper-cased, as the public check does); a factory number is
    stored as typed (stripped), so it matches as typed or in upper case (nameplates print
    letters in capitals; ``p-1`` finds ``P-1``). The name is a substring search (a clerk types
    压力表 for 弹簧管式压力表); on PostgreSQL it needs a trigram index on ``UPPER(name)``."""
    value = value.strip()
    upper = value.upper()
    return Q(name__icontains=value) | Q(factory_number__in=sorted({value, upper})) | Q(platform_code=upper)


def within_division(queryset, code: str, *, field: str = "division_id"):
    """``queryset`` narrowed to the division ``code`` and every division below it (by the
    division tree's path). An unknown code matches nothing. It only narrows: the queryset is
    already scoped to the caller, so a division outside their jurisdiction gives nothing."""
    division = AdminDivision.objects.filter(pk=(code or "").strip()).first()
    if division is None:
        return queryset.none()
    return queryset.filter(**{f"{field}__in": AdminDivision.objects.within(division).values("code")})


def instruments_for(user, action: str = "view"):
    """The instruments ``user`` may see (or export), with what a list row shows."""
    return (
        Instrument.objects.for_user(user, action)
        .select_related("catalogue_item", "organization", "division")
        .order_by("-pk")
    )


def instrument_search(user, data, *, action: str = "view") -> InstrumentFilter:
    return InstrumentFilter(data or None, queryset=instruments_for(user, action))


class FiledInstrumentFilter(InstrumentFilter):
    """The ledger's search on the filed instruments, plus the enterprise's name (regulators
    look up what one enterprise filed). Every instrument here is mandatory."""

    enterprise = filters.CharFilter(method="filter_enterprise", label=_("Enterprise"))

    class Meta:
        model = Instrument
        fields: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters.pop("is_mandatory", None)

    def filter_enterprise(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        # A subquery on the (small) organisation table, so the instruments are then found
        # through their organisation index rather than by joining every row.
        return queryset.filter(organization__in=Organization.objects.filter(name__icontains=value).values("pk"))


def filed_instruments_for(user, action: str = "view"):
    """The filed instruments ``user`` may see, each with the number, id and approval time of
    the approved filing that filed it; by division, enterprise and name."""
    filing = InstrumentFiling.objects.filter(
        instruments=OuterRef("pk"), state=InstrumentFiling.State.APPROVED
    ).order_by("-reviewed_at", "-pk")
    return (
        Instrument.objects.for_user(user, action)
        .filter(filed=True)
        .select_related("organization", "division", "catalogue_item")
        .annotate(
            filing_pk=Subquery(filing.values("pk")[:1]),
            filing_number=Subquery(filing.values("number")[:1]),
            filed_at=Subquery(filing.values("reviewed_at")[:1]),
        )
        .order_by("division_id", "organization__name", "name", "pk")
    )


def filed_instrument_search(user, data, *, action: str = "view") -> FiledInstrumentFilter:
    return FiledInstrumentFilter(data or None, queryset=filed_instruments_for(user, action))


def jurisdiction_divisions(user) -> list[AdminDivision]:
    """The divisions a regulator may narrow a list to: their own and those below it, in tree
    order. Nobody else narrows by division."""
    actor = get_actor(user)
    if not actor.is_regulator or actor.jurisdiction is None:
        return []
    return list(AdminDivision.objects.current().within(actor.jurisdiction).order_by("path"))


def jurisdiction_division_choices(user, divisions: list[AdminDivision] | None = None) -> list[tuple[str, str]]:
    """``jurisdiction_divisions`` as select choices, indented by level below the jurisdiction."""
    if divisions is None:
        divisions = jurisdiction_divisions(user)
    if not divisions:
        return []
    top = get_actor(user).jurisdiction.path.count("/")
    return [(d.code, ("\u3000" * (d.path.count("/") - top)) + d.name) for d in divisions]


def fit_search(search: filters.FilterSet, user) -> filters.FilterSet:
    """Drop the filters that are not this person's to use: only a regulator narrows a list by
    division or enterprise. Call it before the search's form is first used (the form is made
    from the filters); it makes no query."""
    actor = get_actor(user)
    if not actor.is_regulator or actor.jurisdiction is None:
        for name in ("division", "enterprise"):
            search.filters.pop(name, None)
    return search


def dress_search_form(search: filters.FilterSet, user) -> list[AdminDivision]:
    """Fit an instrument search to the person (``fit_search``) and dress its form for a page:
    catalogue items and a regulator's divisions as lists. Returns the regulator's divisions
    (empty for anyone else)."""
    fit_search(search, user)
    fields = search.form.fields
    if "catalogue_item" in fields:
        fields["catalogue_item"].widget = forms.Select(choices=[("", _("All")), *catalogue_choices()])
    if "division" not in fields:
        return []
    divisions = jurisdiction_divisions(user)
    fields["division"].widget = forms.Select(choices=[("", _("All")), *jurisdiction_division_choices(user, divisions)])
    fields["division"].label = _("Division")
    return divisions


# --- Exports --------------------------------------------------------------------------------

# At most this many rows go into one Excel file (the page says so beforehand when a search
# finds more, the file says so in its first row, and the audit record says so too).
EXPORT_LIMIT = 100_000


def export_limit_notice(total: int, limit: int | None = None) -> str:
    """What a list page says next to its export button when the search finds more instruments
    than one file holds; empty when it does not."""
    limit = EXPORT_LIMIT if limit is None else limit
    if total <= limit:
        return ""
    # Translators: 导出仅含前 %(limit)s 台（共 %(total)s 台）计量器具，缩小查询范围可导出其余部分。
    return gettext("Export the first %(limit)s of %(total)s instruments — narrow the search to export the rest.") % {
        "limit": f"{limit:,}",
        "total": f"{total:,}",
    }


def export_xlsx(
    request,
    *,
    search,
    rows: Callable[[Any, int], Iterable[Sequence]],
    filename: str,
    title: str,
    headers: Sequence[str],
    model=Instrument,
) -> HttpResponse:
    """An Excel export of ``search`` (a FilterSet on a scoped queryset, fitted to the person):
    at most ``EXPORT_LIMIT`` rows from ``rows(queryset, limit)``, with the search's filters
    above the header. A cut file says so in its first row; the audit record (for everyone,
    regulators or not) gives the rows exported, and for a cut file ``truncated`` and the
    number found."""
    limit = EXPORT_LIMIT
    queryset = search.qs
    total = queryset.count()
    exported = min(total, limit)
    body: Iterable[Sequence] = rows(queryset, limit)
    details: dict[str, Any] = {}
    if total > limit:
        # Translators: 本文件仅含符合查询条件的 %(total)s 台计量器具中的前 %(limit)s 台，缩小查询范围可导出其余部分。
        note = gettext(
            "Truncated: this file holds only the first %(limit)s of the %(total)s instruments found. "
            "Narrow the search to export the rest."
        ) % {"limit": f"{limit:,}", "total": f"{total:,}"}
        body = chain([[note]], body)
        details = {"truncated": True, "total": total}
    return export_response(
        request,
        model=model,
        filename=filename,
        title=title,
        headers=headers,
        rows=body,
        count=exported,
        terms=search_terms(search.form),
        **details,
    )


def mandatory_explanation(instrument: Instrument) -> str:
    """Why the instrument is, or is not, subject to mandatory verification, in a sentence
    (计量法第九条: listed in the catalogue AND used in one of its mandatory fields)."""
    item = instrument.catalogue_item
    use = instrument.get_use_field_display()
    if item is None:
        return gettext(
            "Not subject to mandatory verification: the instrument is not in the catalogue of instruments under mandatory management."
        )
    values = {"item": str(item), "use": use}
    if not item.is_active:
        return gettext("Not subject to mandatory verification: catalogue item %(item)s is no longer in force.") % values
    if item.supervision == Supervision.TYPE_APPROVAL:
        return (
            gettext("Not subject to mandatory verification: catalogue item %(item)s is under type approval only.")
            % values
        )
    if item.mandatory_for(instrument.use_field):
        # Translators: 列入目录（%(item)s）且用于%(use)s，属于强制检定的工作计量器具。
        return (
            gettext("Subject to mandatory verification: listed in the catalogue (%(item)s) and used for %(use)s.")
            % values
        )
    # Translators: the separator between use fields in a sentence; Chinese uses 、
    separator = gettext(", ")
    values["fields"] = separator.join(mandatory_use_fields(item))
    return (
        gettext(
            "Not subject to mandatory verification: listed in the catalogue (%(item)s), but used for %(use)s, "
            "which is not a mandatory use of this item (mandatory when used for: %(fields)s)."
        )
        % values
    )


def instrument_export_headers() -> list[str]:
    return [
        gettext("Platform code"),
        gettext("Enterprise"),
        gettext("Division"),
        gettext("Catalogue code"),
        gettext("Catalogue item"),
        gettext("Instrument name"),
        gettext("Model / specification"),
        gettext("Measuring range"),
        gettext("Accuracy class"),
        gettext("Factory number"),
        gettext("Manufacturer"),
        gettext("Location"),
        gettext("Use field"),
        gettext("Status"),
        gettext("Mandatory verification"),
        gettext("Filed"),
        gettext("Last verified"),
        gettext("Next verification due"),
    ]


def instrument_export_rows(queryset, *, limit: int | None) -> Iterator[list]:
    yes, no = gettext("Yes"), gettext("No")
    for i in queryset[:limit].iterator(chunk_size=2000):
        item = i.catalogue_item
        yield [
            i.platform_code,
            i.organization.name,
            i.division.name,
            item.code if item else "",
            item.name if item else "",
            i.name,
            i.model_spec,
            i.measuring_range,
            i.accuracy_class,
            i.factory_number,
            i.manufacturer,
            i.location,
            i.get_use_field_display(),
            i.get_status_display(),
            yes if i.is_mandatory else no,
            yes if i.filed else no,
            i.last_verified_on,
            i.next_due_on,
        ]


def export_filename(stem: str) -> str:
    return f"{stem}-{timezone.localdate():%Y%m%d}.xlsx"


Rows = Callable[..., Iterator[list]]  # (queryset, limit or None)


@dataclass(frozen=True)
class ListExport:
    """One list's Excel export, shared by the direct download (``response``: at most
    ``EXPORT_LIMIT`` rows, in the request) and the background export (``build``: every row,
    in a task; registered with ``nqihub.downloads`` in ``MetrologyConfig.ready``). Both make
    the search the same way and write the same rows with the same function.

    ``prepare(user, data)`` gives the search (a FilterSet whose queryset is scoped with
    ``for_user(user, "export")``, fitted to the person as the page's search is; its form
    describes the filters above the direct download's header) and ``rows(queryset, limit)``, which reads the queryset in chunks (``limit`` None: all of it)."""

    kind: str
    title: Any  # lazy: the sheet's title, in the reader's language
    filename: Any  # lazy: the direct download's file name (before the date)
    headers: Callable[[], list[str]]
    prepare: Callable[[Any, Any], tuple[Any, Rows]]

    def response(self, request) -> HttpResponse:
        search, rows = self.prepare(request.user, request.GET)
        return export_xlsx(
            request,
            search=search,
            rows=rows,
            filename=export_filename(str(self.filename)),
            title=str(self.title),
            headers=self.headers(),
        )

    def build(self, user, params) -> tuple[list[str], Iterator[list]]:
        search, rows = self.prepare(user, params)
        return self.headers(), rows(search.qs, None)

    def terms(self, user, params) -> list[tuple[str, str]]:
        """The search as (label, value) in the reader's language, for the lines above the
        header of the background export (the direct download writes the same)."""
        return search_terms(self.prepare(user, params)[0].form)

    def count(self, user, params) -> int:
        return self.prepare(user, params)[0].qs.count()

    @staticmethod
    def allowed(user) -> bool:
        """Whether ``user`` exports any instruments at all (regulators and enterprises); the
        rule is ``InstrumentQuerySet.for_user(user, "export")``, asked without a query."""
        return not Instrument.objects.for_user(user, "export").query.is_empty()


def _ledger_export(user, data):
    search = fit_search(instrument_search(user, data, action="export"), user)
    return search, lambda qs, limit: instrument_export_rows(qs, limit=limit)


def _filed_export(user, data):
    search = fit_search(filed_instrument_search(user, data, action="export"), user)
    return search, lambda qs, limit: filed_instrument_export_rows(qs, limit=limit)


def filed_instrument_export_headers() -> list[str]:
    return [
        gettext("Enterprise"),
        gettext("Unified social credit code"),
        gettext("Division"),
        gettext("Division code"),
        gettext("Instrument name"),
        gettext("Model / specification"),
        gettext("Factory number"),
        gettext("Catalogue item"),
        gettext("Use field"),
        gettext("Status"),
        gettext("Location"),
        gettext("Platform code"),
        gettext("Filing number"),
        gettext("Filed on"),
    ]


def filed_instrument_export_rows(queryset, *, limit: int | None) -> Iterator[list]:
    for i in queryset[:limit].iterator(chunk_size=2000):
        yield [
            i.organization.name,
            i.organization.credit_code or "",
            i.division.name,
            i.division_id,
            i.name,
            i.model_spec,
            i.factory_number,
            str(i.catalogue_item) if i.catalogue_item else "",
            i.get_use_field_display(),
            i.get_status_display(),
            i.location,
            i.platform_code,
            i.filing_number or "",
            timezone.localtime(i.filed_at).strftime("%Y-%m-%d") if i.filed_at else "",
        ]


LEDGER_EXPORT = ListExport(
    kind="metrology.instruments",
    title=_("Instrument ledger"),
    filename=_("instruments"),
    headers=instrument_export_headers,
    prepare=_ledger_export,
)
FILED_EXPORT = ListExport(
    kind="metrology.filed_instruments",
    title=_("Filed instruments"),
    filename=_("filed-instruments"),
    headers=filed_instrument_export_headers,
    prepare=_filed_export,
)


def export_background_label(total: int) -> str:
    """The list pages' button beside ``export_limit_notice``: every instrument found, as a
    background export (listed on the downloads page)."""
    # Translators: 在后台导出全部 %(total)s 台计量器具
    return gettext("Export all %(total)s instruments in the background") % {"total": f"{total:,}"}
