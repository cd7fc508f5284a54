"""The notices page: the acting organisation's notices only, unread first; marking one or
all as read; nobody reaches another organisation's notice by its id."""

from __future__ import annotations

import re

import pytest
from django.urls import include, path

from nqihub import urls as project_urls
from nqihub.notifications.models import Notice
from nqihub.notifications.views import unread_count

# The page's URLs are included by nqihub/urls.py; until then, the tests include them here.
urlpatterns = list(project_urls.urlpatterns)
if not any(getattr(p, "namespace", None) == "notifications" for p in urlpatterns):
    urlpatterns.append(path("notices/", include("nqihub.notifications.urls")))
handler404 = project_urls.handler404
handler403 = project_urls.handler403

pytestmark = pytest.mark.urls(__name__)


@pytest.fixture
def notices(world):
    make = lambda org, key, **kw: Notice.objects.create(  # noqa: E731
        organization=org, kind="due_reminder", key=key, title=f"提醒 {key}", body="电子秤 F-1", **kw
    )
    from django.utils import timezone

    return {
        "read": make(world.ent_kundulun, "due:2026-11-20:30", read_at=timezone.now()),
        "old": make(world.ent_kundulun, "due:2026-11-21:30"),
        "new": make(world.ent_kundulun, "due:2026-11-22:-1", link="/metrology/due/?colour=red"),
        "other": make(world.ent_xincheng, "due:2026-11-22:7"),
    }


def _ids(response) -> list[int]:
    return [int(x) for x in re.findall(r'<li data-id="(\d+)"', response.content.decode())]


@pytest.mark.django_db
def test_the_page_lists_the_acting_organisations_notices_unread_first(world, notices, web):
    response = web(world.users["ent_clerk"]).get("/notices/")
    assert response.status_code == 200
    assert _ids(response) == [notices["new"].pk, notices["old"].pk, notices["read"].pk]
    assert 'data-count="2"' in response.content.decode()
    assert unread_count(world.users["ent_clerk"]) == 2


@pytest.mark.django_db
def test_others_see_none_of_them(world, notices, web):
    assert _ids(web(world.users["ent_other"]).get("/notices/")) == [notices["other"].pk]
    for username in ("kundulun", "inst", "sysadmin"):
        assert _ids(web(world.users[username]).get("/notices/")) == []
    assert web(world.users["ent_other"]).post(f"/notices/{notices['new'].pk}/read/").status_code == 404
    notices["new"].refresh_from_db()
    assert notices["new"].read_at is None


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_sign_in(client, notices):
    assert client.get("/notices/").status_code == 302
    assert client.post(f"/notices/{notices['new'].pk}/read/").status_code == 302
    notices["new"].refresh_from_db()
    assert notices["new"].read_at is None


@pytest.mark.django_db
def test_marking_one_as_read(world, notices, web):
    client = web(world.users["ent_clerk"])
    response = client.post(f"/notices/{notices['old'].pk}/read/")
    assert response.status_code == 302 and response.url == "/notices/"
    notices["old"].refresh_from_db()
    assert notices["old"].read_at is not None
    assert unread_count(world.users["ent_clerk"]) == 1
    assert client.get(f"/notices/{notices['old'].pk}/read/").status_code == 405  # only by POST


@pytest.mark.django_db
def test_opening_a_notice_marks_it_read_and_follows_its_link(world, notices, web):
    response = web(world.users["ent_manager"]).post(f"/notices/{notices['new'].pk}/read/", {"next": "link"})
    assert response.url == "/metrology/due/?colour=red"
    notices["new"].refresh_from_db()
    assert notices["new"].read_at is not None


@pytest.mark.django_db
def test_an_outside_next_address_is_not_followed(world, notices, web):
    response = web(world.users["ent_manager"]).post(
        f"/notices/{notices['old'].pk}/read/", {"next": "https://evil.example.com/"}
    )
    assert response.url == "/notices/"


@pytest.mark.django_db
def test_marking_all_as_read_touches_only_the_acting_organisations(world, notices, web):
    first_read = Notice.objects.get(pk=notices["read"].pk).read_at
    response = web(world.users["ent_clerk"]).post("/notices/read-all/")
    assert response.status_code == 302
    assert unread_count(world.users["ent_clerk"]) == 0
    assert Notice.objects.get(pk=notices["read"].pk).read_at == first_read  # not touched again
    assert Notice.objects.get(pk=notices["other"].pk).read_at is None
