"""The import follows the ledger's own rules, not only its cleaning: a status change must be
an allowed transition (scrapping is final; an empty status cell keeps the instrument's
status), only catalogue items in force may be chosen (an instrument may keep its current
one), the mandatory flag comes from the catalogue rows locked in the write transaction, and
instrument ids too large for the database are refused as ids (filings, applications)."""

from __future__ import annotations

import pytest
from django.utils import translation

from nqihub.audit.models import AuditEvent
from nqihub.core.errors import InvalidInput
from nqihub.metrology import rules
from nqihub.metrology.models import CatalogueItem, ImportJob, Instrument, InstrumentFiling, VerificationApplication
from nqihub.metrology.services import applications as application_services
from nqihub.metrology.services import filings as filing_services
from nqihub.metrology.services import imports as services
from nqihub.metrology.tests.test_imports import _csv, _errors, _row, _xlsx, catalogue, run  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

STATUS = "使用状态"
CATALOGUE = "目录编号或器具名称"


def _statuses(world) -> dict[str, str]:
    return dict(Instrument.objects.filter(organization=world.ent_kundulun).values_list("factory_number", "status"))


@pytest.fixture
def ledger(world, catalogue, run):  # noqa: F811 (the fixtures imported above)
    """A1 in use, A2 stopped, A3 scrapped, in the 昆都仑区 enterprise's ledger."""
    rows = [
        _row(factory_number="A1", status="在用"),
        _row(factory_number="A2", status="停用"),
        _row(factory_number="A3", status="报废"),
    ]
    job = run(world.users["ent_manager"], "a.xlsx", _xlsx(rows))
    assert job.state == ImportJob.State.DONE, job.errors
    assert _statuses(world) == {"A1": "in_use", "A2": "stopped", "A3": "scrapped"}
    return world


# --- Status -------------------------------------------------------------------------------------


def test_reimport_with_an_empty_status_keeps_the_status_and_a_new_instrument_is_in_use(ledger, run):  # noqa: F811
    rows = [
        _row(factory_number="A1", status=""),
        _row(factory_number="A2", status=""),
        _row(factory_number="A3", status="", name="改名的报废秤"),
        _row(factory_number="A4", status=""),
    ]
    job = run(ledger.users["ent_manager"], "b.xlsx", _xlsx(rows))
    assert (job.state, job.created_count, job.updated_count) == (ImportJob.State.DONE, 1, 3), job.errors
    assert _statuses(ledger) == {"A1": "in_use", "A2": "stopped", "A3": "scrapped", "A4": "in_use"}
    assert Instrument.objects.get(factory_number="A3").name == "改名的报废秤"  # the rest of the row is written


def test_reimport_asking_to_put_a_scrapped_instrument_back_in_use_is_refused(ledger, run):  # noqa: F811
    manager = ledger.users["ent_manager"]
    rows = [
        _row(factory_number="A1", name="新名称"),  # fine on its own
        _row(factory_number="A3", status="在用"),  # scrapped -> in use
        _row(factory_number="A4"),  # new
    ]
    with translation.override("zh-hans"):
        job = run(manager, "b.xlsx", _xlsx(rows))
    assert job.state == ImportJob.State.FAILED
    assert _errors(job) == [(3, STATUS)]
    message = job.errors[0]["message"]
    assert "报废" in message and "在用" in message  # names the current and the requested status
    # Nothing written: no rename, no new instrument, the scrapped one still scrapped.
    assert _statuses(ledger) == {"A1": "in_use", "A2": "stopped", "A3": "scrapped"}
    assert Instrument.objects.get(factory_number="A1").name == "电子计价秤"
    event = AuditEvent.objects.filter(action="instrument.import").latest("pk")
    assert event.outcome == "failure" and event.details["errors"] == 1


def test_the_refusal_names_the_statuses_in_english_with_the_header_as_written(ledger, run):  # noqa: F811
    headers = [c.header_en for c in rules.COLUMNS]
    with translation.override("en"):
        job = run(ledger.users["ent_manager"], "b.csv", _csv([_row(factory_number="A3", status="stopped")], headers))
    assert _errors(job) == [(2, "Status")]
    assert job.errors[0]["message"] == (
        "The instrument with this factory number is “Scrapped” in your ledger; its status cannot change to “Stopped”."
    )


