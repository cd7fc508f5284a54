# ruff: noqa: F811 - fixtures imported from other test modules are used as arguments
"""When the system administrator moves an enterprise to another county, its instruments and its
filings under review follow it: the new county's regulator sees and reviews them, the old one
no longer does; decided records stay where they happened."""

from __future__ import annotations

import pytest

from nqihub.audit.models import AuditEvent
from nqihub.metrology.models import Instrument, InstrumentFiling
from nqihub.metrology.services import filings as filing_services
from nqihub.organizations.services import organization_update

from .test_filings import ledger  # noqa: F401 - fixture


@pytest.mark.django_db
def test_instruments_and_open_filings_follow_the_enterprise(world, ledger):
    enterprise = world.ent_kundulun
    filing = filing_services.filing_submit(actor=world.users["ent_manager"], instrument_ids=[ledger["k1"].pk])
    old, new = enterprise.division_id, world.ent_qingshan.division_id
    assert old != new
    visible = lambda who: set(Instrument.objects.for_user(world.users[who]).values_list("pk", flat=True))  # noqa: E731
    assert ledger["k1"].pk in visible("kundulun")

    organization_update(actor=world.users["sysadmin"], organization=enterprise, data={"division": new})

    assert set(Instrument.objects.filter(organization=enterprise).values_list("division_id", flat=True)) == {new}
    assert ledger["k1"].pk not in visible("kundulun") and ledger["k1"].pk in visible("qingshan")
    assert InstrumentFiling.objects.get(pk=filing.pk).division_id == new
    # The new county reviews the open filing; the old one may not any more.
    reviewable = lambda who: InstrumentFiling.objects.for_user(world.users[who], "review").filter(pk=filing.pk)  # noqa: E731
    assert reviewable("qingshan").exists() and not reviewable("kundulun").exists()
    event = AuditEvent.objects.filter(action="organization.update").latest("seq")
    assert event.details["moved"] == {
        "instruments": Instrument.objects.filter(organization=enterprise).count(),
        "open_filings": 1,
    }


@pytest.mark.django_db
def test_an_enterprise_cannot_move_itself(world, ledger):
    organization_update(
        actor=world.users["ent_manager"],
        organization=world.ent_kundulun,
        data={"division": world.ent_qingshan.division_id},
    )
    assert set(Instrument.objects.filter(organization=world.ent_kundulun).values_list("division_id", flat=True)) == {
        world.ent_kundulun.division_id
    }
