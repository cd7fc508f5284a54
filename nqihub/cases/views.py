"""Pages of casework of every kind: "my cases" (我的办件), and on each case's own page (through
the ``cases/_case_panel.html`` include) its attachments and rating: uploading materials,
downloading them, rating a decided case. Reads go through ``Case.objects.for_user``; writes go
through the services, whose refusals are shown as messages."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from nqihub.core.errors import NotFound, ServiceError
from nqihub.core.views_base import scoped_page

from . import kinds as case_kinds
from . import selectors, services
from .models import Case

app_name = "cases"
PAGE_SIZE = 50
FILTERS = ("kind", "state", "overdue")


@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    """我的办件: the cases the user may see, all kinds together, newest first."""
    chosen = {name: str(request.GET.get(name, ""))[:40] for name in FILTERS}
    qs = selectors.case_list(Case.objects.all(), **chosen)
    page = scoped_page(request, qs, per_page=PAGE_SIZE)
    query = "&".join(f"{name}={value}" for name, value in chosen.items() if value)
    return render(
        request,
        "cases/case_list.html",
        {
            "page": page,
            "chosen": chosen,
            "query": query,
            "kinds": case_kinds.choices(),
            "states": Case.State.choices,
        },
    )


def _back(request: HttpRequest, case_pk) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    case = Case.objects.for_user(request.user, "view").filter(pk=case_pk).first()
    return redirect(case.page_url if case is not None and case.page_url else "cases:list")


@login_required
@require_POST
def case_attach(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        attachment = services.case_attach_material(pk, actor=request.user, upload=request.FILES.get("file"))
    except NotFound:
        raise Http404 from None
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(name)s was attached.") % {"name": attachment.name})
    return _back(request, pk)


@login_required
@require_POST
def case_rate(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        services.case_rate_by_applicant(
            pk, actor=request.user, score=request.POST.get("score"), comment=request.POST.get("comment", "")
        )
    except NotFound:
        raise Http404 from None
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Thank you for your rating."))
    return _back(request, pk)


@login_required
def attachment_download(request: HttpRequest, pk: int, attachment: int) -> FileResponse:
    """A case's file, only for those who may see the case (never a public media URL)."""
    try:
        found = services.case_attachment_for_download(pk, attachment, actor=request.user)
    except NotFound:
        raise Http404 from None
    response = FileResponse(
        found.file.open("rb"), as_attachment=True, filename=found.name, content_type=found.content_type
    )
    response["Cache-Control"] = "private, no-store"
    return response


urlpatterns = [
    path("", case_list, name="list"),
    path("<int:pk>/attach/", case_attach, name="attach"),
    path("<int:pk>/rate/", case_rate, name="rate"),
    path("<int:pk>/files/<int:attachment>/", attachment_download, name="attachment"),
]
