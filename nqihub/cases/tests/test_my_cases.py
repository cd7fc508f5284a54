"""我的办件: one list of the cases a person may see, all kinds together, on a page and in the API,
filtered by kind, state and overdue, newest first, each linking to its module's page. Scope tests
try to cross the line: another enterprise's case is not listed, a guessed filter shows nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from nqihub.cases import services as cases
from nqihub.cases.models import Case
from nqihub.organizations import services as registration_services
from nqihub.testing.factories import valid_code

from .test_kernel import TEST_KIND  # noqa: F401  (registers the test kind)

ROW = re.compile(r'<tr(?: class="overdue")?>\s*<td>(?:<a href="([^"]*)">)?([A-Z]+\d+)')


@pytest.fixture
def listed(world):
    users = world.users
    registration = registration_services.registration_submit(
        actor=users["applicant"],
        data={
            "credit_code": valid_code(7401), "name": "包头办件测试有限公司", "division": "150203", "address": "a",
            "legal_representative": "b", "contact_name": "c", "contact_phone": "13900000000",
        },
    )  # fmt: skip
    ours = cases.case_open(
        kind="test_review",
        actor=users["ent_manager"],
        applicant_organization=world.ent_kundulun,
        handling_organization=world.institution,
        division=world.ent_kundulun.division,
    )
    Case.objects.filter(pk=ours.pk).update(deadline=timezone.now() - timedelta(hours=2))
    theirs = cases.case_open(
        kind="test_review",
        actor=users["ent_other"],
        applicant_organization=world.ent_xincheng,
        division=world.ent_xincheng.division,
    )
    return {"registration": registration.case, "ours": ours, "theirs": theirs, "registration_row": registration}


def _page_numbers(response) -> list[str]:
    assert response.status_code == 200
    return [number for _url, number in ROW.findall(response.content.decode())]


def _api_numbers(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["number"] for row in response.json()["results"]]


@pytest.mark.parametrize(
    ("reader", "sees"),
    [
        ("ent_manager", ["ours"]),
        ("ent_clerk", ["ours"]),
        ("ent_other", ["theirs"]),
        ("inst", ["ours"]),
        ("applicant", ["registration"]),
        ("kundulun", ["ours", "registration"]),
        ("baotou", ["ours", "registration"]),
        ("region", ["theirs", "ours", "registration"]),
        ("xincheng", ["theirs"]),
        ("qingshan", []),
        ("sysadmin", []),
    ],
)
def test_each_reader_sees_only_their_cases_newest_first(world, web, api, listed, reader, sees):
    expected = [listed[name].number for name in ("theirs", "ours", "registration") if name in sees]
    user = world.users[reader]
    assert _page_numbers(web(user).get("/cases/")) == expected
    assert _api_numbers(api(user).get("/api/v1/cases/")) == expected


def test_filters_and_guessed_filters_show_nothing_outside(world, web, api, listed):
    ent = world.users["ent_manager"]
    ours = listed["ours"].number
    for query, expected in [
        ("kind=test_review", [ours]),
        ("kind=enterprise_registration", []),
        ("kind=no_such_kind", []),
        ("state=submitted", [ours]),
        ("state=approved", []),
        ("state=guessed", []),
        ("overdue=1", [ours]),
        ("overdue=0", []),
        ("overdue=maybe", []),
    ]:
        assert _page_numbers(web(ent).get(f"/cases/?{query}")) == expected, query
        assert _api_numbers(api(ent).get(f"/api/v1/cases/?{query}")) == expected, query
    # Another enterprise filtering for our kind, state or lateness still sees only its own.
    other = world.users["ent_other"]
    assert _page_numbers(web(other).get("/cases/?kind=test_review&overdue=1")) == []
    assert _api_numbers(api(other).get("/api/v1/cases/?kind=test_review")) == [listed["theirs"].number]


def test_rows_link_to_the_module_page_and_overdue_is_marked(world, web, api, listed):
    response = web(world.users["kundulun"]).get("/cases/")
    links = dict((number, url) for url, number in ROW.findall(response.content.decode()))
    registration = listed["registration_row"]
    assert links[registration.number] == f"/organizations/registrations/{registration.pk}/"
    assert links[listed["ours"].number] == ""  # the test kind has no page
    assert response.content.decode().count('data-testid="overdue"') == 1
    rows = {row["number"]: row for row in api(world.users["kundulun"]).get("/api/v1/cases/").json()["results"]}
    assert rows[registration.number]["url"] == f"/organizations/registrations/{registration.pk}/"
    assert rows[listed["ours"].number]["overdue"] is True and rows[registration.number]["overdue"] is False
    assert rows[listed["ours"].number]["handler"] == world.institution.name


def test_chinese_by_default_english_on_request_and_in_the_nav(world, web, listed):
    client = web(world.users["ent_manager"])
    page = client.get("/cases/").content.decode()
    assert "<h1>我的办件</h1>" in page and 'data-testid="nav-cases"' in page
    client.cookies["nqi_language"] = "en"
    assert "<h1>My cases</h1>" in client.get("/cases/").content.decode()
    # Institutions and regulators reach it from the nav too; staff do not.
    for who in ("inst", "kundulun"):
        assert 'data-testid="nav-cases"' in web(world.users[who]).get("/").content.decode()
    assert 'data-testid="nav-cases"' not in web(world.users["sysadmin"]).get("/").content.decode()


def test_signed_out_nobody_reads_the_list(client, api, listed):
    assert client.get("/cases/").status_code == 302
    from rest_framework.test import APIClient

    assert APIClient().get("/api/v1/cases/").status_code in (401, 403)
