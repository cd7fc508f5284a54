"""The audit trail: append-only, hash-chained, and verification names the first record
that was altered or removed — even when the tampering goes around the application
(straight SQL), which is what the chain is for."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from nqihub.audit.models import AppendOnlyError, AuditChainHead, AuditEvent
from nqihub.audit.services import audit_record
from nqihub.audit.verify import verify_chain
from nqihub.core import context


def _fill(n=6):
    return [audit_record(action="test.event", details={"n": i, "text": "中文内容"}) for i in range(n)]


def _sql(statement, params):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


@pytest.mark.django_db
def test_records_chain_and_verify():
    events = _fill()
    assert [e.seq for e in events] == list(range(events[0].seq, events[0].seq + 6))
    for before, after in pairwise(events):
        assert after.prev_hash == before.hash
    report = verify_chain()
    assert report.ok and report.checked == AuditEvent.objects.count()
    call_command("verify_audit_chain")


@pytest.mark.django_db
def test_model_refuses_change_and_delete():
    event = _fill(1)[0]
    event.action = "forged"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(action="forged")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()


@pytest.mark.django_db
def test_altered_record_is_named():
    events = _fill()
    victim = events[3]
    _sql("UPDATE audit_auditevent SET actor_username = %s WHERE seq = %s", ["mallory", victim.seq])
    report = verify_chain()
    assert not report.ok and report.problem == "altered" and report.first_bad_seq == victim.seq
    with pytest.raises(CommandError, match=f"#{victim.seq} was altered"):
        call_command("verify_audit_chain")


@pytest.mark.django_db
def test_altered_record_with_recomputed_hash_is_named():
    """A forger who also recomputes the record's own hash breaks the next record's link."""
    events = _fill()
    victim = AuditEvent.objects.get(seq=events[2].seq)
    victim.details = {"n": 999}
    new_hash = victim.compute_hash()
    _sql(
        "UPDATE audit_auditevent SET details = %s, hash = %s WHERE seq = %s",
        ['{"n": 999}', new_hash, victim.seq],
    )
    report = verify_chain()
    assert not report.ok and report.problem == "altered" and report.first_bad_seq == victim.seq


@pytest.mark.django_db
def test_removed_record_is_named():
    events = _fill()
    _sql("DELETE FROM audit_auditevent WHERE seq = %s", [events[2].seq])
    report = verify_chain()
    assert not report.ok and report.problem == "removed" and report.first_bad_seq == events[2].seq
    with pytest.raises(CommandError, match=f"Audit record #{events[2].seq} is missing"):
        call_command("verify_audit_chain")


@pytest.mark.django_db
def test_removed_newest_records_are_detected():
    events = _fill()
    _sql("DELETE FROM audit_auditevent WHERE seq >= %s", [events[4].seq])
    report = verify_chain()
    assert not report.ok and report.problem == "truncated" and report.first_bad_seq == events[4].seq


@pytest.mark.django_db
def test_record_carries_who_what_where(world):
    user = world.users["ent_manager"]
    with context.use(context.RequestContext(source_address="10.1.2.3", channel="web")):
        event = audit_record(action="test.write", actor=user, target=world.ent_kundulun)
    assert event.actor_username == "ent_manager"
    assert event.organization_id_snapshot == world.ent_kundulun.pk
    assert event.organization_name == world.ent_kundulun.name
    assert event.target_type == "organizations.organization" and event.target_id == str(world.ent_kundulun.pk)
    assert event.source_address == "10.1.2.3" and event.channel == "web" and event.outcome == "success"


@pytest.mark.django_db
def test_a_rolled_back_write_leaves_no_record_and_no_gap(world):
    from django.db import transaction

    _fill(2)
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(action="test.doomed")
        raise RuntimeError
    _fill(2)
    assert verify_chain().ok
    assert not AuditEvent.objects.filter(action="test.doomed").exists()


@pytest.mark.django_db
def test_prune_keeps_retention_and_reanchors(settings):
    settings.NQI_AUDIT_RETENTION_DAYS = 180
    events = _fill(5)
    old = timezone.now() - timedelta(days=200)
    # Age the first three records (and keep their hashes valid, as if written back then).
    for event in AuditEvent.objects.filter(seq__lte=events[2].seq).order_by("seq"):
        event.occurred_at = old
    # Rebuild the chain for the aged records directly: simulate records written 200 days ago.
    prev = AuditChainHead.objects.get(pk=1).anchor_hash
    for event in AuditEvent.objects.order_by("seq"):
        if event.seq <= events[2].seq:
            event.occurred_at = old
        event.prev_hash = prev
        event.hash = event.compute_hash()
        _sql(
            "UPDATE audit_auditevent SET occurred_at = %s, prev_hash = %s, hash = %s WHERE seq = %s",
            [event.occurred_at, event.prev_hash, event.hash, event.seq],
        )
        prev = event.hash
    head = AuditChainHead.objects.get(pk=1)
    head.last_hash = prev
    AuditChainHead.objects.filter(pk=1).update(last_hash=prev, mac=head.compute_mac())  # with the key
    assert verify_chain().ok
    call_command("prune_audit")
    assert not AuditEvent.objects.filter(seq__lte=events[2].seq).exists()
    assert AuditEvent.objects.filter(seq=events[3].seq).exists()
    head = AuditChainHead.objects.get(pk=1)
    assert head.anchor_seq == events[2].seq
    assert verify_chain().ok
    assert AuditEvent.objects.filter(action="audit.prune").exists()


@pytest.mark.django_db
def test_prune_refuses_a_broken_chain():
    events = _fill(3)
    _sql("DELETE FROM audit_auditevent WHERE seq = %s", [events[1].seq])
    with pytest.raises(CommandError, match="broken chain"):
        call_command("prune_audit")


def test_retention_below_minimum_refuses_to_start():
    import os
    import subprocess
    import sys

    from django.conf import settings as django_settings

    env = {**os.environ, "NQI_AUDIT_RETENTION_DAYS": "30", "NQI_VAR_DIR": str(django_settings.VAR_DIR)}
    result = subprocess.run(
        [sys.executable, "-c", "import nqihub.settings"],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0 and "legal minimum" in result.stderr


@pytest.mark.django_db
def test_tampering_with_the_newest_record_is_detected():
    events = _fill(3)
    newest = AuditEvent.objects.get(seq=events[-1].seq)
    newest.details = {"n": 42}
    _sql(
        "UPDATE audit_auditevent SET details = %s, hash = %s WHERE seq = %s",
        ['{"n": 42}', newest.compute_hash(), newest.seq],
    )
    report = verify_chain()
    assert not report.ok and report.problem == "altered" and report.first_bad_seq == newest.seq


@pytest.mark.django_db
def test_hashes_are_keyed(settings):
    event = _fill(1)[0]
    settings.NQI_AUDIT_KEY = "another-key"
    assert event.compute_hash() != event.hash


# --- What gets recorded -----------------------------------------------------------------


@pytest.mark.django_db
def test_regulator_queries_and_exports_are_recorded(world, web, api):
    client = web(world.users["baotou"])
    client.get("/organizations/", {"kind": "enterprise"})
    client.get("/organizations/export.xlsx")
    client.get(f"/organizations/{world.ent_kundulun.pk}/")
    api(world.users["baotou"]).get("/api/v1/organizations/")
    records = AuditEvent.objects.filter(actor_username="baotou", action__startswith="data.").order_by("seq")
    kinds = [(e.action, e.details.get("kind")) for e in records]
    assert kinds == [
        ("data.query", "list"),
        ("data.export", "export"),
        ("data.query", "detail"),
        ("data.query", "list"),
    ]
    assert records[0].details["params"] == {"kind": "enterprise"}
    assert records[0].details["count"] == 2
    assert records[0].organization_name == world.baotou_reg.name


@pytest.mark.django_db
def test_enterprise_reads_are_not_counted_as_regulator_queries(world, web):
    web(world.users["ent_manager"]).get("/organizations/")
    assert not AuditEvent.objects.filter(action__startswith="data.").exists()


@pytest.mark.django_db
def test_audit_admin_search_page_filters_and_is_itself_recorded(world, web):
    audit_record(action="test.one", username="alice")
    audit_record(action="test.two", username="bob")
    client = web(world.users["auditor"])
    page = client.get("/audit/", {"username": "alice"})
    assert page.status_code == 200
    shown = [e.action for e in page.context["page"].object_list]
    assert shown == ["test.one"]
    assert AuditEvent.objects.filter(action="audit.query", actor_username="auditor").exists()
    export = client.get("/audit/export.xlsx", {"action": "test."})
    assert export.status_code == 200
    from nqihub.testing.workbooks import export_lines, export_sheet

    assert export_lines(export)["查询条件"].endswith(": test.")  # the filter, above the header
    assert len(export_sheet(export)[0]) == 9  # the header follows the lines
    verify = client.post("/audit/verify/")
    assert verify.status_code == 302


@pytest.mark.django_db
def test_audit_api_filters(world, api):
    audit_record(action="test.one", username="alice")
    audit_record(action="test.two", username="bob")
    client = api(world.users["auditor"])
    body = client.get("/api/v1/audit-events/", {"username": "bob"}).json()
    assert [r["action"] for r in body["results"]] == ["test.two"]
    assert client.post("/api/v1/audit-events/", {}).status_code == 405


@pytest.mark.django_db
def test_a_missing_head_is_recreated_from_the_newest_record_and_reported():
    """Appends go on from the newest record, but a head that vanished while records exist is
    what deleting the newest records with the head looks like: verification keeps saying so."""
    events = _fill(3)
    AuditChainHead.objects.all().delete()
    more = audit_record(action="test.after_flush")
    assert more.seq == events[-1].seq + 1 and more.prev_hash == events[-1].hash
    report = verify_chain()
    assert not report.ok and report.problem == "head_incident" and report.first_bad_seq == more.seq
    audit_record(action="test.later")
    assert verify_chain().problem == "head_incident"  # the next append does not launder it


@pytest.mark.django_db
def test_a_flushed_database_starts_a_fresh_chain():
    AuditChainHead.objects.all().delete()
    first = audit_record(action="test.first")
    assert first.seq == 1
    assert verify_chain().ok


@pytest.mark.django_db
def test_source_address_behind_a_proxy(settings, client, world):
    settings.NQI_PROXY_COUNT = 1
    client.post(
        "/accounts/login/",
        {"username": "ent_manager", "password": "wrong"},
        HTTP_X_FORWARDED_FOR="203.0.113.9, 10.0.0.2",
        REMOTE_ADDR="10.0.0.1",
    )
    event = AuditEvent.objects.filter(action="auth.login").latest("seq")
    assert event.source_address == "10.0.0.2"  # the address our one trusted proxy saw
    from axes.models import AccessAttempt

    assert AccessAttempt.objects.get(username="ent_manager").ip_address == "10.0.0.2"


@pytest.mark.django_db
def test_actions_are_shown_by_their_label(world, web):
    from django.utils import translation

    from nqihub.audit.actions import label_for

    audit_record(action="registration.approve", username="x")
    audit_record(action="custom.unregistered", username="x")
    with translation.override("en"):
        assert label_for("registration.approve") == "Enterprise registration approved"
    assert label_for("custom.unregistered") == "custom.unregistered"
    page = web(world.users["auditor"]).get("/audit/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'title="registration.approve"' in page
