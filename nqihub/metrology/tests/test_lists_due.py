# ruff: noqa: F811 - the fixtures imported from other test modules are used as arguments
"""The due list: an enterprise's managers and clerks tick instruments on it and go straight on
to apply for their verification (step 2 of the application form, those instruments chosen);
nobody else gets the tick boxes. The colour counts give the list its count (no second COUNT);
and the colours look and read the same in the counts and in the rows."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from nqihub.metrology.services import applications as application_services

from .test_applications import metrology_institution  # noqa: F401 - fixture
from .test_reminders import TODAY, make  # noqa: F401 - fixture


@pytest.fixture
def due(world, make, monkeypatch):
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: TODAY)
    return {"red": make(-3), "amber": make(10), "green": make(90), "grey": make(None)}


def _ticks(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<input type="checkbox" name="instruments" value="(\d+)"', html)]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["ent_manager", "ent_clerk"])
def test_enterprise_workers_tick_instruments_and_reach_step_two(world, web, due, metrology_institution, role):
    client = web(world.users[role])
    html = client.get("/metrology/due/").content.decode()
    assert 'data-testid="apply-form"' in html and 'action="/metrology/applications/new/"' in html
    assert 'name="step" value="choose"' in html
    assert _ticks(html) == [due[c].pk for c in ("red", "amber", "green", "grey")]
    # What the ticked boxes send is what the application form's first step sends.
    chosen = [due["red"].pk, due["amber"].pk]
    response = client.post("/metrology/applications/new/", {"step": "choose", "instruments": chosen})
    assert response.status_code == 200
    assert response.context["step"] == 2
    assert sorted(i.pk for i in response.context["chosen"]) == sorted(chosen)
    assert world.institution in response.context["offered"]


@pytest.mark.django_db
def test_an_instrument_already_applied_for_has_no_tick_box(world, web, due, metrology_institution):
    application_services.application_submit(
        actor=world.users["ent_manager"],
        instrument_ids=[due["red"].pk],
        institution_id=world.institution.pk,
        mode="drop_off",
        contact_name="李四",
        contact_phone="123",
    )
    html = web(world.users["ent_manager"]).get("/metrology/due/").content.decode()
    assert _ticks(html) == [due[c].pk for c in ("amber", "green", "grey")]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["ent_viewer", "kundulun", "baotou"])
def test_viewers_and_regulators_get_no_tick_boxes(world, web, due, ent_viewer, role):
    html = web(world.users[role]).get("/metrology/due/").content.decode()
    assert 'data-testid="apply-form"' not in html and _ticks(html) == []
    assert "/metrology/applications/new/" not in html
    assert f'<tr data-id="{due["red"].pk}" data-colour="red">' in html  # the list itself is there


# --- Query counts ---------------------------------------------------------------------------------


def _instrument_counts(queries) -> list[str]:
    """The COUNT queries over instruments: the colour counts, and any paginator COUNT."""
    return [q["sql"] for q in queries if q["sql"].startswith("SELECT COUNT") and "metrology_instrument" in q["sql"]]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["ent_manager", "baotou"])
@pytest.mark.parametrize("params", [{}, {"colour": "red"}, {"colour": "purple"}, {"page": "2"}])
def test_the_colour_counts_give_the_list_its_count(world, web, make, role, params, monkeypatch):
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: TODAY)
    for days in range(-20, 40, 2):
        make(days)
    for _n in range(30):
        make(None)
    client = web(world.users[role])
    client.get("/metrology/due/")  # warm the session and caches
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/metrology/due/", params)
    assert response.status_code == 200
    counts = _instrument_counts(captured.captured_queries)
    assert len(counts) == 1, counts  # the colour counts only: the paginator runs no COUNT
    catalogue = [q for q in captured.captured_queries if 'FROM "metrology_catalogueitem"' in q["sql"]]
    assert len(catalogue) == 1  # the catalogue choices are read once
    page = response.context["page"]
    assert page.paginator.count == (10 if params.get("colour") == "red" else 60)  # a bad colour is left out
    assert len(page.object_list) == (10 if params.get("colour") == "red" else (10 if params.get("page") else 50))
    # Measured: 10 queries for an enterprise manager (11 before, and one of the 10 is new: which
    # rows may be ticked to apply), 15 for a regulator with its audit record (18 before).
    assert len(captured) <= {"ent_manager": 10, "baotou": 15}[role], [q["sql"][:80] for q in captured.captured_queries]


# --- One look for the colours ------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_counts_and_the_rows_show_each_colour_alike(world, web, due):
    client = web(world.users["ent_manager"])
    client.cookies["nqi_language"] = "en"
    html = client.get("/metrology/due/").content.decode()
    for colour, label, css in (
        ("red", "Overdue", "state-returned"),
        ("amber", "Due soon", "state-submitted"),
        ("green", "Not due soon", "state-approved"),
        ("grey", "No due date", "state-withdrawn"),
    ):
        chip = re.search(rf'<a href="\?colour={colour}" data-colour="{colour}" data-count="1"[^>]*>([^<]*)</a>', html)
        badge = re.search(rf'<span data-testid="due-colour" data-colour="{colour}"[^>]*>([^<]*)</span>', html)
        assert chip and badge, colour
        assert chip.group(1) == f"{label} 1" and badge.group(1) == label
        assert f'class="badge {css}"' in chip.group(0) and f'class="badge {css}"' in badge.group(0)


@pytest.mark.django_db
def test_regulators_home_counts_are_computed_once_per_jurisdiction(world):
    """The due counts of a whole jurisdiction are shared by its officials for a few minutes."""
    from nqihub.metrology.home import home_summary

    first = home_summary(world.users["baotou"])
    with CaptureQueriesContext(connection) as again:
        assert home_summary(world.users["baotou"])["due"] == first["due"]
    assert not any("next_due_on" in q["sql"] for q in again.captured_queries)
    # An enterprise's own counts are always fresh.
    with CaptureQueriesContext(connection) as enterprise:
        home_summary(world.users["ent_manager"])
    assert any("next_due_on" in q["sql"] for q in enterprise.captured_queries)
