"""The ends of the audit trail: someone with write access to the database but not the audit
key deletes records at the end or the start (and rewrites the head to match), deletes the
head, deletes everything, or deletes a record and renumbers the ones after it. Each is
detected, and the report names what is missing. Checkpoints written outside the database
catch what the database alone cannot show (a head copied back from earlier)."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from nqihub.audit.models import AuditChainHead, AuditEvent
from nqihub.audit.services import audit_record
from nqihub.audit.verify import checkpoint_line, verify_chain


def _fill(n=6):
    return [audit_record(action="test.event", details={"n": i}) for i in range(n)]


def _sql(statement, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _head_row():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT last_seq, last_hash, anchor_seq, anchor_hash, incident, incident_seq, mac FROM audit_auditchainhead"
        )
        return cursor.fetchone()


def _put_head_row(row):
    _sql(
        "UPDATE audit_auditchainhead SET last_seq = %s, last_hash = %s, anchor_seq = %s, anchor_hash = %s, "
        "incident = %s, incident_seq = %s, mac = %s",
        row,
    )


def _verify_message(**kwargs):
    with pytest.raises(CommandError) as failure:
        call_command("verify_audit_chain", **kwargs)
    return str(failure.value)


# --- The findings of the issue, without checkpoints ---------------------------------------------


@pytest.mark.django_db
def test_deleting_the_newest_records_and_rewinding_the_head_is_detected():
    events = _fill()
    keep = events[3]
    _sql("DELETE FROM audit_auditevent WHERE seq > %s", [keep.seq])
    _sql("UPDATE audit_auditchainhead SET last_seq = %s, last_hash = %s", [keep.seq, keep.hash])
    report = verify_chain()
    assert not report.ok and report.problem == "head_altered"
    assert f"ends at #{keep.seq}" in _verify_message()


@pytest.mark.django_db
def test_a_rewound_head_is_not_laundered_by_the_next_append():
    events = _fill()
    keep = events[3]
    _sql("DELETE FROM audit_auditevent WHERE seq > %s", [keep.seq])
    _sql("UPDATE audit_auditchainhead SET last_seq = %s, last_hash = %s", [keep.seq, keep.hash])
    later = audit_record(action="test.after_tampering")
    assert later.seq == keep.seq + 1  # recording goes on
    report = verify_chain()
    assert not report.ok and report.problem == "head_incident" and report.first_bad_seq == later.seq
    assert f"when record #{later.seq} was written" in report.describe()


@pytest.mark.django_db
def test_deleting_the_head_is_detected():
    events = _fill()
    _sql("DELETE FROM audit_auditchainhead")
    report = verify_chain()
    assert not report.ok and report.problem == "head_missing"
    assert f"missing while {len(events)} records exist" in _verify_message()


@pytest.mark.django_db
def test_deleting_the_newest_records_and_the_head_is_detected():
    events = _fill()
    _sql("DELETE FROM audit_auditevent WHERE seq > %s", [events[2].seq])
    _sql("DELETE FROM audit_auditchainhead")
    assert verify_chain().problem == "head_missing"
    audit_record(action="test.after_tampering")  # the head is rebuilt; the incident stays
    assert verify_chain().problem == "head_incident"


@pytest.mark.django_db
def test_deleting_the_oldest_records_and_moving_the_anchor_is_detected():
    events = _fill()
    last_gone = events[2]
    _sql("DELETE FROM audit_auditevent WHERE seq <= %s", [last_gone.seq])
    _sql("UPDATE audit_auditchainhead SET anchor_seq = %s, anchor_hash = %s", [last_gone.seq, last_gone.hash])
    report = verify_chain()
    assert not report.ok and report.problem == "head_altered"
    assert f"starts after #{last_gone.seq}" in _verify_message()


@pytest.mark.django_db
def test_deleting_the_oldest_records_is_named():
    events = _fill()
    _sql("DELETE FROM audit_auditevent WHERE seq <= %s", [events[2].seq])
    report = verify_chain()
    assert not report.ok and report.problem == "start_removed" and report.first_bad_seq == events[0].seq
    message = _verify_message()
    assert f"#{events[0].seq} to #{events[2].seq} are missing" in message and "start of the chain" in message


@pytest.mark.django_db
def test_deleting_everything_is_detected():
    _fill()
    _sql("DELETE FROM audit_auditevent")
    _sql("DELETE FROM audit_auditchainhead")
    report = verify_chain()
    assert not report.ok and report.problem == "head_missing"
    assert "the trail is empty" in _verify_message()


@pytest.mark.django_db
def test_a_deleted_record_with_the_later_ones_renumbered_is_named_not_its_predecessor():
    events = _fill(305)
    victim = events[299]
    _sql("DELETE FROM audit_auditevent WHERE seq = %s", [victim.seq])
    # Renumber in two steps (a unique column cannot take seq - 1 row by row on every database).
    _sql("UPDATE audit_auditevent SET seq = seq + 1000000 WHERE seq > %s", [victim.seq])
    _sql("UPDATE audit_auditevent SET seq = seq - 1000001 WHERE seq > %s", [victim.seq + 1000000])
    report = verify_chain()
    assert not report.ok and report.problem == "renumbered" and report.first_bad_seq == victim.seq
    message = _verify_message()
    assert f"Audit record #{victim.seq} is missing" in message and "renumbered" in message
    assert f"#{victim.seq - 1} was altered" not in message


@pytest.mark.django_db
def test_several_deleted_records_with_renumbering_are_named_as_a_range():
    events = _fill(12)
    first, last = events[4], events[6]
    _sql("DELETE FROM audit_auditevent WHERE seq BETWEEN %s AND %s", [first.seq, last.seq])
    _sql("UPDATE audit_auditevent SET seq = seq + 1000000 WHERE seq > %s", [last.seq])
    _sql("UPDATE audit_auditevent SET seq = seq - 1000003 WHERE seq > %s", [last.seq + 1000000])
    _sql("UPDATE audit_auditchainhead SET last_seq = last_seq - 3")
    report = verify_chain()
    assert [f.problem for f in report.findings] == ["head_altered", "renumbered"]
    assert f"Audit records #{first.seq} to #{last.seq} are missing" in report.describe()


@pytest.mark.django_db
def test_a_gap_in_the_middle_is_named_as_a_range():
    events = _fill(8)
    _sql("DELETE FROM audit_auditevent WHERE seq BETWEEN %s AND %s", [events[2].seq, events[4].seq])
    report = verify_chain()
    assert report.problem == "removed"
    assert f"Audit records #{events[2].seq} to #{events[4].seq} are missing" in report.describe()


@pytest.mark.django_db
def test_an_intact_chain_with_the_head_keyed_verifies_and_the_message_counts():
    _fill(3)
    head = AuditChainHead.objects.get(pk=1)
    assert head.mac and head.mac_ok() and not head.incident
    out = io.StringIO()
    call_command("verify_audit_chain", "--no-checkpoints", stdout=out)
    assert "The audit chain is intact: 3 records checked." in out.getvalue()


@pytest.mark.django_db
def test_the_migration_keys_an_existing_head(settings):
    """An upgraded installation's head gets its MAC computed, so it does not report tampering."""
    from importlib import import_module

    from django.apps import apps

    _fill(3)
    _sql("UPDATE audit_auditchainhead SET mac = ''")
    assert verify_chain().problem == "head_altered"
    import_module("nqihub.audit.migrations.0003_keyed_head").key_the_head(apps, None)
    assert verify_chain().ok


