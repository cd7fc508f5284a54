"""The reads every list, detail and export page does the same way: apply ``for_user`` and
record the read in the audit trail (a regulator's lists, details and statistics; everyone's
exports). Pages, exports and API reads call these instead of filtering or calling the
recorder themselves.

- ``scoped_page``: one page of a list, ``for_user`` applied here;
- ``searched_page``: one page of a search a selector has already built on ``for_user``
  (the ledger's filters, say), so the scope is not applied twice;
- ``scoped_object``: one object, 404 outside the scope;
- ``record_read``: the recording alone, for reads whose count is computed their own way
  (the due list's colour counts, statistics) and for exports (``kind="export"``);
- ``form_page``: a form page whose form a service saves (refusal on the form, success as a
  message and a redirect);
- ``search_terms``: the filters of a search form as (label, value) in the reader's language,
  for the lines above an export's header.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from nqihub.core.access import get_actor
from nqihub.core.auditing import record_regulator_query
from nqihub.core.errors import ServiceError
from nqihub.core.forms import apply_service_error

RECORDED_FOR_EVERYONE = ("export",)  # an export is recorded whoever makes it


def record_read(
    request: Any, model: Any, *, count: int | None, params: Mapping | None = None, kind: str = "list", **extra: Any
) -> None:
    """Record one read of ``model`` by the request's user: lists (``kind="list"``), details
    and statistics when the reader is a regulator, exports whoever makes them. ``params``
    defaults to the request's query (``GET``; a DRF request's query parameters alike)."""
    user = request.user
    if kind not in RECORDED_FOR_EVERYONE and not (user.is_authenticated and get_actor(user).is_regulator):
        return
    record_regulator_query(
        user=user, model=model, params=request.GET if params is None else params, count=count, kind=kind, **extra
    )


def scoped_page(
    request: HttpRequest, queryset: QuerySet, *, per_page: int, action: str = "view", record: bool = True
) -> Page:
    """One page of ``queryset`` limited to what the user may ``action``; a regulator's read
    is recorded with the request's parameters and the number of rows found, unless
    ``record`` is false (configuration, such as tariffs: not enterprise data)."""
    scoped: Any = queryset
    if not record:
        return Paginator(scoped.for_user(request.user, action), per_page).get_page(request.GET.get("page"))
    return searched_page(request, scoped.for_user(request.user, action), per_page=per_page)


def searched_page(
    request: HttpRequest, search: QuerySet, *, per_page: int, paginator: type[Paginator] = Paginator, **options: Any
) -> Page:
    """One page of ``search``, a queryset already built on ``for_user`` (a selector's
    search); a regulator's read is recorded with the request's parameters and the number of
    rows found. ``paginator`` and ``options`` make the paginator (one given its count)."""
    page = paginator(search, per_page, **options).get_page(request.GET.get("page"))
    record_read(request, search.model, count=page.paginator.count)
    return page


def scoped_object(
    request: HttpRequest, queryset: QuerySet, pk: Any, *, action: str = "view", record: bool = True
) -> Any:
    """The object ``pk`` if the user may ``action`` it, else 404 (as for a guessed id); a
    regulator's read is recorded unless ``record`` is false (e.g. their own application)."""
    scoped: Any = queryset
    obj = get_object_or_404(scoped.for_user(request.user, action), pk=pk)
    if record:
        record_read(request, queryset.model, params={"id": pk}, count=1, kind="detail")
    return obj


def search_terms(form: forms.Form | None) -> list[tuple[str, str]]:
    """The filters given to a search ``form``, each as (label, value as shown) in the
    reader's language; filters left empty, and values the form refused, are left out (the
    search leaves them out too)."""
    if form is None or not form.is_bound:
        return []
    form.is_valid()
    cleaned = getattr(form, "cleaned_data", {})
    terms = []
    for name, field in form.fields.items():
        value = cleaned.get(name)
        if value is None or value == "" or value == [] or value == () or value == set():
            continue
        shown = _shown(field, value)
        if shown:
            terms.append((str(field.label or name), shown))
    return terms


def _shown(field: forms.Field, value: Any) -> str:
    if isinstance(value, slice):  # django-filter's ranges
        ends = [_shown(field, v) if v is not None else "" for v in (value.start, value.stop)]
        return " – ".join(ends) if any(ends) else ""
    if isinstance(value, (list, tuple, set, frozenset)):
        return _(", ").join(_shown(field, v) for v in value) if value else ""
    if isinstance(field, forms.ModelChoiceField):
        if isinstance(value, QuerySet):
            return _(", ").join(str(v) for v in value)
        return str(value)
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(field, forms.ChoiceField):
        labels = {}
        choices: Any = field.choices  # a list once the field is made
        for key, label in choices:
            if isinstance(label, (list, tuple)):  # a group of choices
                labels.update({str(k): v for k, v in label})
            else:
                labels[str(key)] = label
        return str(labels.get(str(value), value))
    if isinstance(value, datetime.datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, datetime.date):
        return f"{value:%Y-%m-%d}"
    return str(value)


def form_page(
    request: HttpRequest,
    form: forms.BaseForm,
    *,
    template: str,
    save: Callable[[dict], Any],
    done: Callable[[Any], str] | str,
    then: Callable[[Any], Any] | str,
    context: Mapping | None = None,
) -> HttpResponse:
    """A page whose form a service saves: on a valid POST, ``save(cleaned_data)`` (the
    service) runs; its refusal is shown on the form (``apply_service_error``), its success
    as the message ``done`` (or ``done(saved)``) before a redirect to ``then`` (or
    ``then(saved)``: an object, a URL or a URL name). Otherwise the form is shown again."""
    if request.method == "POST" and form.is_valid():
        try:
            saved = save(form.cleaned_data)
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, done(saved) if callable(done) else done)
            return redirect(then(saved) if callable(then) else then)
    return render(request, template, {"form": form, **(context or {})})
