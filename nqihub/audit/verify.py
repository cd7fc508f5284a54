"""Checking the hash chain of the audit trail."""

from __future__ import annotations

from dataclasses import dataclass

from .models import GENESIS_HASH, AuditChainHead, AuditEvent


@dataclass
class ChainReport:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str = ""  # "altered", "removed", "truncated"

    def describe(self) -> str:
        if self.ok:
            return "Audit chain intact: %d records checked." % self.checked
        seq = self.first_bad_seq if self.first_bad_seq is not None else 0
        if self.problem == "altered":
            return "Audit record #%d was altered (its content no longer matches its hash)." % seq
        if self.problem == "removed":
            return "Audit record #%d was removed (the chain skips from the record before it)." % seq
        return "Audit records from #%d on were removed (the chain head records more)." % seq


def verify_chain(*, batch_size: int = 5000) -> ChainReport:
    """Walk the chain in sequence order, in batches (it may hold millions of records), and
    report the first record that was altered or removed."""
    head = AuditChainHead.objects.filter(pk=1).first()
    expected_seq = (head.anchor_seq if head else 0) + 1
    expected_prev = head.anchor_hash if head else GENESIS_HASH
    checked = 0
    last_seen = expected_seq - 1
    while True:
        batch = list(AuditEvent.objects.filter(seq__gt=last_seen).order_by("seq")[:batch_size])
        if not batch:
            break
        for event in batch:
            if event.seq != expected_seq:
                # A gap in the numbering: the record expected here is gone.
                return ChainReport(False, checked, expected_seq, "removed")
            if event.prev_hash != expected_prev:
                # The numbering is whole but the links are not: the record before this one
                # was rewritten together with its hash (or, for the first record, this one).
                bad = event.seq - 1 if checked else event.seq
                return ChainReport(False, checked, bad, "altered")
            if event.compute_hash() != event.hash:
                return ChainReport(False, checked, event.seq, "altered")
            expected_prev = event.hash
            expected_seq += 1
            checked += 1
        last_seen = batch[-1].seq
    if head is not None and head.last_seq >= expected_seq:
        return ChainReport(False, checked, expected_seq, "truncated")
    if head is not None and checked and head.last_hash != expected_prev:
        # The newest record has no successor to vouch for it: the head does.
        return ChainReport(False, checked, expected_seq - 1, "altered")
    return ChainReport(True, checked)
