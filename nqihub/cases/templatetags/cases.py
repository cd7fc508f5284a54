"""``{% case_panel case as panel %}``: what a case's page shows of its attachments and rating,
and what the reader may do there (attach materials, rate), for ``cases/_case_panel.html``."""

from __future__ import annotations

from django import template

from nqihub.cases.models import Case
from nqihub.cases.services import ATTACHMENT_TYPES, MAX_ATTACHMENT_BYTES

register = template.Library()


@register.simple_tag(takes_context=True)
def case_panel(context, case) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    if case is None or user is None:
        return {"case": None}
    applicant = Case.objects.for_user(user, "apply").filter(pk=case.pk).exists()
    kind = case.kind_spec
    return {
        "case": case,
        "attachments": list(case.attachments.all()),
        "takes_attachments": kind.attachments,
        "may_attach": applicant and kind.attachments and case.is_open,
        "rated": kind.rated,
        "may_rate": applicant and kind.rated and case.rating_score is None and (case.decided_at or case.closed_at),
        "accept": ",".join(f".{extension}" for extension in ATTACHMENT_TYPES),
        "max_mb": MAX_ATTACHMENT_BYTES // (1024 * 1024),
        "next": request.get_full_path(),
    }


@register.simple_tag
def case_deadlines(case) -> list:
    """The case's running countdowns, soonest first, for ``cases/_deadlines.html``."""
    from nqihub.cases.selectors import running_deadlines

    return running_deadlines(case)