# --- Checkpoints ---------------------------------------------------------------------------------


@pytest.fixture
def checkpoint_file(settings, tmp_path) -> Path:
    path = tmp_path / "audit-checkpoints.log"
    settings.NQI_AUDIT_CHECKPOINT_FILE = str(path)
    return path


@pytest.mark.django_db
def test_checkpoint_appends_the_keyed_head(checkpoint_file):
    events = _fill(3)
    call_command("audit_checkpoint")
    _fill(2)
    call_command("audit_checkpoint")
    lines = checkpoint_file.read_text().splitlines()
    assert len(lines) == 2
    assert f"seq={events[-1].seq} hash={events[-1].hash} mac=" in lines[0]
    head = AuditChainHead.objects.get(pk=1)
    assert f"seq={head.last_seq} hash={head.last_hash} mac=" in lines[1]
    report = verify_chain()
    assert report.ok and report.checkpoints == 2 and "2 checkpoints" in report.describe()


@pytest.mark.django_db
def test_a_copied_back_head_is_caught_by_a_later_checkpoint(checkpoint_file):
    """The replay the database alone cannot show: the head copied as it was (its MAC valid
    then), the records written since deleted."""
    events = _fill(4)
    old_head = _head_row()
    newer = _fill(3)
    call_command("audit_checkpoint")
    _sql("DELETE FROM audit_auditevent WHERE seq > %s", [events[-1].seq])
    _put_head_row(old_head)
    assert verify_chain(checkpoints=False).ok  # without the checkpoints it looks intact
    report = verify_chain()
    assert not report.ok and report.problem == "checkpoint_behind"
    message = _verify_message()
    assert f"up to #{newer[-1].seq}" in message and f"now ends at #{events[-1].seq}" in message
    assert f"records #{newer[0].seq} to #{newer[-1].seq} at least are missing" in message
    with pytest.raises(CommandError, match="No checkpoint written"):
        call_command("audit_checkpoint")
    assert len(checkpoint_file.read_text().splitlines()) == 1


