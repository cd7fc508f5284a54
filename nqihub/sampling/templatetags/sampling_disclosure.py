"""``{% batch_disclosure_panel batch %}``: the closing and publishing of a batch on any page that
shows the batch (the batch page includes ``sampling/_batch_disclosure.html``), with the state,
the due day, whether it is overdue and the buttons the reader may use."""

from __future__ import annotations

from django import template

from ..models import Batch, SamplingRecord
from ..services.disclosure import SETTLED_STAGES, disclosure_overdue

register = template.Library()


@register.inclusion_tag("sampling/_batch_disclosure_panel.html", takes_context=True)
def batch_disclosure_panel(context, batch):
    request = context.get("request")
    user = getattr(request, "user", None)
    can_manage = bool(
        user is not None
        and user.is_authenticated
        and Batch.objects.for_user(user, "manage").filter(pk=batch.pk).exists()
    )
    open_records = None
    if batch.state == Batch.State.SAMPLING:
        open_records = SamplingRecord.objects.filter(batch=batch).exclude(stage__in=SETTLED_STAGES).count()
    return {
        "batch": batch,
        "can_manage": can_manage,
        "open_records": open_records,
        "overdue": disclosure_overdue(batch),
        "next": request.get_full_path() if request is not None else "",
        "csrf_token": context.get("csrf_token"),
    }
