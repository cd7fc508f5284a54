"""The schema check every API test runs through (nqihub.testing.openapi): it must catch a
status the schema does not document and a body that breaks it."""

from __future__ import annotations

import json

import pytest
from django.http import HttpResponse, JsonResponse
from django.test.client import Client

from nqihub.testing.openapi import SchemaMismatch, check_response, find_operation


def _json(body, status=200):
    return JsonResponse(body, status=status, safe=False)


def test_an_undocumented_status_is_caught():
    with pytest.raises(SchemaMismatch, match="does not document"):
        check_response("GET", "/api/v1/me/", HttpResponse(status=418))


def test_a_body_that_breaks_the_schema_is_caught():
    with pytest.raises(SchemaMismatch, match="stats/metrology"):
        check_response("GET", "/api/v1/stats/metrology/", _json([{"code": "150000"}]))  # a list, not the object
    with pytest.raises(SchemaMismatch, match="code"):
        check_response("POST", "/api/v1/instruments/", _json({"detail": "x", "code": "no_such_code"}, 409))
    with pytest.raises(SchemaMismatch, match="detail"):
        check_response("GET", "/api/v1/organizations/", _json({"code": "not_authenticated"}, 401))


def test_documented_errors_pass():
    check_response("POST", "/api/v1/instruments/", _json({"detail": "x", "code": "factory_number_taken"}, 409))
    check_response(
        "POST", "/api/v1/instruments/", _json({"detail": "x", "code": "required", "errors": {"name": ["x"]}}, 400)
    )
    check_response("GET", "/api/v1/organizations/", _json({"detail": "x", "code": "session_expired"}, 401))


def test_literal_paths_win_over_templates():
    template, operation = find_operation("/api/v1/me/", "get")
    assert template == "/api/v1/me/" and operation["operationId"]


@pytest.mark.django_db
def test_every_test_client_checks_api_responses(world, api):
    """The suite-wide fixture is in place: the Django and DRF clients run the check."""
    assert Client.request.__name__ == "request" and Client.request.__module__ == "conftest"
    response = api(world.users["ent_manager"]).get("/api/v1/me/")
    assert response.status_code == 200
    json.loads(response.content)
