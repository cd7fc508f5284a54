"""Input that used to end in a 500: a number no database column holds, and JSON nested deeper
than the decoder goes. Each is a clear 400 (or, where the database can compare the number and
finds nothing, an ordinary empty answer), never a server error."""

import pytest

pytestmark = pytest.mark.django_db

HUGE = "9" * 30


def test_a_thirty_digit_filter_on_the_api_is_not_a_server_error(world, api):
    client = api(world.users["ent_manager"])
    response = client.get(f"/api/v1/documents/?instrument={HUGE}")
    # SQLite's driver cannot hold the number (400); PostgreSQL compares it and finds nothing.
    assert response.status_code in (200, 400), response.content
    if response.status_code == 400:
        assert response.json()["code"] == "invalid"
        assert response.json()["detail"] == "请求中的数字过大。"
    else:
        assert response.json()["count"] == 0


def test_a_thirty_digit_id_in_a_page_path_is_not_a_server_error(world, web):
    client = web(world.users["ent_manager"])
    response = client.get(f"/metrology/instruments/{HUGE}/")
    assert response.status_code in (400, 404)


def test_json_nested_a_hundred_thousand_deep_is_a_parse_error(world, api):
    client = api(world.users["ent_manager"])
    body = "[" * 100_000 + "]" * 100_000
    response = client.generic("POST", "/api/v1/instruments/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_json_of_ordinary_depth_still_reaches_the_service(world, api):
    client = api(world.users["ent_manager"])
    response = client.post("/api/v1/instruments/", {"name": ["nested", ["list"]]}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] != "parse_error"


@pytest.mark.parametrize(
    "who, path",
    [
        ("auditor", "/audit/?username=a%00b"),
        ("auditor", "/audit/export.xlsx?username=%00"),
        ("kundulun", "/metrology/instruments/?q=%00"),
        ("kundulun", "/cases/?kind=%00"),
        ("ent_manager", "/metrology/instruments/?q=x%00&page=1"),
    ],
)
def test_a_nul_character_in_a_page_filter_is_a_bad_request(world, web, who, path):
    """PostgreSQL refuses a NUL in a text parameter (the driver raises): a page's filter with
    one is refused with 400 and a message, on SQLite and PostgreSQL alike, like the API."""
    response = web(world.users[who]).get(path)
    assert response.status_code == 400, (path, response.status_code)
    assert "空字符" in response.content.decode()


@pytest.mark.parametrize(
    "path, data",
    [
        ("/accounts/login/", {"username": "sec\x00admin", "password": "x"}),
        ("/accounts/login/", {"username": "secadmin", "password": "x\x00"}),
        ("/accounts/signup/", {"username": "new\x00name", "password1": "x", "password2": "x"}),
    ],
)
def test_a_nul_character_in_a_sign_in_or_sign_up_form_changes_nothing(world, client, path, data):
    """Refused with a message before anything reads the fields: the sign-in delay looks up
    failures by the typed name, and PostgreSQL cannot hold a NUL in a text parameter."""
    from axes.models import AccessAttempt

    before = AccessAttempt.objects.count()
    response = client.post(path, data)
    assert response.status_code == 400, response.status_code
    assert "空字符" in response.content.decode()
    assert AccessAttempt.objects.count() == before
