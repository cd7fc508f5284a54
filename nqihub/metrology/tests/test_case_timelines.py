"""One timeline for every case: the registration, filing and application pages render the case's
steps with the same include, the API returns the same steps with the same labels, in the
reader's language, and only to those who may see the case."""

from __future__ import annotations

import html
import re

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from nqihub.metrology.services import applications as application_services
from nqihub.metrology.services import filings as filing_services
from nqihub.organizations import services as registration_services
from nqihub.testing.factories import valid_code

from .test_applications import metrology_institution, signers, submit  # noqa: F401 - fixtures

TIMELINE = re.compile(r'<ul class="timeline" data-testid="timeline">(.*?)</ul>', re.S)


def _page_steps(response) -> list[str]:
    assert response.status_code == 200
    block = TIMELINE.findall(response.content.decode())
    assert len(block) == 1, "one timeline on the page"
    return [html.unescape(re.sub(r"\s+", " ", item)).strip() for item in re.findall(r"<li>(.*?)</li>", block[0], re.S)]


def _expected(api_events) -> list[str]:
    users = {u.username: str(u) for u in get_user_model().objects.all()}
    lines = []
    for event in api_events:
        at = timezone.localtime(parse_datetime(event["at"]))
        line = f"{at:%Y-%m-%d %H:%M} — {event['label']}"
        if event["actor"]:
            line += f" ({users[event['actor']]})"
        if event["note"]:
            line += f": {event['note']}"
        lines.append(line)
    return lines


@pytest.fixture
def three_cases(world, instruments, signers):  # noqa: F811 - fixture
    users = world.users
    registration = registration_services.registration_submit(
        actor=users["applicant"],
        data={
            "credit_code": valid_code(7301), "name": "包头某某有限公司", "division": "150203", "address": "a",
            "legal_representative": "b", "contact_name": "c", "contact_phone": "13900000000",
        },
    )  # fmt: skip
    registration_services.registration_return(actor=users["kundulun"], registration=registration, reason="请补充地址")
    filing = filing_services.filing_submit(actor=users["ent_manager"], instrument_ids=[instruments["kundulun"].pk])
    filing_services.filing_return(actor=users["kundulun"], filing=filing, reason="请补充安装地点")
    filing_services.filing_resubmit(
        actor=users["ent_manager"], filing=filing, instrument_ids=[instruments["kundulun"].pk]
    )
    filing_services.filing_approve(actor=users["kundulun"], filing=filing)
    application = submit(world, instruments)
    application_services.application_accept(actor=users["inst"], application=application)
    return {
        "registration": (registration.pk, "/organizations/registrations/{}/", "/api/v1/registrations/{}/"),
        "filing": (filing.pk, "/metrology/filings/{}/", "/api/v1/instrument-filings/{}/"),
        "application": (application.pk, "/metrology/applications/{}/", "/api/v1/verification-applications/{}/"),
    }


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize(
    ("which", "reader", "steps"),
    [
        ("registration", "kundulun", ["submitted", "returned"]),
        ("registration", "applicant", ["submitted", "returned"]),
        ("filing", "kundulun", ["submitted", "returned", "resubmitted", "approved"]),
        ("filing", "ent_manager", ["submitted", "returned", "resubmitted", "approved"]),
        ("application", "inst", ["submitted", "accepted"]),
        ("application", "ent_manager", ["submitted", "accepted"]),
    ],
)
def test_the_page_and_the_api_show_the_same_timeline(world, web, api, three_cases, which, reader, steps, language):
    pk, page, endpoint = three_cases[which]
    user = world.users[reader]
    client = api(user)
    client.cookies["nqi_language"] = language
    data = client.get(endpoint.format(pk), HTTP_ACCEPT_LANGUAGE=language).json()
    assert [e["kind"] for e in data["events"]] == steps
    browser = web(user)
    browser.cookies["nqi_language"] = language
    assert _page_steps(browser.get(page.format(pk), HTTP_ACCEPT_LANGUAGE=language)) == _expected(data["events"])
    # Read in the reader's language: the first step's label.
    assert data["events"][0]["label"] == ("已提交" if language == "zh-hans" else "Submitted")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("which", "outsider"),
    [
        ("registration", "ent_other"),
        ("registration", "xincheng"),  # a regulator of another county
        ("filing", "ent_other"),
        ("filing", "xincheng"),
        ("application", "ent_other"),
        ("application", "xincheng"),
        ("application", "sysadmin"),
    ],
)
def test_an_outsider_reads_no_timeline(world, web, api, three_cases, which, outsider):
    pk, page, endpoint = three_cases[which]
    user = world.users[outsider]
    assert api(user).get(endpoint.format(pk)).status_code == 404
    assert web(user).get(page.format(pk)).status_code == 404


@pytest.mark.django_db
def test_the_api_list_reads_timelines_in_a_fixed_number_of_queries(
    world, api, three_cases, django_assert_max_num_queries
):
    pk, _page, endpoint = three_cases["application"]
    client = api(world.users["ent_manager"])
    client.get(endpoint.format(pk))  # warm the session and caches
    with django_assert_max_num_queries(30):
        assert client.get(endpoint.format(pk)).status_code == 200
