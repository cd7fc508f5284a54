"""A page's direct Excel download, made one way: the read is recorded (``record_read`` with
``kind="export"``: whoever exports) and the workbook is written by the one writer, with the
lines above the header saying what was exported (the list, the period and filters in the
reader's language, when it was made), as the background exports write them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.http import HttpResponse

from nqihub.core.views_base import record_read

from .writers import search_lines, xlsx_response


def export_response(
    request: Any,
    *,
    model: Any,
    filename: str,
    title: Any,
    headers: Sequence[str],
    rows: Iterable[Sequence],
    count: int,
    terms: Iterable[tuple] = (),
    params: Mapping | None = None,
    **details: Any,
) -> HttpResponse:
    """The workbook of ``rows`` under ``headers`` as a download named ``filename``.
    ``count`` is the number of rows exported (recorded), ``terms`` the search as (label,
    value) pairs (``core.views_base.search_terms`` of the search form, or the period of a
    statistics page), ``params`` what the audit record keeps of the request (its query by
    default) and ``details`` further facts for the record (``truncated``, ``total``)."""
    record_read(request, model, count=count, params=params, kind="export", **details)
    return xlsx_response(
        filename=filename, title=str(title), headers=headers, rows=rows, meta=search_lines(title, list(terms))
    )
