# ruff: noqa: F811 - the fixture imported from test_reminders is used as an argument
"""Exports hold at most ``EXPORT_LIMIT`` rows. When a search finds more, the list page says so
before anyone clicks, the workbook says so in its first row, and the audit record gives the
rows actually exported with ``truncated`` and the number found (the ledger, the due list and
the filed instruments alike)."""

from __future__ import annotations

import pytest

from nqihub.audit.models import AuditEvent
from nqihub.metrology import selectors
from nqihub.testing.workbooks import export_sheet

from .test_reminders import make  # noqa: F401 - fixture

LISTS = {
    "ledger": ("/metrology/instruments/", "/metrology/instruments/export.xlsx"),
    "due": ("/metrology/due/", "/metrology/due/export.xlsx"),
    "filed": ("/metrology/filed-instruments/", "/metrology/filed-instruments/export.xlsx"),
}


def _en(client):
    client.cookies["nqi_language"] = "en"
    return client


@pytest.fixture
def three(make):
    """Three filed, mandatory instruments of the 昆都仑区 enterprise: on all three lists."""
    return [make(days, filed=True) for days in (-5, 10, 90)]


def _sheet(response) -> list[tuple]:
    assert response.status_code == 200
    return export_sheet(response)


def _export_event(user) -> AuditEvent:
    return AuditEvent.objects.filter(action="data.export", actor=user).order_by("-seq").first()


@pytest.mark.django_db
@pytest.mark.parametrize("which", sorted(LISTS))
@pytest.mark.parametrize("role", ["ent_manager", "baotou"])
def test_a_cut_export_is_announced_marked_and_recorded_as_cut(world, web, three, monkeypatch, which, role):
    monkeypatch.setattr(selectors, "EXPORT_LIMIT", 2)
    list_url, export_url = LISTS[which]
    user = world.users[role]
    client = _en(web(user))

    page = client.get(list_url).content.decode()
    assert 'data-testid="export-limit"' in page
    assert "Export the first 2 of 3 instruments — narrow the search to export the rest." in page
    # … and offers the whole list as a background export (nqihub.downloads).
    assert 'data-testid="export-background"' in page and 'action="/downloads/start/"' in page
    assert "Export all 3 instruments in the background" in page

    rows = _sheet(client.get(export_url))
    assert rows[1][0] == (
        "Truncated: this file holds only the first 2 of the 3 instruments found. Narrow the search to export the rest."
    )
    assert len(rows) == 1 + 1 + 2  # headers, the note, two instruments
    event = _export_event(user)
    assert event.details["count"] == 2
    assert event.details["truncated"] is True and event.details["total"] == 3
    assert event.details["kind"] == "export" and event.target_type == "metrology.instrument"


@pytest.mark.django_db
@pytest.mark.parametrize("which", sorted(LISTS))
def test_a_whole_export_has_no_note_and_its_true_count(world, web, three, monkeypatch, which):
    monkeypatch.setattr(selectors, "EXPORT_LIMIT", 3)
    list_url, export_url = LISTS[which]
    user = world.users["baotou"]
    client = _en(web(user))
    page = client.get(list_url).content.decode()
    assert 'data-testid="export-limit"' not in page and 'data-testid="export-background"' not in page
    rows = _sheet(client.get(export_url))
    assert len(rows) == 1 + 3 and not any(str(r[0]).startswith("Truncated") for r in rows)
    event = _export_event(user)
    assert event.details["count"] == 3 and "truncated" not in event.details
    # Narrowing the search brings a cut export back under the limit.
    monkeypatch.setattr(selectors, "EXPORT_LIMIT", 2)
    narrow = {"q": three[0].factory_number}
    assert 'data-testid="export-limit"' not in client.get(list_url, narrow).content.decode()
    assert len(_sheet(client.get(export_url, narrow))) == 2
    assert _export_event(user).details == {"kind": "export", "params": narrow, "count": 1}


def test_the_notice_gives_the_numbers_with_thousands_separated():
    text = selectors.export_limit_notice(2_134_567)
    assert "100,000" in text and "2,134,567" in text
    assert "2,134,567" in selectors.export_background_label(2_134_567)
    assert selectors.export_limit_notice(100_000) == ""  # exactly the limit: nothing is cut
