"""The API's contract: versioned paths, a committed OpenAPI schema that must not drift,
interactive docs served by the project itself, error bodies with detail and code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import call_command

SCHEMA_FILE = Path(settings.BASE_DIR) / "schema" / "openapi.yaml"


def test_committed_schema_matches_the_code(tmp_path):
    generated = tmp_path / "openapi.yaml"
    call_command(
        "spectacular", "--api-version", "v1", "--lang", "en", "--file", str(generated), "--validate", "--fail-on-warn"
    )
    assert generated.read_text(encoding="utf-8") == SCHEMA_FILE.read_text(encoding="utf-8"), (
        "The API changed but schema/openapi.yaml was not regenerated: run `make schema` and commit it."
    )


def test_schema_paths_are_all_versioned():
    paths = re.findall(r"^  (/\S+):$", SCHEMA_FILE.read_text(encoding="utf-8"), flags=re.M)
    assert paths and all(p.startswith("/api/v1/") for p in paths)


@pytest.mark.django_db
def test_schema_and_docs_are_served_without_outside_assets(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and b"openapi: 3" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "swagger-ui" in html
    external = [u for u in re.findall(r'(?:src|href)="([^"]+)"', html) if u.startswith(("http:", "https:", "//"))]
    assert external == []
    asset = re.search(r'src="(/static/[^"]+swagger-ui-bundle\.js)"', html)
    assert asset and client.get(asset.group(1)).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_served_schema_is_the_committed_one_in_every_language(client, language):
    client.cookies["nqi_language"] = language
    served = client.get("/api/schema/", HTTP_ACCEPT_LANGUAGE=language)
    assert served.status_code == 200
    assert served.content.decode("utf-8") == SCHEMA_FILE.read_text(encoding="utf-8")
    as_json = client.get("/api/schema/?format=json&lang=" + language, HTTP_ACCEPT_LANGUAGE=language)
    assert as_json.json() == yaml.safe_load(SCHEMA_FILE.read_text(encoding="utf-8"))


def test_every_operation_documents_its_error_responses():
    schema = yaml.safe_load(SCHEMA_FILE.read_text(encoding="utf-8"))
    components = schema["components"]["schemas"]
    operations = [(path, method, op) for path, item in schema["paths"].items() for method, op in item.items()]
    assert len(operations) > 60
    for path, method, op in operations:
        statuses = {"400", "401", "403", "404"} | ({"409"} if method != "get" else set())
        assert statuses <= set(op["responses"]), (method, path)
        for status in statuses:
            ref = op["responses"][status]["content"]["application/json"]["schema"]["$ref"]
            body = components[ref.rsplit("/", 1)[1]]
            assert body["required"] == ["detail", "code"]
            assert body["properties"]["code"]["enum"], (method, path, status)
    create_instrument = schema["paths"]["/api/v1/instruments/"]["post"]["responses"]
    conflict = components[create_instrument["409"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]]
    assert "factory_number_taken" in conflict["properties"]["code"]["enum"]
    unauthenticated = components["NotAuthenticatedError"]["properties"]["code"]["enum"]
    assert {"not_authenticated", "invalid_token", "session_expired"} <= set(unauthenticated)


def test_statistics_are_documented_as_one_object():
    schema = yaml.safe_load(SCHEMA_FILE.read_text(encoding="utf-8"))
    for path in ("/api/v1/stats/metrology/", "/api/v1/stats/waivers/"):
        body = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert "$ref" in body and body.get("type") != "array"


@pytest.mark.django_db
def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok", "database": "ok"}


@pytest.mark.django_db
def test_error_bodies_have_detail_and_code(world, api, client):
    unauthenticated = client.get("/api/v1/organizations/")
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["code"] == "not_authenticated"
    c = api(world.users["ent_manager"])
    for response, status, code in [
        (c.get("/api/v1/organizations/999999/"), 404, "not_found"),
        (c.delete(f"/api/v1/organizations/{world.ent_kundulun.pk}/"), 405, "method_not_allowed"),
        (c.get("/api/v1/no-such-endpoint/"), 404, "not_found"),
        (c.post("/api/v1/organizations/", {"kind": "enterprise"}, format="json"), 403, "permission_denied"),
    ]:
        assert response.status_code == status
        assert response.json()["code"] == code
        assert response.json()["detail"]


@pytest.mark.django_db
def test_pages_without_scope_render_the_translated_404(world, web):
    response = web(world.users["ent_manager"]).get(f"/organizations/{world.ent_xincheng.pk}/")
    assert response.status_code == 404
    assert "core/error.html" in [t.name for t in response.templates]


@pytest.mark.django_db
def test_divisions_api_reads_the_tree(world, api):
    client = api(world.users["ent_manager"])
    body = client.get("/api/v1/divisions/", {"within": "150200", "is_current": "true", "page_size": 100}).json()
    codes = {d["code"] for d in body["results"]}
    assert "150200" in codes and "150203" in codes and "150102" not in codes
    assert client.get("/api/v1/divisions/152100/").json()["is_current"] is False  # historic 呼伦贝尔盟
