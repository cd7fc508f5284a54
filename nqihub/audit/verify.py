"""Checking the audit trail: the hash chain, its keyed head, and the checkpoints written
outside the database.

What each check catches, with write access to the database but not the key:

* a record altered: its hash no longer matches its content (or, rewritten with its hash,
  the next record's link no longer matches);
* records removed in the middle: a gap in the numbering, named as a range; removed and the
  later records renumbered: the renumbered record's own hash covers its original number, so
  the report names the records that are missing rather than blaming the one before;
* records removed at the end: the head records more; removed with the head rewound or the
  head deleted: the head's MAC, or its absence, gives it away;
* records removed at the start: the first record left does not follow the anchor, and moving
  the anchor needs the key;
* everything removed (records and head): the head is missing, and once the chain has started
  again, the checkpoints (``audit_checkpoint``) name the records that were there.

A head copied from earlier (its MAC was valid then) is caught only by a checkpoint taken
after it: that is what the checkpoints are for.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .models import (
    GENESIS_HASH,
    HASHED_FIELDS,
    AuditChainHead,
    AuditEvent,
    HeadIncident,
    audit_key,
    canonical_payload,
    keyed_digest,
    record_hash,
)

# How far back a renumbered record's original number is looked for.
RENUMBER_SEARCH_LIMIT = 1_000_000


@dataclass(frozen=True)
class Finding:
    """One thing wrong. ``problem`` is one of: altered, removed, renumbered, truncated,
    head_missing, head_altered, head_incident, checkpoint_forged, checkpoint_unreadable,
    checkpoint_file_unreadable, checkpoint_mismatch, checkpoint_behind, start_removed."""

    problem: str
    seq: int | None = None
    seq_to: int | None = None
    line: int | None = None
    when: str = ""
    extra: int | None = None

    def message(self) -> str:
        """The finding in the active language (msgids in English)."""
        p = self.problem
        params = {"seq": self.seq, "to": self.seq_to, "line": self.line, "when": self.when, "extra": self.extra}
        if p == "altered":
            return _("Audit record #%(seq)d was altered (its content no longer matches its hash).") % params
        if p in ("removed", "renumbered", "truncated", "start_removed"):
            span = (
                _("Audit record #%(seq)d is missing") % params
                if self.seq == self.seq_to
                else _("Audit records #%(seq)d to #%(to)d are missing") % params
            )
            if p == "removed":
                return span + _(" (the chain skips from the record before to the record after).")
            if p == "renumbered":
                return span + _(" (the records after them were renumbered to close the gap).")
            if p == "start_removed" and self.extra is None:
                return span + _(" (deleted from the start of the chain).")
            if p == "start_removed":
                return (
                    span
                    + _(" (deleted from the start of the chain; the anchor says it starts after #%(extra)d).") % params
                )
            return span + _(" (cut off the end of the chain; the chain head records #%(to)d).") % params
        if p == "head_missing":
            if self.extra:
                return (
                    ngettext(
                        "The audit chain head is missing while %(extra)d record exists; newer records may have been removed.",
                        "The audit chain head is missing while %(extra)d records exist; newer records may have been removed.",
                        self.extra,
                    )
                    % params
                )
            return _("The audit chain head is missing and the trail is empty: everything may have been deleted.")
        if p == "head_altered":
            return (
                _(
                    "The audit chain head was changed without the key (it says the chain ends at #%(seq)d "
                    "and starts after #%(extra)d); records at either end may have been removed."
                )
                % params
            )
        if p == "head_incident":
            if self.extra == 1:
                return (
                    _(
                        "The audit chain head was missing when record #%(seq)d was written and was rebuilt; "
                        "records before #%(seq)d may have been removed."
                    )
                    % params
                )
            return (
                _(
                    "The audit chain head had been changed without the key when record #%(seq)d was written; "
                    "records before #%(seq)d may have been removed."
                )
                % params
            )
        if p == "checkpoint_file_unreadable":
            return _("The checkpoint file cannot be read (%(when)s).") % params
        if p == "checkpoint_unreadable":
            return _("Checkpoint line %(line)d cannot be read.") % params
        if p == "checkpoint_forged":
            return _("Checkpoint line %(line)d was forged or altered (its MAC does not match).") % params
        if p == "checkpoint_mismatch":
            return (
                _(
                    "Audit record #%(seq)d does not match the checkpoint of %(when)s (line %(line)d): "
                    "it was replaced or the chain was rebuilt."
                )
                % params
            )
        if p == "checkpoint_behind":
            return (
                _(
                    "The checkpoint of %(when)s (line %(line)d) recorded the chain up to #%(seq)d, "
                    "but it now ends at #%(extra)d: records #%(to)d to #%(seq)d at least are missing."
                )
                % params
            )
        return p

    def describe(self) -> str:
        with translation.override("en"):
            return self.message()


@dataclass
class ChainReport:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str = ""
    findings: list[Finding] = field(default_factory=list)
    checkpoints: int = 0

    def message(self) -> str:
        if self.ok:
            text = ngettext(
                "The audit chain is intact: %(count)d record checked.",
                "The audit chain is intact: %(count)d records checked.",
                self.checked,
            ) % {"count": self.checked}
            if self.checkpoints:
                text += " " + ngettext(
                    "It agrees with %(count)d checkpoint.",
                    "It agrees with %(count)d checkpoints.",
                    self.checkpoints,
                ) % {"count": self.checkpoints}
            return text
        return " ".join(f.message() for f in self.findings)

    def describe(self) -> str:
        with translation.override("en"):
            return self.message()


# --- Checkpoints --------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    line: int
    when: str
    seq: int
    hash: str


def checkpoint_mac(when: str, seq: int, digest: str) -> str:
    return keyed_digest("checkpoint", when, seq, digest)


def checkpoint_line(when: str, seq: int, digest: str) -> str:
    return f"{when} seq={seq} hash={digest} mac={checkpoint_mac(when, seq, digest)}\n"


def default_checkpoint_file() -> Path | None:
    name = getattr(settings, "NQI_AUDIT_CHECKPOINT_FILE", "")
    return Path(name) if name else None


def read_checkpoints(path: Path) -> tuple[list[Checkpoint], list[Finding]]:
    """The checkpoints in ``path`` whose MAC holds, and a finding for each line that does not."""
    good: list[Checkpoint] = []
    bad: list[Finding] = []
    audit_key()  # fail early, not per line, if the key cannot be made
    with path.open(encoding="utf-8", errors="replace") as lines:
        for number, raw in enumerate(lines, start=1):
            text = raw.strip()
            if not text:
                continue
            parts = text.split(" ")
            try:
                when, seq_part, hash_part, mac_part = parts
                if not (seq_part.startswith("seq=") and hash_part.startswith("hash=") and mac_part.startswith("mac=")):
                    raise ValueError
                seq = int(seq_part[4:])
                digest, mac = hash_part[5:], mac_part[4:]
            except ValueError:
                bad.append(Finding("checkpoint_unreadable", line=number))
                continue
            if not hmac.compare_digest(mac, checkpoint_mac(when, seq, digest)):
                bad.append(Finding("checkpoint_forged", line=number))
                continue
            good.append(Checkpoint(number, when, seq, digest))
    return good, bad


# --- The chain ----------------------------------------------------------------------------


def _original_seq(event: dict, key: bytes, limit: int) -> int | None:
    """The number a renumbered record was written with: its hash covers its number, so try
    the numbers after the one it has now."""
    seq = event["seq"]
    payload = canonical_payload(event)
    token = f'"seq":{seq},'
    # The top-level key is the last such token: keys are sorted, "seq" follows "details" (an
    # object that may hold its own "seq"), and the text fields after it are quoted strings.
    cut = payload.rfind(token)
    if cut < 0:
        return None
    prefix, suffix = payload[:cut], payload[cut + len(token) :]
    base = hmac.new(key, prefix.encode("utf-8"), "sha256")
    for original in range(seq + 1, seq + 1 + limit):
        attempt = base.copy()
        attempt.update(f'"seq":{original},{suffix}'.encode())
        if hmac.compare_digest(attempt.hexdigest(), event["hash"]):
            return original
    return None


def _walk(
    head: AuditChainHead | None,
    batch_size: int,
    expected: dict[int, list[Checkpoint]],
    start: Checkpoint | None = None,
) -> tuple[int, int, list[Finding]]:
    """Walk the records in sequence order, in batches, from the anchor (or from ``start``, a
    checkpoint already checked); return (records checked, last seq seen, findings). Stops at
    the first break of the chain."""
    anchor_seq = head.anchor_seq if head else 0
    expected_prev = head.anchor_hash if head else GENESIS_HASH
    if start is not None:
        anchor_seq, expected_prev = start.seq, start.hash
    expected_seq = anchor_seq + 1
    checked = 0
    last_seen = anchor_seq
    findings: list[Finding] = []
    key = audit_key()
    fields = [*HASHED_FIELDS, "hash"]
    if head is None and start is None:
        # Without a head there is no anchor: a chain that does not start at #1 lost its start.
        first = AuditEvent.objects.order_by("seq").values_list("seq", flat=True).first()
        if first is not None and first > 1:
            findings.append(Finding("start_removed", 1, first - 1))
            return 0, first - 1, findings
    while True:
        records = AuditEvent.objects.filter(seq__gt=last_seen)
        if head is not None:
            # Records appended while the walk runs are after the head it read: not its business.
            records = records.filter(seq__lte=head.last_seq)
        # Plain rows, not model instances: building a model costs more than hashing it.
        batch = list(records.order_by("seq").values(*fields)[:batch_size])
        if not batch:
            break
        for event in batch:
            seq = event["seq"]
            if seq != expected_seq:
                # A gap in the numbering: the records expected here are gone.
                problem = "start_removed" if checked == 0 else "removed"
                findings.append(Finding(problem, expected_seq, seq - 1, extra=anchor_seq or None))
                return checked, seq, findings
            own_ok = hmac.compare_digest(record_hash(event, key), event["hash"])
            if not own_ok:
                # A head that holds its MAC bounds the search: a renumbered record was written
                # no later than the head's newest. Otherwise search far.
                limit = RENUMBER_SEARCH_LIMIT
                if head is not None and head.mac_ok():
                    limit = min(limit, max(head.last_seq - seq, 0))
                original = _original_seq(event, key, limit)
                if original is not None:
                    findings.append(Finding("renumbered", expected_seq, expected_seq + original - seq - 1))
                else:
                    findings.append(Finding("altered", seq))
                return checked, seq, findings
            if event["prev_hash"] != expected_prev:
                # The record is sound but does not follow: the record before it was rewritten
                # together with its hash (or, for the first record, the record fits no anchor).
                if checked:
                    findings.append(Finding("altered", seq - 1))
                else:
                    findings.append(Finding("start_removed", expected_seq, expected_seq, extra=anchor_seq or None))
                return checked, seq, findings
            for point in expected.get(seq, ()):
                if point.hash != event["hash"]:
                    findings.append(Finding("checkpoint_mismatch", seq, line=point.line, when=point.when))
                    return checked, seq, findings
            expected_prev = event["hash"]
            expected_seq += 1
            checked += 1
        last_seen = batch[-1]["seq"]
    if head is not None and head.last_seq >= expected_seq:
        findings.append(Finding("truncated", expected_seq, head.last_seq))
    elif head is not None and head.last_hash != expected_prev:
        # The newest record has no successor to vouch for it: the head does.
        findings.append(Finding("altered", expected_seq - 1))
    return checked, last_seen, findings


def verify_chain(*, batch_size: int = 5000, checkpoints: Path | str | bool | None = True) -> ChainReport:
    """Verify the whole trail and report what is wrong: the head (present, keyed, no incident
    noted), the chain from the anchor to the head (in batches: it may hold millions of
    records) and, when ``checkpoints`` is a file or True (the configured file, if it exists),
    that every checkpoint's record is still there with its hash and the chain has not gone
    back behind any of them."""
    findings: list[Finding] = []
    points: list[Checkpoint] = []
    path: Path | None = None
    if checkpoints is True:
        path = default_checkpoint_file()
        if path is not None and not path.exists():
            path = None
    elif checkpoints:
        path = Path(checkpoints)
    if path is not None:
        try:
            points, bad_lines = read_checkpoints(path)
        except OSError as exc:
            bad_lines = [Finding("checkpoint_file_unreadable", when=f"{path}: {exc.strerror or exc}")]
        findings += bad_lines

    head = AuditChainHead.objects.filter(pk=1).first()
    if head is None:
        findings.append(Finding("head_missing", extra=AuditEvent.objects.count()))
    elif not head.mac_ok():
        findings.append(Finding("head_altered", head.last_seq, extra=head.anchor_seq))
    elif head.incident:
        findings.append(
            Finding("head_incident", head.incident_seq, extra=1 if head.incident == HeadIncident.MISSING else 2)
        )

    anchor_seq = head.anchor_seq if head else 0
    expected: dict[int, list[Checkpoint]] = {}
    for point in points:
        if point.seq > anchor_seq:
            expected.setdefault(point.seq, []).append(point)
        elif point.seq == anchor_seq and point.seq and head is not None and point.hash != head.anchor_hash:
            findings.append(Finding("checkpoint_mismatch", point.seq, line=point.line, when=point.when))
    checked, last_seen, chain_findings = _walk(head, batch_size, expected)
    findings += chain_findings
    if not chain_findings:
        end = max(last_seen, anchor_seq)
        behind = [p for p in points if p.seq > end]
        if behind:
            latest = max(behind, key=lambda p: p.seq)
            findings.append(
                Finding("checkpoint_behind", latest.seq, end + 1, line=latest.line, when=latest.when, extra=end)
            )
    report = ChainReport(ok=not findings, checked=checked, findings=findings, checkpoints=len(points))
    if findings:
        report.problem = findings[0].problem
        report.first_bad_seq = next((f.seq for f in findings if f.seq is not None), None)
    return report


def latest_checkpoint(points: Iterable[Checkpoint]) -> Checkpoint | None:
    return max(points, key=lambda p: p.seq, default=None)


def verify_since(head: AuditChainHead, point: Checkpoint | None, *, batch_size: int = 5000) -> list[Finding]:
    """The check before a new checkpoint, in time proportional to what was written since the
    last one: the head is keyed and clean, the last checkpoint's record is still there with
    its hash (or was pruned), and the chain runs soundly from it to the head."""
    findings: list[Finding] = []
    if not head.mac_ok():
        return [Finding("head_altered", head.last_seq, extra=head.anchor_seq)]
    if head.incident:
        return [Finding("head_incident", head.incident_seq, extra=1 if head.incident == HeadIncident.MISSING else 2)]
    start = None
    if point is not None and point.seq > head.anchor_seq:
        if point.seq > head.last_seq:
            return [
                Finding(
                    "checkpoint_behind",
                    point.seq,
                    head.last_seq + 1,
                    line=point.line,
                    when=point.when,
                    extra=head.last_seq,
                )
            ]
        record = AuditEvent.objects.filter(seq=point.seq).values_list("hash", flat=True).first()
        if record is None:
            return [Finding("removed", point.seq, point.seq)]
        if record != point.hash:
            return [Finding("checkpoint_mismatch", point.seq, line=point.line, when=point.when)]
        start = point
    _, _, findings = _walk(head, batch_size, {}, start=start)
    return findings
