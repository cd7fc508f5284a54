"""The public check ``/verify/<code>/``: what anyone who scans a document's or a label's QR code
sees, without signing in. The kernel owns the address, the rate limit, the refusals and the
caching; the module that issued the code answers it (``registry.register_check``).

The code's form is checked (by the registered kinds, without a query) before any lookup; an
unknown or malformed code is a 404 with a clear message (a forged code looks like this).
``?format=json``, ``Accept: application/json`` or ``/verify/<code>.json`` give the same facts
as JSON for machines. Each client address may check ``NQI_VERIFY_RATE_PER_MINUTE`` codes a
minute (default 60; a fixed window counted once for the whole installation by
``nqihub.core.ratelimit``, in the database or the Redis cache); beyond it, 429.

No session or CSRF cookie (the pages do not extend the site's base page, which carries
forms); shared caches may keep an answer but must ask again each time, so a revocation shows
at once. Only non-personal facts are shown: what each module puts in its public facts.
"""

from __future__ import annotations

import functools
import html
import re
from collections import OrderedDict
from threading import Lock

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import path
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.safestring import SafeData, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from nqihub.core import ratelimit
from nqihub.core.middleware import client_address

from .registry import classify_code

app_name = "verify"

RATE_WINDOW_SECONDS = 60

# The words of every check page, translated once per language and process (the check is the
# platform's busiest page: a template tag per label cost a tenth of a check).
PAGE_LABELS = {
    "site": gettext_lazy("NQI Hub"),
    "header": gettext_lazy("Public check of verification certificates"),
    "footer": gettext_lazy(
        "This page shows the platform's record at the time of the check. It contains no personal information."
    ),
    "check_code": gettext_lazy("Check code"),
    "checked_on": gettext_lazy("Checked on"),
}


@functools.lru_cache(maxsize=16)
def _page_labels(language: str) -> dict[str, str]:
    with translation.override(language):
        labels = {key: str(label) for key, label in PAGE_LABELS.items()}
    labels["icon"] = static("nqihub/favicon.svg")
    return labels


def page_labels() -> dict[str, str]:
    """The kernel's page words in the request's language (a module adds its own)."""
    return _page_labels(translation.get_language() or settings.LANGUAGE_CODE)


# --- pages ---------------------------------------------------------------------------------
#
# A check page is rendered from its template once per language and *shape* of its values, with
# a marker in place of every text value; each check then only escapes its values into the slots.
# Rendering the template per check (about 30 nodes, an ``extends``) cost half of a check. The
# shape is what the template can branch on: which values are missing (None), which texts are
# empty, any value that is not text, and the values named in ``branch`` (those the template
# compares, e.g. ``status``); two checks of the same shape get the same page around their
# values. So a template rendered this way must not filter or transform a text value (it may
# print it, test it for truth, or compare a ``branch`` value). The page is rendered without the
# request: no context processor runs (nothing of a visitor can end up in a kept page).

_SLOT = "\ue000{}\ue001"  # private-use characters: survive escaping, never in a template
_SLOT_RE = re.compile("\ue000(\\d+)\ue001")
_PAGES_KEPT = 512
_pages: OrderedDict[tuple, list] = OrderedDict()
_pages_lock = Lock()


def _shape(values: dict, branch: frozenset, texts: list) -> tuple:
    """The shape of ``values`` (see above), collecting its text values in ``texts``."""
    shape: list[tuple[str, object]] = []
    for key, value in values.items():
        if isinstance(value, str) and value and key not in branch:
            texts.append(value)
            shape.append((key, "safe" if isinstance(value, SafeData) else "text"))
        elif isinstance(value, dict):
            shape.append((key, _shape(value, branch, texts)))
        else:
            shape.append((key, repr(value)))
    return tuple(shape)


def _with_slots(values: dict, branch: frozenset, counter: list[int]) -> dict:
    """``values`` with a slot marker for each text value ``_shape`` collects (same order)."""
    marked: dict = {}
    for key, value in values.items():
        if isinstance(value, str) and value and key not in branch:
            marked[key] = _SLOT.format(counter[0])
            if isinstance(value, SafeData):
                marked[key] = mark_safe(marked[key])
            counter[0] += 1
        elif isinstance(value, dict):
            marked[key] = _with_slots(value, branch, counter)
        else:
            marked[key] = value
    return marked


def _parts(template_name: str, values: dict, labels: dict[str, str], branch: frozenset, texts: list) -> list:
    """The page's text between its slots, and per slot (text index, whether it is safe)."""
    page = render_to_string(template_name, {**_with_slots(values, branch, [0]), "t": labels})
    parts: list = []
    for i, part in enumerate(_SLOT_RE.split(page)):
        parts.append((int(part), isinstance(texts[int(part)], SafeData)) if i % 2 else part)
    return parts


