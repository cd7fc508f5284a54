"""The security headers (docs/security.md): a strict Content-Security-Policy and a
Permissions-Policy on pages, ``Cache-Control: private, no-store`` on what belongs to a signed-in
person, on every API answer and on every download, public anonymous pages left cacheable; and
no template carries inline code the policy would block."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.http import FileResponse, HttpResponse
from django.test import RequestFactory

from nqihub.core.middleware import SecurityHeadersMiddleware

TEMPLATES = Path(settings.BASE_DIR) / "nqihub" / "templates"


def _strict(response):
    csp = response["Content-Security-Policy"]
    for part in (
        "default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'",
        "base-uri 'self'", "form-action 'self'", "frame-ancestors 'none'",
    ):  # fmt: skip
        assert part in csp, (part, csp)
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    policy = response["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"):
        assert feature in policy, (feature, policy)


def _no_store(response):
    directives = {d.strip() for d in response.get("Cache-Control", "").split(",")}
    return {"no-store", "private"} <= directives


def test_signed_in_page(world, web):
    response = web(world.users["applicant"]).get("/")
    assert response.status_code == 200
    _strict(response)
    assert _no_store(response), response.get("Cache-Control")


def test_api_answers_are_not_stored_errors_included(world, api, client):
    ok = api(world.users["applicant"]).get("/api/v1/divisions/")
    assert ok.status_code == 200
    assert _no_store(ok), ok.get("Cache-Control")
    for path in ("/api/v1/divisions/", "/api/v1/no-such-thing/"):
        refused = client.get(path)
        assert refused.status_code in (401, 403, 404), path
        assert _no_store(refused), (path, refused.get("Cache-Control"))


def test_public_anonymous_pages_keep_their_caching(db, client):
    """The landing page decides its own caching as before; the public check stays cacheable."""
    landing = client.get("/")
    assert landing.status_code == 200
    _strict(landing)
    response = client.get("/verify/ABCDEFGHJKMNPQRS/")
    assert response.status_code == 404
    _strict(response)
    # Its own caching (the view's), not the private marking of a signed-in person's pages.
    assert "private" not in response.get("Cache-Control", "")
    assert not response.cookies


@pytest.mark.parametrize(
    "make",
    [
        lambda: FileResponse(iter([b"x"]), filename="ledger.xlsx", as_attachment=True),
        lambda: HttpResponse(b"%PDF", headers={"Content-Disposition": 'inline; filename="c.pdf"'}),
    ],
)
def test_a_download_is_never_stored_even_anonymous(make):
    """An export, a PDF, an attachment or an import's error workbook: whoever fetches it."""
    request = RequestFactory().get("/some/file/")
    response = SecurityHeadersMiddleware(lambda r: make())(request)
    assert _no_store(response), response.get("Cache-Control")


def test_download_of_a_signed_in_person(world, web):
    response = web(world.users["applicant"]).get("/downloads/")
    assert response.status_code == 200 and _no_store(response)


def test_settings_override_the_policies(rf, settings):
    settings.NQI_CONTENT_SECURITY_POLICY = "default-src 'none'"
    settings.NQI_PERMISSIONS_POLICY = ""
    response = SecurityHeadersMiddleware(lambda r: HttpResponse("x"))(rf.get("/"))
    assert response["Content-Security-Policy"] == "default-src 'none'"
    assert "Permissions-Policy" not in response


INLINE = [
    ("inline <script> with content", re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>\s*\S", re.I)),
    ("inline event handler", re.compile(r"<[^>]*\son[a-z]+\s*=", re.I)),
    ("style attribute", re.compile(r"<[^>]*\sstyle\s*=", re.I)),
    ("<style> block", re.compile(r"<style\b", re.I)),
]


def test_no_template_carries_inline_code():
    """The policy blocks inline scripts, handlers and styles: none may come back into a template."""
    found = []
    templates = sorted(TEMPLATES.rglob("*.html"))
    assert len(templates) > 50
    for path in templates:
        text = path.read_text(encoding="utf-8")
        for what, pattern in INLINE:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(TEMPLATES)}:{line}: {what}")
    assert not found, "\n".join(found)


def test_the_scan_catches_each_kind():
    samples = [
        '<script>alert(1)</script>', '<select onchange="go()">', '<td style="color:red">',
        "<style>p{}</style>",
    ]  # fmt: skip
    for sample, (what, pattern) in zip(samples, INLINE, strict=True):
        assert pattern.search(sample), what
    assert not any(p.search('<script src="/static/x.js" defer></script>') for _, p in INLINE)
