from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from nqihub.core.access import Capability, has_capability
from nqihub.core.views_base import search_terms
from nqihub.tables.writers import search_lines, xlsx_response

from .actions import label_for
from .filters import AuditEventFilter
from .models import AuditEvent, Outcome
from .services import audit_record
from .verify import verify_chain

EXPORT_LIMIT = 200_000


def _require_auditor(request: HttpRequest) -> None:
    if not has_capability(request.user, Capability.READ_AUDIT):
        raise PermissionDenied


def _search(request: HttpRequest) -> AuditEventFilter:
    return AuditEventFilter(
        request.GET or None, queryset=AuditEvent.objects.for_user(request.user, "view").order_by("-seq")
    )


@login_required
def event_list(request: HttpRequest) -> HttpResponse:
    _require_auditor(request)
    search = _search(request)
    page = Paginator(search.qs, 50).get_page(request.GET.get("page"))
    if request.GET:
        audit_record(
            action="audit.query",
            actor=request.user,
            details={
                "params": {k: v[:100] for k, v in request.GET.items() if k != "page"},
                "count": page.paginator.count,
            },
        )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/event_list.html",
        {"search": search, "page": page, "query": query.urlencode(), "outcomes": Outcome.choices},
    )


@login_required
def event_export(request: HttpRequest) -> HttpResponse:
    _require_auditor(request)
    search = _search(request)
    qs = search.qs
    audit_record(
        action="audit.export", actor=request.user, details={"params": {k: v[:100] for k, v in request.GET.items()}}
    )
    headers = [
        _("Sequence"),
        _("Time"),
        _("Account"),
        _("Organisation"),
        _("Action"),
        _("Object"),
        _("Outcome"),
        _("Source address"),
        _("Details"),
    ]
    rows = (
        [
            e.seq,
            timezone.localtime(e.occurred_at).strftime("%Y-%m-%d %H:%M:%S"),
            e.actor_username,
            e.organization_name,
            label_for(e.action),
            e.target_repr,
            e.get_outcome_display(),
            e.source_address,
            str(e.details)[:1000],
        ]
        for e in qs[:EXPORT_LIMIT].iterator(chunk_size=2000)
    )
    title = _("Audit trail")
    return xlsx_response(
        filename=_("audit-trail") + f"-{timezone.localdate():%Y%m%d}.xlsx",
        title=title,
        headers=headers,
        rows=rows,
        meta=search_lines(title, search_terms(search.form)),
    )


@login_required
@require_POST
def chain_verify(request: HttpRequest) -> HttpResponse:
    _require_auditor(request)
    report = verify_chain()
    audit_record(
        action="audit.verify",
        actor=request.user,
        outcome=Outcome.SUCCESS if report.ok else Outcome.FAILURE,
        details={"checked": report.checked, "first_bad_seq": report.first_bad_seq, "problem": report.problem},
    )
    if report.ok:
        messages.success(request, report.message())
    else:
        messages.error(request, report.message())
    return redirect("audit:list")