def test_allowed_status_changes_are_imported(ledger, run):  # noqa: F811
    rows = [
        _row(factory_number="A1", status="停用"),  # in use -> stopped
        _row(factory_number="A2", status="在用"),  # stopped -> in use
        _row(factory_number="A3", status="报废"),  # scrapped, unchanged
    ]
    job = run(ledger.users["ent_manager"], "b.xlsx", _xlsx(rows))
    assert (job.state, job.updated_count) == (ImportJob.State.DONE, 3), job.errors
    assert _statuses(ledger) == {"A1": "stopped", "A2": "in_use", "A3": "scrapped"}


def test_a_status_changed_between_the_check_and_the_write_is_checked_again(ledger, run, monkeypatch):  # noqa: F811
    """Someone scraps A1 while the file is being checked: the write refuses the row rather
    than bringing the instrument back, and writes nothing."""
    write = services._write

    def scrap_first(job, checked):
        Instrument.objects.filter(factory_number="A1").update(status="scrapped")
        return write(job, checked)

    monkeypatch.setattr(services, "_write", scrap_first)
    rows = [_row(factory_number="A1", status="停用"), _row(factory_number="A9")]
    job = run(ledger.users["ent_manager"], "b.xlsx", _xlsx(rows))
    assert job.state == ImportJob.State.FAILED
    assert _errors(job) == [(2, STATUS)]
    assert not Instrument.objects.filter(factory_number="A9").exists()
    assert _statuses(ledger)["A1"] == "scrapped"


# --- Catalogue items in force -------------------------------------------------------------------


def test_an_item_no_longer_in_force_is_refused(world, catalogue, run):  # noqa: F811
    CatalogueItem.objects.filter(pk=catalogue["bp"].pk).update(is_active=False)
    rows = [
        _row(factory_number="B1", catalogue_item="90.2", use_field="医疗卫生"),
        _row(factory_number="B2", catalogue_item="测试血压计", use_field="医疗卫生"),  # by name
        _row(factory_number="B3"),  # an item in force
    ]
    job = run(world.users["ent_manager"], "b.xlsx", _xlsx(rows))
    assert job.state == ImportJob.State.FAILED
    assert _errors(job) == [(2, CATALOGUE), (3, CATALOGUE)]
    assert Instrument.objects.count() == 0


def test_an_instrument_keeps_its_item_no_longer_in_force(world, catalogue, run):  # noqa: F811
    manager = world.users["ent_manager"]
    first = run(manager, "a.xlsx", _xlsx([_row(factory_number="B1", catalogue_item="90.2", use_field="医疗卫生")]))
    assert first.state == ImportJob.State.DONE and Instrument.objects.get().is_mandatory
    CatalogueItem.objects.filter(pk=catalogue["bp"].pk).update(is_active=False)

    again = run(
        manager, "b.xlsx", _xlsx([_row(factory_number="B1", catalogue_item="90.2", use_field="医疗卫生", name="新名")])
    )
    assert (again.state, again.updated_count) == (ImportJob.State.DONE, 1), again.errors
    instrument = Instrument.objects.get()
    assert (instrument.name, instrument.catalogue_item_id) == ("新名", catalogue["bp"].pk)
    assert not instrument.is_mandatory  # an item out of force makes nothing mandatory


def test_another_instrument_may_not_move_to_an_item_no_longer_in_force(world, catalogue, run):  # noqa: F811
    manager = world.users["ent_manager"]
    run(manager, "a.xlsx", _xlsx([_row(factory_number="B1"), _row(factory_number="B2", catalogue_item="90.2")]))
    CatalogueItem.objects.filter(pk=catalogue["bp"].pk).update(is_active=False)
    job = run(manager, "b.xlsx", _xlsx([_row(factory_number="B1", catalogue_item="90.2")]))
    assert job.state == ImportJob.State.FAILED and _errors(job) == [(2, CATALOGUE)]
    assert Instrument.objects.get(factory_number="B1").catalogue_item_id == catalogue["scale"].pk


