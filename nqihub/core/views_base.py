"""The reads every list and detail page does the same way: apply ``for_user`` and, when the
reader is a regulator, record the query in the audit trail. Pages call these instead of
filtering or calling the recorder themselves."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from nqihub.core.access import get_actor
from nqihub.core.auditing import record_regulator_query


def scoped_page(request: HttpRequest, queryset: QuerySet, *, per_page: int, action: str = "view") -> Page:
    """One page of ``queryset`` limited to what the user may ``action``; a regulator's read
    is recorded with the request's parameters and the number of rows found."""
    scoped: Any = queryset
    page = Paginator(scoped.for_user(request.user, action), per_page).get_page(request.GET.get("page"))
    if get_actor(request.user).is_regulator:
        record_regulator_query(user=request.user, model=queryset.model, params=request.GET, count=page.paginator.count)
    return page


def scoped_object(request: HttpRequest, queryset: QuerySet, pk: Any, *, action: str = "view", record: bool = True) -> Any:
    """The object ``pk`` if the user may ``action`` it, else 404 (as for a guessed id); a
    regulator's read is recorded unless ``record`` is false (e.g. their own application)."""
    scoped: Any = queryset
    obj = get_object_or_404(scoped.for_user(request.user, action), pk=pk)
    if record and get_actor(request.user).is_regulator:
        record_regulator_query(user=request.user, model=queryset.model, params={"id": pk}, count=1, kind="detail")
    return obj
