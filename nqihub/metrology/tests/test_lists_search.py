# ruff: noqa: F811 - the fixture imported from test_reminders is used as an argument
"""The instrument search box finds what people type — a platform code in lower case or with
spaces around it, a factory number as on the nameplate, part of a name — on every list that
searches instruments (the ledger, its export and API, the due list, the filed instruments),
while comparing codes exactly so their indexes serve them. And one rule each for narrowing
by division and for the divisions offered, on every list."""

from __future__ import annotations

import re

import pytest

from nqihub.metrology import selectors
from nqihub.metrology.models import Instrument, InstrumentFiling
from nqihub.metrology.services import filings as filing_services
from nqihub.testing.workbooks import export_sheet

from .test_reminders import make  # noqa: F401 - fixture

PAGES = ["/metrology/instruments/", "/metrology/due/", "/metrology/filed-instruments/"]


@pytest.fixture
def kinds(world, make):
    """Filed, mandatory instruments (so on every list) in 昆都仑区, one in 青山区 and one in
    新城区."""
    return {
        "gauge": make(10, name="弹簧管式压力表", factory_number="YB-2024-007", filed=True),
        "scale": make(20, factory_number="F-1", filed=True),
        "lower": make(30, factory_number="ab-12", filed=True),
        "qingshan": make(40, org=world.ent_qingshan, filed=True),
        "xincheng": make(50, org=world.ent_xincheng, filed=True),
    }


def _listed(response) -> set[int]:
    assert response.status_code == 200
    return {i.pk for i in response.context["page"].object_list}


TYPED = [
    # (what the person types, which instrument it finds)
    ("  {platform_code_lower}  ", "scale"),
    ("{platform_code_lower}", "gauge"),
    ("压力表", "gauge"),
    (" YB-2024-007 ", "gauge"),
    ("yb-2024-007", "gauge"),  # nameplates print capitals; typed in lower case it still matches
    ("ab-12", "lower"),  # stored in lower case: matches as typed
]


@pytest.mark.django_db
@pytest.mark.parametrize("typed, expected", TYPED)
@pytest.mark.parametrize("url", PAGES)
def test_the_search_finds_what_people_type(world, web, api, kinds, url, typed, expected):
    text = typed.format(platform_code_lower=kinds[expected].platform_code.lower())
    assert _listed(web(world.users["ent_manager"]).get(url, {"q": text})) == {kinds[expected].pk}
    if url == PAGES[0]:
        listed = api(world.users["ent_manager"]).get("/api/v1/instruments/", {"q": text}).json()["results"]
        assert [i["id"] for i in listed] == [kinds[expected].pk]
        due = api(world.users["ent_manager"]).get("/api/v1/due-instruments/", {"q": text}).json()["results"]
        assert [i["id"] for i in due] == [kinds[expected].pk]


@pytest.mark.django_db
def test_the_search_compares_codes_exactly(kinds):
    """Platform and factory numbers are equality tests (an index serves them), not
    case-folding LIKE/UPPER comparisons that read every row; only the name is a substring."""
    search = selectors.InstrumentFilter({"q": " jl0000 "}, queryset=Instrument.objects.all())
    sql = str(search.qs.query)
    assert '"metrology_instrument"."platform_code" = JL0000' in sql
    assert re.search(r'"metrology_instrument"\."factory_number" IN \(JL0000, jl0000\)|IN \(jl0000, JL0000\)', sql)
    assert 'UPPER("metrology_instrument"."platform_code")' not in sql
    assert not re.search(r'"(platform_code|factory_number)" LIKE', sql)


@pytest.mark.django_db
def test_a_filing_number_typed_in_lower_case_is_found_exactly(world, web, make):
    instrument = make(10)
    filing = filing_services.filing_submit(actor=world.users["ent_manager"], instrument_ids=[instrument.pk])
    response = web(world.users["kundulun"]).get("/metrology/filings/", {"q": f" {filing.number.lower()} "})
    assert [f.pk for f in response.context["page"].object_list] == [filing.pk]
    qs = InstrumentFiling.objects.filter(number=filing.number.upper())
    assert '"number" = ' in str(qs.query)


