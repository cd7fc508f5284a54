from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.defaults import bad_request

from . import context


def client_address(request: HttpRequest) -> str:
    """The caller's address; behind NQI_PROXY_COUNT trusted proxies, the one they saw."""
    proxies = settings.NQI_PROXY_COUNT
    if proxies:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")


class RequestContextMiddleware:
    """Gives every request an id and remembers its source address for the audit trail."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        channel = "api" if request.path.startswith("/api/") else "web"
        ctx = context.RequestContext(
            source_address=client_address(request),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:200],
            channel=channel,
        )
        request.request_id = ctx.request_id  # type: ignore[attr-defined]
        with context.use(ctx):
            response = self.get_response(request)
        response["X-Request-ID"] = ctx.request_id
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """A number no database column holds (``/instruments/<thirty digits>/``, a filter of
        thirty digits) makes SQLite's driver raise OverflowError: it names no row, so the page
        answers 400 like any other malformed request, not 500."""
        if isinstance(exception, OverflowError):
            return bad_request(request, exception)
        return None
