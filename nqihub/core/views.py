from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from nqihub.core.access import Capability, StaffRole, get_actor, has_capability


@never_cache
def home(request: HttpRequest) -> HttpResponse:
    """Each role's own work on one page."""
    user = request.user
    if not user.is_authenticated:
        return render(request, "core/landing.html")
    from nqihub.organizations import selectors as org_selectors

    actor = get_actor(user)
    context: dict = {"actor": actor}
    if user.staff_role == StaffRole.SYSTEM_ADMIN:
        context.update(org_selectors.system_admin_dashboard(user))
        template = "core/home_system_admin.html"
    elif user.staff_role == StaffRole.SECURITY_ADMIN:
        from nqihub.accounts import selectors as account_selectors

        context.update(account_selectors.security_dashboard(user))
        template = "core/home_security_admin.html"
    elif user.staff_role == StaffRole.AUDIT_ADMIN:
        from nqihub.audit import selectors as audit_selectors

        context.update(audit_selectors.audit_dashboard(user))
        template = "core/home_audit_admin.html"
    elif actor.is_regulator:
        context.update(org_selectors.regulator_dashboard(user))
        template = "core/home_regulator.html"
    elif actor.organization is not None:
        context.update(org_selectors.organization_dashboard(user))
        template = "core/home_organization.html"
    else:
        context.update(org_selectors.applicant_dashboard(user))
        template = "core/home_applicant.html"
    if actor.organization is not None:
        from nqihub.metrology.selectors import home_summary

        context["metrology"] = home_summary(user)
    context["can_read_audit"] = has_capability(user, Capability.READ_AUDIT)
    return render(request, template, context)


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
        _("The form was not accepted because it was sent from another page or has expired. Go back, reload the page and try again."),
    )
