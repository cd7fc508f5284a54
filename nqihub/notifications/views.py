"""The notices page: the acting organisation's in-app notices (due reminders, decisions on
its applications), unread first; any of its members may mark one or all as read (a notice
belongs to the organisation, so it is read for all its members)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .models import Notice

app_name = "notifications"
PAGE_SIZE = 30


def unread_count(user) -> int:
    """For a header badge: how many of the acting organisation's notices are unread."""
    return Notice.objects.for_user(user).unread().count()


@login_required
def notice_list(request: HttpRequest) -> HttpResponse:
    notices = Notice.objects.for_user(request.user).order_by(F("read_at").asc(nulls_first=True), "-created_at", "-pk")
    page = Paginator(notices, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/notice_list.html",
        {"page": page, "unread": unread_count(request.user), "query": ""},
    )


@login_required
@require_POST
def notice_read(request: HttpRequest, pk: int) -> HttpResponse:
    notice = get_object_or_404(Notice.objects.for_user(request.user), pk=pk)
    if notice.read_at is None:
        Notice.objects.filter(pk=notice.pk, read_at__isnull=True).update(read_at=timezone.now())
    target = request.POST.get("next", "")
    if target == "link" and notice.link:
        target = notice.link
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("notifications:list")


@login_required
@require_POST
def notice_read_all(request: HttpRequest) -> HttpResponse:
    count = Notice.objects.for_user(request.user).unread().update(read_at=timezone.now())
    if count:
        messages.success(request, _("All notices are marked as read."))
    return redirect("notifications:list")


urlpatterns = [
    path("", notice_list, name="list"),
    path("<int:pk>/read/", notice_read, name="read"),
    path("read-all/", notice_read_all, name="read_all"),
]
