"""Pages of issued documents (检定证书 / 检定结果通知书) for the parties.

The enterprise sees the documents it received, the institution those it issued, a regulator
those in its jurisdiction (each regulator read is recorded in the audit trail). Everyone who
sees a document downloads its stored PDF — the bytes issued, checked against their SHA-256.
The issuing institution's working members reissue and revoke, with a reason; both go through
``nqihub.metrology.services.documents``.
"""

from __future__ import annotations

import hashlib

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from nqihub.core.access import get_actor
from nqihub.core.auditing import record_regulator_query
from nqihub.core.errors import Forbidden, ServiceError
from nqihub.documents.certificates import document_filename
from nqihub.documents.pdf import pdf_response, public_check_url

from ..models import IssuedDocument
from ..services import documents as services

PAGE_SIZE = 50


def _visible(request: HttpRequest):
    return services.IssuedDocument.objects.for_user(request.user, "view").select_related(
        "institution", "organization", "instrument", "result", "superseded_by"
    )


def _get(request: HttpRequest, pk: int) -> IssuedDocument:
    document = _visible(request).filter(pk=pk).first()
    if document is None:
        raise Http404
    return document


@login_required
def document_list(request: HttpRequest) -> HttpResponse:
    documents = _visible(request).order_by("-issued_at", "-pk")
    kind = request.GET.get("kind", "")
    if kind in IssuedDocument.Kind.values:
        documents = documents.filter(kind=kind)
    state = request.GET.get("state", "")
    if state in IssuedDocument.State.values:
        documents = documents.filter(state=state)
    q = request.GET.get("q", "").strip()[:100]
    if q:
        documents = documents.filter(
            Q(number__icontains=q) | Q(instrument__factory_number__icontains=q) | Q(organization__name__icontains=q)
        )
    page = Paginator(documents, PAGE_SIZE).get_page(request.GET.get("page"))
    if get_actor(request.user).is_regulator:
        record_regulator_query(user=request.user, model=IssuedDocument, params=request.GET, count=page.paginator.count)
    return render(
        request,
        "metrology/document_list.html",
        {
            "page": page,
            "kinds": IssuedDocument.Kind.choices,
            "states": IssuedDocument.State.choices,
            "kind": kind,
            "state": state,
            "q": q,
        },
    )


@login_required
def document_detail(request: HttpRequest, pk: int) -> HttpResponse:
    document = _get(request, pk)
    if get_actor(request.user).is_regulator:
        record_regulator_query(user=request.user, model=IssuedDocument, params={"id": pk}, count=1, kind="detail")
    can_manage = (
        document.state == IssuedDocument.State.VALID
        and services.IssuedDocument.objects.for_user(request.user, "manage").filter(pk=pk).exists()
    )
    return render(
        request,
        "metrology/document_detail.html",
        {
            "document": document,
            "status": document.status_on(timezone.localdate()),
            "check_url": public_check_url(document.public_code, request),
            "supersedes": IssuedDocument.objects.filter(superseded_by=document).only("pk", "number").first(),
            "can_manage": can_manage,
        },
    )


@login_required
def document_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The stored PDF as issued; refused (500-free) if the stored bytes no longer match."""
    document = _get(request, pk)
    if get_actor(request.user).is_regulator:
        record_regulator_query(user=request.user, model=IssuedDocument, params={"id": pk}, count=1, kind="export")
    if not document.pdf:
        raise Http404
    with document.pdf.open("rb") as fh:
        data = fh.read()
    if document.pdf_sha256 and hashlib.sha256(data).hexdigest() != document.pdf_sha256:
        raise Http404  # never hand out a file that is not what was issued
    return pdf_response(
        data,
        document_filename(document),
        inline=request.GET.get("inline") == "1",
        ascii_filename=f"{document.number}.pdf",
    )


def _act(request: HttpRequest, pk: int, service, success: str) -> HttpResponse:
    try:
        result = service(actor=request.user, document=pk, reason=request.POST.get("reason", ""))
    except ServiceError as exc:
        if isinstance(exc, Forbidden):
            raise PermissionDenied(str(exc.message)) from None  # the site's 403 page
        if exc.status_code == 404:
            raise Http404 from None
        messages.error(request, exc.message)
        document = _get(request, pk)
        return render(
            request,
            "metrology/document_detail.html",
            {
                "document": document,
                "status": document.status_on(timezone.localdate()),
                "check_url": public_check_url(document.public_code, request),
                "supersedes": IssuedDocument.objects.filter(superseded_by=document).only("pk", "number").first(),
                "can_manage": document.state == IssuedDocument.State.VALID,
                "reason": request.POST.get("reason", ""),
            },
            status=exc.status_code,
        )
    messages.success(request, success % {"number": result.number})
    return redirect("metrology:document_detail", pk=result.pk)


@login_required
@require_POST
def document_reissue(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, services.document_reissue, _("Document %(number)s was issued in place of the old one."))


@login_required
@require_POST
def document_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, services.document_revoke, _("Document %(number)s was revoked."))


urlpatterns = [
    path("documents/", document_list, name="document_list"),
    path("documents/<int:pk>/", document_detail, name="document_detail"),
    path("documents/<int:pk>/pdf/", document_pdf, name="document_pdf"),
    path("documents/<int:pk>/reissue/", document_reissue, name="document_reissue"),
    path("documents/<int:pk>/revoke/", document_revoke, name="document_revoke"),
]