# --- One rule for divisions, one for the filters of the filed instruments ------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("url", PAGES)
def test_every_list_narrows_by_division_the_same_way(world, web, kinds, url):
    client = web(world.users["baotou"])
    assert _listed(client.get(url)) == {kinds[k].pk for k in ("gauge", "scale", "lower", "qingshan")}
    assert _listed(client.get(url, {"division": "150204"})) == {kinds["qingshan"].pk}
    # A division outside the jurisdiction, or no division at all, narrows to nothing.
    assert _listed(client.get(url, {"division": "150102"})) == set()
    assert _listed(client.get(url, {"division": "999999"})) == set()
    html = client.get(url).content.decode()
    assert 'name="division"' in html and 'value="150204"' in html and 'value="150102"' not in html
    # An enterprise has no division filter (nor an enterprise filter) and is not narrowed by one.
    enterprise = web(world.users["ent_manager"])
    assert _listed(enterprise.get(url, {"division": "150204"})) == {kinds[k].pk for k in ("gauge", "scale", "lower")}
    html = enterprise.get(url).content.decode()
    assert 'name="division"' not in html and 'name="enterprise"' not in html


@pytest.mark.django_db
def test_the_api_narrows_filings_by_division_with_the_same_rule(world, api, make):
    for org, user in ((world.ent_kundulun, "ent_manager"), (world.ent_xincheng, "ent_other")):
        filing_services.filing_submit(actor=world.users[user], instrument_ids=[make(10, org=org).pk])
    client = api(world.users["region"])
    within = client.get("/api/v1/instrument-filings/", {"within": " 150200 "}).json()["results"]
    assert [f["division"]["code"] for f in within] == ["150203"]
    assert client.get("/api/v1/instrument-filings/", {"within": "999999"}).json()["count"] == 0


@pytest.mark.django_db
def test_the_filed_instruments_use_the_ledgers_filters(world, web, kinds, scale):
    client = web(world.users["baotou"])
    url = "/metrology/filed-instruments/"
    Instrument.objects.filter(pk=kinds["scale"].pk).update(status=Instrument.Status.STOPPED)
    assert _listed(client.get(url, {"status": "stopped"})) == {kinds["scale"].pk}
    assert _listed(client.get(url, {"catalogue_item": scale.code})) == {
        kinds[k].pk for k in ("gauge", "scale", "lower", "qingshan")
    }
    assert _listed(client.get(url, {"enterprise": "北方重型"})) == {kinds["qingshan"].pk}
    html = client.get(url).content.decode()
    for name in ("q", "catalogue_item", "use_field", "status", "division", "enterprise"):
        assert f'name="{name}"' in html, name
    # What the page lists, the export holds (the same search).
    export = client.get("/metrology/filed-instruments/export.xlsx", {"enterprise": "北方重型"})
    rows = export_sheet(export)[1:]
    assert [r[6] for r in rows] == [kinds["qingshan"].factory_number]


def test_division_choices_are_indented_under_the_jurisdiction(world, db):
    choices = dict(selectors.jurisdiction_division_choices(world.users["baotou"]))
    assert choices["150200"] == "包头市" and choices["150204"].startswith("\u3000") and "150102" not in choices
    assert selectors.jurisdiction_division_choices(world.users["ent_manager"]) == []


@pytest.mark.django_db
def test_search_indexes_exist():
    """The factory-number index everywhere; on PostgreSQL the trigram index that serves the
    name search (UPPER(name) LIKE …)."""
    from django.db import connection

    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "metrology_instrument")
    assert constraints["instrument_factory_number_idx"]["columns"] == ["factory_number"]
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'instrument_name_trgm_idx'")
        (definition,) = cursor.fetchone()
    assert "gin" in definition and "gin_trgm_ops" in definition and "upper" in definition.lower()