@pytest.mark.parametrize("with_catalogue_column", [True, False])
def test_the_mandatory_flag_comes_from_the_catalogue_as_it_stands_when_writing(
    world,
    catalogue,  # noqa: F811
    run,  # noqa: F811
    monkeypatch,
    with_catalogue_column,
):
    """The catalogue item changes after the file was checked: the flags written follow the
    item as read (and locked) in the write transaction, not as it was during the check."""
    manager = world.users["ent_manager"]
    run(manager, "a.xlsx", _xlsx([_row(factory_number="C1", use_field="其他")]))  # scale, not in trade
    write = services._write

    def change_item_first(job, checked):
        CatalogueItem.objects.filter(pk=catalogue["scale"].pk).update(use_trade=False)
        return write(job, checked)

    monkeypatch.setattr(services, "_write", change_item_first)
    fields = [c.field for c in rules.COLUMNS]
    rows = [_row(factory_number="C1", use_field="贸易结算"), _row(factory_number="C2", use_field="贸易结算")]
    if not with_catalogue_column:
        keep = [i for i, name in enumerate(fields) if name != "catalogue_item"]
        headers = [rules.COLUMNS[i].header_zh for i in keep]
        rows = [[row[i] for i in keep] for row in rows[:1]]  # C1 keeps its item
    else:
        headers = [c.header_zh for c in rules.COLUMNS]
    job = run(manager, "b.xlsx", _xlsx(rows, headers))
    assert job.state == ImportJob.State.DONE, job.errors
    flags = dict(Instrument.objects.values_list("factory_number", "is_mandatory"))
    assert not any(flags.values()), flags  # with the check-time item, trade use would be mandatory


def test_checking_the_ledger_costs_one_query_per_batch(world, catalogue, run, django_assert_max_num_queries):  # noqa: F811
    """Re-importing 5,000 instruments (statuses and items looked up) stays within the
    import's query budget: no query per row."""
    manager = world.users["ent_manager"]
    rows = [_row(factory_number=f"Q{i:05d}", status=("", "停用", "在用")[i % 3]) for i in range(5000)]
    assert run(manager, "a.csv", _csv(rows)).state == ImportJob.State.DONE
    Instrument.objects.filter(factory_number__in=["Q00001", "Q00004"]).update(status="scrapped")
    rows = [
        _row(factory_number=f"Q{i:05d}", status=("", "停用", "在用")[i % 3] if i not in (1, 4) else "")
        for i in range(5000)
    ]
    with django_assert_max_num_queries(50):
        job = run(manager, "b.csv", _csv(rows))
    assert (job.state, job.updated_count) == (ImportJob.State.DONE, 5000), job.errors[:3]
    assert Instrument.objects.filter(status="scrapped").count() == 2


# --- Error counts -------------------------------------------------------------------------------


def test_the_count_of_unlisted_errors_uses_plural_forms(world, catalogue, run, settings):  # noqa: F811
    settings.NQI_TABLE_MAX_STORED_ERRORS = 2
    with translation.override("en"):
        job = run(world.users["ent_manager"], "e.csv", _csv([_row(factory_number=f"N{i}", name="") for i in range(3)]))
        assert job.errors[-1]["message"] == "1 more error is not listed."
        job = run(world.users["ent_manager"], "e.csv", _csv([_row(factory_number=f"N{i}", name="") for i in range(4)]))
        assert job.errors[-1]["message"] == "2 more errors are not listed."


# --- Instrument ids -----------------------------------------------------------------------------


@pytest.mark.parametrize("value", [2**63, 10**25, "1" * 30, float("inf")])
def test_an_id_too_large_for_the_database_is_not_an_instrument_id(value):
    with pytest.raises(InvalidInput) as caught:
        rules.clean_instrument_ids([value], limit=10, empty_message="", too_many_message="")
    assert caught.value.code == "invalid_id"


def test_the_largest_database_id_is_still_an_id():
    assert rules.clean_instrument_ids([2**63 - 1], limit=10, empty_message="", too_many_message="") == [2**63 - 1]


@pytest.mark.parametrize("value", [10**25, "99999999999999999999999999"])
def test_filing_with_a_huge_instrument_id_is_refused_as_invalid_input(world, value):
    manager = world.users["ent_manager"]
    with pytest.raises(InvalidInput) as caught:
        filing_services.filing_submit(actor=manager, instrument_ids=[value])
    assert caught.value.code == "invalid_id"
    assert not InstrumentFiling.objects.exists()
    assert AuditEvent.objects.get(action="instrument_filing.submit").outcome == "failure"


def test_application_with_a_huge_instrument_id_is_refused_as_invalid_input(world):
    with pytest.raises(InvalidInput) as caught:
        application_services.application_submit(
            actor=world.users["ent_manager"],
            instrument_ids=[10**25],
            institution_id=world.institution.pk,
            mode="drop_off",
            contact_name="张三",
            contact_phone="0472-1234567",
        )
    assert caught.value.code == "invalid_id"
    assert not VerificationApplication.objects.exists()