@pytest.mark.django_db
def test_deleting_everything_and_starting_again_is_caught_by_the_checkpoints(checkpoint_file):
    _fill(5)
    call_command("audit_checkpoint")
    _sql("DELETE FROM audit_auditevent")
    _sql("DELETE FROM audit_auditchainhead")
    report = verify_chain()
    assert [f.problem for f in report.findings] == ["head_missing", "checkpoint_behind"]
    _fill(2)  # a fresh chain starts at #1 and verifies on its own…
    assert verify_chain(checkpoints=False).ok
    assert verify_chain().problem == "checkpoint_behind"  # …but not against the checkpoint
    _fill(5)  # grown past the checkpoint: the record there is another one
    assert verify_chain().problem == "checkpoint_mismatch"


@pytest.mark.django_db
def test_a_legitimate_prune_keeps_verifying_against_the_checkpoints(settings, checkpoint_file):
    settings.NQI_AUDIT_RETENTION_DAYS = 180
    events = _fill(5)
    old = timezone.now() - timedelta(days=200)
    # Records written 200 days ago: rebuild the first three with that time (with the key).
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
    AuditChainHead.objects.filter(pk=1).update(last_hash=prev, mac=head.compute_mac())
    # Checkpoints before the cut, at the cut and after it.
    for seq in (events[1].seq, events[2].seq, events[4].seq):
        record = AuditEvent.objects.get(seq=seq)
        with checkpoint_file.open("a") as f:
            f.write(checkpoint_line("2026-01-01T00:00:00+00:00", record.seq, record.hash))
    assert verify_chain().ok
    call_command("prune_audit")
    assert AuditChainHead.objects.get(pk=1).anchor_seq == events[2].seq
    report = verify_chain()
    assert report.ok and report.checkpoints == 3
    call_command("audit_checkpoint")
    assert verify_chain().ok


@pytest.mark.django_db
def test_a_forged_checkpoint_line_is_reported(checkpoint_file):
    _fill(3)
    call_command("audit_checkpoint")
    line = checkpoint_file.read_text()
    # Someone who can write the file but lacks the key moves the checkpoint forward.
    forged = re.sub(r"seq=(\d+)", lambda m: f"seq={int(m.group(1)) + 27}", line)
    checkpoint_file.write_text(line + forged + "not a checkpoint\n")
    report = verify_chain()
    assert [f.problem for f in report.findings] == ["checkpoint_forged", "checkpoint_unreadable"]
    message = _verify_message()
    assert "Checkpoint line 2 was forged" in message and "Checkpoint line 3 cannot be read" in message
    with pytest.raises(CommandError, match="Checkpoint line 2 was forged"):
        call_command("audit_checkpoint")


