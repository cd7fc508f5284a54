"""Pages of issued documents (检定证书 / 检定结果通知书) for the parties.

The enterprise sees the documents it received, the institution those it issued, a regulator
those in its jurisdiction (each regulator read is recorded in the audit trail). Everyone who
sees a document downloads its stored PDF — the bytes issued, checked against their SHA-256 —
and every download is recorded, whoever makes it.
The issuing institution's working members reissue and revoke, with a reason; both go through
``nqihub.metrology.services.documents``.
"""

from __future__ import annotations

import unicodedata

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from nqihub.core.errors import Forbidden, ServiceError
from nqihub.core.views_base import record_read, scoped_object, searched_page
from nqihub.documents.certificates import document_filename
from nqihub.documents.pdf import pdf_response, public_check_url
from nqihub.documents.services import PdfMismatch, stored_pdf

from ..models import IssuedDocument
from ..services import documents as services

PAGE_SIZE = 50


def _related(documents):
    return documents.select_related("institution", "organization", "instrument", "result", "superseded_by")


def _visible(request: HttpRequest, action: str = "view"):
    return _related(IssuedDocument.objects.for_user(request.user, action))


def _get(request: HttpRequest, pk: int, action: str = "view") -> IssuedDocument:
    document = _visible(request, action).filter(pk=pk).first()
    if document is None:
        raise Http404
    return document


def _search_q(q: str) -> Q:
    """What the search box matches: a document number or an instrument's factory number in
    full (exact matches, which indexes serve on millions of documents; case, spaces and
    full-width characters are forgiven where the stored values allow), or part of the
    enterprise's name."""
    match = Q(organization__name__icontains=q)
    number = services.number_lookup(q)
    if number is not None:
        match |= Q(**number)
    # Factory numbers are stored as the enterprise typed them (trimmed, case kept): the text as
    # given, and in capitals and half-width as most are written.
    folded = unicodedata.normalize("NFKC", q).strip()
    factory_numbers = sorted({q, q.upper(), folded, folded.upper()})
    return match | Q(instrument__factory_number__in=factory_numbers)


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
        documents = documents.filter(_search_q(q))
    page = searched_page(request, documents, per_page=PAGE_SIZE)
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
    document = scoped_object(request, _related(IssuedDocument.objects.all()), pk)
    return render(request, "metrology/document_detail.html", _detail_context(request, document))


def _detail_context(request: HttpRequest, document: IssuedDocument, **extra) -> dict:
    # The reissue and revoke forms are offered to whom the services allow them: the issuing
    # institution's working members ("manage"), while the document is still valid.
    can_manage = (
        document.state == IssuedDocument.State.VALID
        and IssuedDocument.objects.for_user(request.user, "manage").filter(pk=document.pk).exists()
    )
    return {
        "document": document,
        "status": document.status_on(timezone.localdate()),
        "check_url": public_check_url(document.public_code, request),
        "supersedes": IssuedDocument.objects.filter(superseded_by=document).only("pk", "number").first(),
        "can_manage": can_manage,
        "reason_max": services.MAX_REASON_LENGTH,
        **extra,
    }


@login_required
def document_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The stored PDF as issued; refused (500-free) if the stored bytes no longer match. Every
    download is recorded (``data.export``), whoever makes it, as exports are."""
    document = _get(request, pk, "download")
    try:
        data = stored_pdf(document)  # rendered now if the after-commit rendering has not run
    except PdfMismatch:
        raise Http404 from None  # never hand out a file that is not what was issued
    record_read(request, IssuedDocument, params={"id": pk, "number": document.number}, count=1, kind="export")
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
            _detail_context(request, document, reason=request.POST.get("reason", "")),
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
