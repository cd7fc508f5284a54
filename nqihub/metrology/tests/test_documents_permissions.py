# ruff: noqa: F811  (pytest fixtures imported from test_documents are used as parameters)
"""Reissue and revoke check permission before input: whoever may not act is refused as such
(403 or 404, recorded as denied) whatever reason they send, sees no forms and changes nothing;
the forms are offered to whom ``IssuedDocument.objects.for_user(user, "manage")`` allows."""

from __future__ import annotations

import pytest

from nqihub.audit.models import AuditEvent
from nqihub.core.access import MembershipRole
from nqihub.core.errors import Forbidden, InvalidInput, NotFound
from nqihub.metrology.models import Instrument, IssuedDocument
from nqihub.metrology.services.documents import MAX_REASON_LENGTH, document_reissue, document_revoke
from nqihub.testing.factories import MembershipFactory, UserFactory

from .test_documents import (  # noqa: F401  (fixtures)
    api,
    issued,
    make_result,
    other_institution,
    periodic_item,
    signers,
)

FORM_MARKERS = ('data-testid="revoke"', 'data-testid="reissue"', 'name="reason"')


@pytest.fixture
def inst_viewer(world):
    """A read-only member of the issuing institution: sees its documents, may not manage them."""
    user = UserFactory(username="inst_viewer")
    MembershipFactory(user=user, organization=world.institution, role=MembershipRole.VIEWER)
    world.users["inst_viewer"] = user
    return user


def _snapshot():
    return (
        list(IssuedDocument.objects.order_by("pk").values_list("pk", "number", "state", "revoked_reason")),
        list(Instrument.objects.order_by("pk").values_list("pk", "next_due_on")),
    )


def _last(action: str) -> AuditEvent:
    return AuditEvent.objects.filter(action=action).latest("seq")


# --- service ---------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "   ", None, "x" * (MAX_REASON_LENGTH + 1), ["not", "text"], "误发"])
@pytest.mark.parametrize(
    ("user", "error", "code"),
    [
        ("ent_manager", Forbidden, "permission_denied"),
        ("inst_viewer", Forbidden, "permission_denied"),
        ("kundulun", Forbidden, "permission_denied"),
        ("other_inst", NotFound, "not_found"),
        ("ent_other", NotFound, "not_found"),
    ],
)
def test_service_refuses_by_permission_whatever_the_reason(
    world, issued, inst_viewer, other_institution, user, error, code, reason
):
    before = _snapshot()
    for service, action in ((document_revoke, "document.revoke"), (document_reissue, "document.reissue")):
        with pytest.raises(error) as exc:
            service(actor=world.users[user], document=issued.pk, reason=reason)
        assert exc.value.code == code
        event = _last(action)
        assert (event.outcome, event.details["code"]) == ("denied", code)
    assert _snapshot() == before


@pytest.mark.parametrize(
    ("reason", "code"),
    [
        ("", "reason_required"),
        (None, "reason_required"),
        ("x" * (MAX_REASON_LENGTH + 1), "max_length"),
        (["not", "text"], "invalid"),
    ],
)
def test_the_institution_gets_the_input_errors(world, issued, reason, code):
    before = _snapshot()
    for service, action in ((document_revoke, "document.revoke"), (document_reissue, "document.reissue")):
        with pytest.raises(InvalidInput) as exc:
            service(actor=world.users["inst"], document=issued.pk, reason=reason)
        assert (exc.value.code, exc.value.field) == (code, "reason")
        event = _last(action)
        assert (event.outcome, event.details["code"]) == ("failure", code)
    assert _snapshot() == before
    assert (
        document_revoke(actor=world.users["inst"], document=issued.pk, reason="x" * MAX_REASON_LENGTH).state
        == "revoked"
    )


# --- pages -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["revoke", "reissue"])
@pytest.mark.parametrize("reason", ["", "误发"])
@pytest.mark.parametrize(
    ("user", "status", "code"),
    [
        ("ent_manager", 403, "permission_denied"),
        ("inst_viewer", 403, "permission_denied"),
        ("other_inst", 404, "not_found"),
    ],
)
def test_page_refuses_by_permission_without_forms(
    web, world, issued, inst_viewer, other_institution, path, reason, user, status, code
):
    before = _snapshot()
    response = web(world.users[user]).post(f"/metrology/documents/{issued.pk}/{path}/", {"reason": reason})
    assert response.status_code == status
    html = response.content.decode()
    for marker in FORM_MARKERS:
        assert marker not in html, marker
    assert _snapshot() == before
    event = _last(f"document.{path}")
    assert (event.outcome, event.details["code"]) == ("denied", code)


def test_forms_are_offered_to_whom_may_manage(web, world, issued, inst_viewer):
    url = f"/metrology/documents/{issued.pk}/"
    assert all(m in web(world.users["inst"]).get(url).content.decode() for m in FORM_MARKERS)
    for user in ("inst_viewer", "ent_manager", "kundulun"):
        html = web(world.users[user]).get(url).content.decode()
        assert not any(m in html for m in FORM_MARKERS), user
    # The institution's own input error: the page again, with its forms and the reason kept.
    response = web(world.users["inst"]).post(f"{url}revoke/", {"reason": " "})
    assert response.status_code == 400 and all(m in response.content.decode() for m in FORM_MARKERS)


def test_forms_follow_the_queryset_not_only_the_state(web, world, issued, monkeypatch):
    """A valid document is not enough: without ``manage`` in the queryset there are no forms,
    also on the page shown again after a refused post."""
    from nqihub.metrology.querysets import IssuedDocumentQuerySet

    original = IssuedDocumentQuerySet.for_user

    def without_manage(self, user, action="view"):
        return self.none() if action == "manage" else original(self, user, action)

    monkeypatch.setattr(IssuedDocumentQuerySet, "for_user", without_manage)
    client = web(world.users["inst"])
    html = client.get(f"/metrology/documents/{issued.pk}/").content.decode()
    assert not any(m in html for m in FORM_MARKERS)
    response = client.post(f"/metrology/documents/{issued.pk}/revoke/", {"reason": ""})
    assert response.status_code == 403 and not any(m in response.content.decode() for m in FORM_MARKERS)


# --- API -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["revoke", "reissue"])
@pytest.mark.parametrize(
    "body", [{"reason": ""}, {}, {"reason": "x" * (MAX_REASON_LENGTH + 1)}, {"reason": ["x"]}, {"reason": "误发"}]
)
@pytest.mark.parametrize(
    ("user", "status", "code"),
    [
        ("ent_manager", 403, "permission_denied"),
        ("inst_viewer", 403, "permission_denied"),
        ("other_inst", 404, "not_found"),
    ],
)
def test_api_refuses_by_permission_whatever_the_body(
    api, world, issued, inst_viewer, other_institution, path, body, user, status, code
):
    before = _snapshot()
    response = api(world.users[user]).post(f"/api/v1/documents/{issued.pk}/{path}/", body, format="json")
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert _snapshot() == before
    event = _last(f"document.{path}")
    assert (event.outcome, event.details["code"]) == ("denied", code)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"reason": ""}, "reason_required"),
        ({}, "reason_required"),
        ({"reason": None}, "reason_required"),
        ({"reason": "x" * (MAX_REASON_LENGTH + 1)}, "max_length"),
        ({"reason": ["x"]}, "invalid"),
    ],
)
def test_api_input_errors_for_the_institution(api, world, issued, body, code):
    before = _snapshot()
    response = api(world.users["inst"]).post(f"/api/v1/documents/{issued.pk}/revoke/", body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == code and "reason" in response.json()["errors"]
    assert _snapshot() == before
