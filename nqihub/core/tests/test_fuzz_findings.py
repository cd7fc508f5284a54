"""What the API fuzzing run (``core/tests/attack/test_fuzz_api.py``) found, each kept as a quick
test. Every API answer a test receives is checked against the committed schema (the
``_api_responses_match_the_schema`` fixture), so an answer whose code the schema does not list
fails here."""

import pytest

pytestmark = pytest.mark.django_db


def test_a_null_character_in_a_filter_is_a_documented_refusal(world, api):
    client = api(world.users["kundulun"])
    response = client.get("/api/v1/divisions/", {"parent": "15\x00"})
    assert response.status_code == 400
    assert response.json()["code"] == "null_characters_not_allowed"


def test_a_form_with_more_fields_than_django_reads_is_a_documented_refusal(world, api):
    client = api(world.users["ent_manager"])
    body = "&".join(f"instrument_ids={n}" for n in range(1200))
    response = client.generic(
        "POST", "/api/v1/instrument-filings/", body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"


@pytest.mark.parametrize(
    "user, path",
    [
        ("kundulun", "/api/v1/cases/?kind=E%00x"),
        ("kundulun", "/api/v1/cases/?state=%00"),
        ("auditor", "/api/v1/audit-events/?username=a%00"),
    ],
)
def test_a_null_character_in_any_query_parameter_is_refused_before_the_database(world, api, user, path):
    # PostgreSQL cannot hold a NUL in text: the filter (or the recorded query) was a 500 there.
    response = api(world.users[user]).get(path)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "null_characters_not_allowed"