@pytest.mark.django_db
def test_a_record_replaced_under_a_checkpoint_is_named(checkpoint_file):
    """Someone holding the key can rebuild a consistent chain; the checkpoint (written before)
    still names the record that changed."""
    events = _fill(4)
    call_command("audit_checkpoint")
    newest = AuditEvent.objects.get(seq=events[-1].seq)
    newest.details = {"n": "rewritten"}
    new_hash = newest.compute_hash()
    _sql(
        "UPDATE audit_auditevent SET details = %s, hash = %s WHERE seq = %s",
        ['{"n": "rewritten"}', new_hash, newest.seq],
    )
    head = AuditChainHead.objects.get(pk=1)
    head.last_hash = new_hash
    AuditChainHead.objects.filter(pk=1).update(last_hash=new_hash, mac=head.compute_mac())
    assert verify_chain(checkpoints=False).ok
    report = verify_chain()
    assert report.problem == "checkpoint_mismatch" and report.first_bad_seq == newest.seq


@pytest.mark.django_db
def test_verify_reads_a_named_checkpoint_file(settings, tmp_path):
    events = _fill(3)
    path = tmp_path / "elsewhere.log"
    path.write_text(checkpoint_line("2026-01-01T00:00:00+00:00", events[-1].seq + 5, "f" * 64))
    assert verify_chain().ok  # the configured file (none in tests) is not this one
    message = _verify_message(checkpoints=str(path))
    assert f"up to #{events[-1].seq + 5}" in message
    with pytest.raises(CommandError, match="No checkpoint file"):
        call_command("verify_audit_chain", checkpoints=str(tmp_path / "absent.log"))


@pytest.mark.django_db
def test_checkpoint_without_a_configured_file_writes_nothing(settings, tmp_path):
    settings.NQI_AUDIT_CHECKPOINT_FILE = ""
    out = io.StringIO()
    call_command("audit_checkpoint", stdout=out)
    assert "nothing written" in out.getvalue()
    assert not list(tmp_path.iterdir())


# --- The audit administrator's check ---------------------------------------------------------------


@pytest.mark.django_db
def test_the_audit_page_check_reports_a_deleted_head(world, web):
    _fill(3)
    client = web(world.users["auditor"])  # signing in is recorded: delete the head after it
    _sql("DELETE FROM audit_auditchainhead")
    page = client.post("/audit/verify/", follow=True, HTTP_ACCEPT_LANGUAGE="en")
    text = page.content.decode()
    assert "The audit chain head is missing" in text
    record = AuditEvent.objects.filter(action="audit.verify").latest("seq")
    assert record.outcome == "failure" and record.details["problem"] == "head_missing"


@pytest.mark.django_db
def test_an_unreadable_checkpoint_file_is_reported_not_a_crash(checkpoint_file):
    _fill(2)
    checkpoint_file.mkdir()  # a directory where the file should be: reading it fails
    report = verify_chain()
    assert report.problem == "checkpoint_file_unreadable"
    assert "The checkpoint file cannot be read" in _verify_message()
    with pytest.raises(CommandError, match="cannot be read"):
        call_command("audit_checkpoint")


@pytest.mark.django_db
def test_an_incident_is_acknowledged_only_with_a_reason_and_stays_in_the_trail():
    events = _fill(4)
    _sql("DELETE FROM audit_auditevent WHERE seq > %s", [events[1].seq])
    _sql("UPDATE audit_auditchainhead SET last_seq = %s, last_hash = %s", [events[1].seq, events[1].hash])
    with pytest.raises(CommandError, match="Say what the investigation found"):
        call_command("acknowledge_audit_incident", reason="  ")
    assert verify_chain().problem == "head_altered"
    call_command("acknowledge_audit_incident", reason="A restore test on the wrong server", stdout=io.StringIO())
    assert verify_chain().ok
    record = AuditEvent.objects.get(action="audit.incident_acknowledged")
    assert record.details["incident"] == "altered" and record.details["incident_seq"] == events[1].seq + 1
    assert record.details["reason"] == "A restore test on the wrong server"
    with pytest.raises(CommandError, match="nothing to acknowledge"):
        call_command("acknowledge_audit_incident", reason="again")


@pytest.mark.django_db
def test_a_noted_incident_is_acknowledged():
    _fill(3)
    _sql("DELETE FROM audit_auditchainhead")
    noted = audit_record(action="test.after")
    assert verify_chain().problem == "head_incident"
    call_command("acknowledge_audit_incident", reason="Head lost in a failed migration", stdout=io.StringIO())
    assert verify_chain().ok
    record = AuditEvent.objects.get(action="audit.incident_acknowledged")
    assert record.details["incident"] == "missing" and record.details["incident_seq"] == noted.seq