STATUS_BRANCH = frozenset({"status"})


def render_page(template_name: str, values: dict, labels: dict[str, str], branch=STATUS_BRANCH) -> str:
    """The check page ``template_name`` for ``values`` (its context, with ``t`` = ``labels``,
    the page words of the current language), rendered as described above. Text values are
    escaped unless marked safe, as the template would escape them; only those the page
    prints are escaped."""
    branch = branch if isinstance(branch, frozenset) else frozenset(branch)
    texts: list[str] = []
    language = translation.get_language() or settings.LANGUAGE_CODE
    key = (template_name, language, branch, _shape(values, branch, texts))
    parts = _pages.get(key)
    if parts is None:
        parts = _parts(template_name, values, labels, branch, texts)
        with _pages_lock:
            _pages[key] = parts
            while len(_pages) > _PAGES_KEPT:
                _pages.popitem(last=False)
    escape = html.escape
    return "".join(
        part if part.__class__ is str else (texts[part[0]] if part[1] else escape(texts[part[0]], quote=True))
        for part in parts
    )


def page_response(
    template_name: str, values: dict, labels: dict[str, str], *, status: int = 200, **kwargs
) -> HttpResponse:
    """An HTML response of :func:`render_page`."""
    return HttpResponse(render_page(template_name, values, labels, **kwargs), status=status)


# --- rate limit ------------------------------------------------------------------------------


def rate_limited(request: HttpRequest) -> bool:
    """Whether this client address has used up this minute's checks (a fixed window counted
    in the installation's shared counters, ``nqihub.core.ratelimit``). A limit of 0 or less
    switches the check off."""
    limit = int(getattr(settings, "NQI_VERIFY_RATE_PER_MINUTE", 60))
    return ratelimit.hit("verify", client_address(request) or "-", limit=limit, window_seconds=RATE_WINDOW_SECONDS)


# --- views -----------------------------------------------------------------------------------


def _wants_json(request: HttpRequest, as_json: bool) -> bool:
    # META rather than request.GET / request.headers: both build a dictionary per request.
    if as_json or (request.META.get("QUERY_STRING") and request.GET.get("format") == "json"):
        return True
    accept = request.META.get("HTTP_ACCEPT", "")
    return "application/json" in accept and "text/html" not in accept


def _refusal(request, *, json: bool, status: int, code: str, detail: str, template: str) -> HttpResponse:
    response: HttpResponse
    if json:
        response = JsonResponse(
            {"detail": detail, "code": code}, status=status, json_dumps_params={"ensure_ascii": False}
        )
    else:
        response = page_response(template, {"detail": detail}, page_labels(), status=status)
    patch_cache_control(response, no_store=True, max_age=0)
    return response


def check(request: HttpRequest, code: str, as_json: bool = False) -> HttpResponse:
    """The public check of any registered code: the owning module's facts, as a page or JSON."""
    json = _wants_json(request, as_json)
    if rate_limited(request):
        response = _refusal(
            request,
            json=json,
            status=429,
            code="rate_limited",
            template="documents/verify_limited.html",
            detail=_("Too many checks from your address. Please wait a minute and try again."),
        )
        response["Retry-After"] = str(RATE_WINDOW_SECONDS)
        return response
    parsed = classify_code(code)
    facts = parsed[0].lookup(parsed[1], timezone.localdate(), request) if parsed else None
    if facts is None:
        response = _refusal(
            request,
            json=json,
            status=404,
            code="not_found",
            template="documents/verify_not_found.html",
            detail=_(
                "No certificate, notice or instrument has the check code “%(code)s”. Check that it was entered "
                "correctly; a document whose code cannot be found here was not issued through this platform "
                "and may be forged."
            )
            % {"code": code[:40]},
        )
        # A code that is not on record is an answer, not a fault of the server: Django's warning
        # per 404 ("Not Found: ...") is left out (the access log still has the request), so a
        # stream of forged codes costs no log line each.
        response._has_been_logged = True  # type: ignore[attr-defined]
        return response
    assert parsed is not None  # facts were found, so the code was recognised
    if json:
        response = JsonResponse(facts, json_dumps_params={"ensure_ascii": False})
    else:
        facts["json_url"] = f"../{facts['code']}.json"  # relative to /verify/<code>/: no reverse() per check
        response = parsed[0].page(request, facts, page_labels())
    # Shared caches may keep the page, but must ask again each time: a revocation counts at once.
    patch_cache_control(response, public=True, no_cache=True, max_age=0)
    patch_vary_headers(response, ["Accept"])
    return response


def check_json(request: HttpRequest, code: str) -> HttpResponse:
    return check(request, code, as_json=True)


urlpatterns = [
    path("<str:code>.json", check_json, name="check_json"),
    path("<str:code>/", check, name="check"),
]
