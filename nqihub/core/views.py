from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from nqihub.core.access import Capability, StaffRole, get_actor, has_capability
from nqihub.core.registries import home_context


@never_cache
def home(request: HttpRequest) -> HttpResponse:
    """Each role's own work on one page: the page is chosen by role, and its content comes
    from the panels the apps register for that audience (``core.registries``)."""
    user = request.user
    if not user.is_authenticated:
        return render(request, "core/landing.html")
    actor = get_actor(user)
    audience = _audience(user, actor)
    context: dict = {"actor": actor}
    context.update(home_context(user, audience))
    context["can_read_audit"] = has_capability(user, Capability.READ_AUDIT)
    return render(request, f"core/home_{audience}.html", context)


def _audience(user, actor) -> str:
    if user.staff_role == StaffRole.SYSTEM_ADMIN:
        return "system_admin"
    if user.staff_role == StaffRole.SECURITY_ADMIN:
        return "security_admin"
    if user.staff_role == StaffRole.AUDIT_ADMIN:
        return "audit_admin"
    if actor.is_regulator:
        return "regulator"
    if actor.organization is not None:
        return "organization"
    return "applicant"


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability, for load balancers and monitoring."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


def _error(request, status: int, title: str, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        code = {400: "bad_request", 403: "permission_denied", 404: "not_found", 500: "server_error"}[status]
        return JsonResponse({"detail": message, "code": code}, status=status)
    return render(request, "core/error.html", {"status": status, "title": title, "message": message}, status=status)


def bad_request(request, exception=None):
    return _error(request, 400, _("Bad request"), _("The request could not be understood."))


def refuse_bad_request(request, message: str):
    """A 400 page that says what was wrong with the request."""
    return _error(request, 400, _("Bad request"), message)


def permission_denied(request, exception=None):
    return _error(request, 403, _("Not allowed"), _("You do not have permission to do this."))


def page_not_found(request, exception=None):
    return _error(
        request, 404, _("Not found"), _("The page or record does not exist, or you are not allowed to see it.")
    )


def server_error(request):
    return _error(request, 500, _("Server error"), _("Something went wrong on our side. The error has been logged."))


def csrf_failure(request, reason=""):
    return _error(
        request,
        403,
        _("Form expired"),
        _(
            "The form was not accepted because it was sent from another page or has expired. Go back, reload the page and try again."
        ),
    )
