from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.validators import ProhibitNullCharactersValidator
from django.http import HttpRequest, HttpResponse
from django.views.defaults import bad_request

from . import context
from .inputs import null_character_field


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

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        """A NUL character in a page's query (``?q=%00``) or in a form's field is refused with
        400 and Django's own message before any view sees it: PostgreSQL cannot hold it in a
        text parameter, so a filter, the sign-in's failure count or the record of a regulator's
        query would end in a 500 (and no field of any form accepts it). The API refuses it in
        its base view, with its error code. A plain substring test first: the public check
        reads no ``request.GET``."""
        if request.path_info.startswith("/api/"):
            return None
        query = request.META.get("QUERY_STRING", "")
        suspect = [request.GET] if ("%00" in query or "\x00" in query) else []
        if request.method == "POST" and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            suspect.append(request.POST)
        if any(null_character_field(data) is not None for data in suspect):
            from .views import refuse_bad_request

            return refuse_bad_request(request, str(ProhibitNullCharactersValidator.message))
        return None

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """A number no database column holds (``/instruments/<thirty digits>/``, a filter of
        thirty digits) makes SQLite's driver raise OverflowError: it names no row, so the page
        answers 400 like any other malformed request, not 500."""
        if isinstance(exception, OverflowError):
            return bad_request(request, exception)
        return None


def _signed_in(request: HttpRequest) -> bool:
    """Whether a signed-in person made the request, without opening a session nobody sent:
    an anonymous visitor with no session cookie (the public ``/verify/`` page) is answered
    without a session read, so the check itself costs no statement and sets no cookie."""
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return False
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


def _is_download(response: HttpResponse) -> bool:
    """A file handed over to keep (an export, a PDF, an attachment, an import's error workbook)."""
    if getattr(response, "streaming", False) and hasattr(response, "file_to_stream"):
        return True
    return response.get("Content-Disposition", "").lower().startswith(("attachment", "inline;"))


class SecurityHeadersMiddleware:
    """Sets the headers a browser needs to keep the site's pages to themselves.

    * ``Content-Security-Policy`` (``NQI_CONTENT_SECURITY_POLICY``): scripts, styles, images
      and forms only from the site itself; no inline script or style, no plug-in, no framing.
      Templates carry no inline code (a test keeps it so), so an injected ``<script>`` or
      ``style=`` does nothing.
    * ``Permissions-Policy`` (``NQI_PERMISSIONS_POLICY``): no page uses the camera, the
      microphone, the position, payment or a USB device, so none may.
    * ``Cache-Control: private, no-store`` on every answer to a signed-in person, every
      ``/api/`` answer (errors included) and every download: a shared computer's browser
      cache or a proxy keeps no copy of a ledger, a certificate or an API answer.
      Public anonymous pages (``/verify/``, the landing page) stay cacheable as before.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if settings.NQI_CONTENT_SECURITY_POLICY and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = settings.NQI_CONTENT_SECURITY_POLICY
        if settings.NQI_PERMISSIONS_POLICY and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = settings.NQI_PERMISSIONS_POLICY
        if request.path.startswith("/api/") or _is_download(response) or _signed_in(request):
            response["Cache-Control"] = "private, no-store"
        return response
