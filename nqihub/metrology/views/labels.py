"""QR label sheets for instruments: ``metrology/instruments/labels.pdf``.

The sheet holds the instruments the user may see (an enterprise its own ledger, a regulator
its jurisdiction), optionally narrowed by ``ids=1,2,3`` (ids outside the user's scope are
simply not there: never an error that would reveal they exist) or by the ledger's simple
filters ``status`` and ``mandatory``. One file holds at most ``LABEL_LIMIT`` labels; a larger
selection comes in batches (``batch=2`` …) and every page of a partial file says which labels
it holds and how many there are in all. GET for links, POST for a long list of ticked ids.
Every sheet downloaded is recorded in the audit trail (``data.export``), whoever downloads it.
"""

from __future__ import annotations

import math

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from nqihub.core.views_base import record_read
from nqihub.documents.labels import render_label_sheet
from nqihub.documents.pdf import pdf_response

from ..models import Instrument

LABEL_LIMIT = 2_000  # labels in one file: about 7 s to render, 84 A4 pages
MAX_IDS = 20_000  # ids accepted in one request (bounded work; a selection that large uses filters)
TRUE_VALUES = {"1", "true", "yes", "on"}
FALSE_VALUES = {"0", "false", "no", "off"}


def _parse_ids(raw: str) -> list[int]:
    ids: list[int] = []
    for part in raw.replace(" ", ",").split(","):
        part = part.strip()
        if part.isdigit() and len(part) <= 18:
            ids.append(int(part))
    return ids


def _flag(raw: str | None) -> bool | None:
    value = (raw or "").strip().lower()
    if value in TRUE_VALUES:
        return True
    if value in FALSE_VALUES:
        return False
    return None


@login_required
@require_http_methods(["GET", "POST"])
def instrument_labels(request: HttpRequest) -> HttpResponse:
    params = request.POST if request.method == "POST" else request.GET
    instruments = Instrument.objects.for_user(request.user, "view")

    raw_ids = params.get("ids")
    if raw_ids is not None:
        ids = _parse_ids(raw_ids)
        if len(ids) > MAX_IDS:
            return HttpResponseBadRequest(
                f"最多可选 {MAX_IDS:,} 个计量器具打印标识；请改用筛选条件（状态、是否强检）分批打印。",
                content_type="text/plain; charset=utf-8",
            )
        instruments = instruments.filter(pk__in=ids)
    status = params.get("status")
    if status in Instrument.Status.values:
        instruments = instruments.filter(status=status)
    mandatory = _flag(params.get("mandatory"))
    if mandatory is not None:
        instruments = instruments.filter(is_mandatory=mandatory)

    total = instruments.count()
    batches = max(1, math.ceil(total / LABEL_LIMIT))
    try:
        batch = min(max(int(params.get("batch", 1)), 1), batches)
    except (TypeError, ValueError):
        batch = 1
    start = (batch - 1) * LABEL_LIMIT
    end = min(total, start + LABEL_LIMIT)
    note = ""
    if total > LABEL_LIMIT:
        note = (
            f"第 {batch}/{batches} 批：第 {start + 1:,}–{end:,} 枚，共 {total:,} 枚"
            f"（每份最多 {LABEL_LIMIT:,} 枚，其余请分批下载）"
        )

    # A label sheet is an export of ledger data: recorded for everyone, as exports are.
    record_read(
        request,
        Instrument,
        params={k: params[k] for k in ("ids", "status", "mandatory", "batch") if k in params},
        count=max(0, end - start),
        kind="export",
    )

    rows = (
        instruments.select_related("organization", "catalogue_item")
        .order_by("organization_id", "pk")[start:end]
        .iterator(chunk_size=500)
    )
    data = render_label_sheet(rows, note=note, request=request)
    suffix = f"-{batch}" if batches > 1 else ""
    day = f"{timezone.localdate():%Y%m%d}"
    response = pdf_response(
        data, f"计量器具标识-{day}{suffix}.pdf", ascii_filename=f"instrument-labels-{day}{suffix}.pdf"
    )
    response["X-Labels-Count"] = str(max(0, end - start))
    response["X-Labels-Total"] = str(total)
    return response


urlpatterns = [
    path("instruments/labels.pdf", instrument_labels, name="instrument_labels"),
]
