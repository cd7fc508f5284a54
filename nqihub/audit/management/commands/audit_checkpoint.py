"""``manage.py audit_checkpoint``: write the chain head's sequence number and hash to a file
the database cannot rewrite."""

from __future__ import annotations

import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from nqihub.audit.models import AuditChainHead
from nqihub.audit.verify import (
    checkpoint_line,
    default_checkpoint_file,
    latest_checkpoint,
    read_checkpoints,
    verify_since,
)


def append_line(path: Path, line: str) -> None:
    """Append one line and sync it to disk. Opened with O_APPEND only, so the file may be
    append-only (``chattr +a``): the process can add to it but not rewrite it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, line.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


class Command(BaseCommand):
    help = (
        "Append the audit chain head (time, sequence number, hash, keyed MAC) to the checkpoint file "
        "(NQI_AUDIT_CHECKPOINT_FILE), after checking the chain since the last checkpoint. "
        "verify_audit_chain checks the chain against these lines."
    )

    def add_arguments(self, parser):
        parser.add_argument("--file", help="Checkpoint file (default: NQI_AUDIT_CHECKPOINT_FILE).")

    def handle(self, *args, file=None, **options):
        path = Path(file) if file else default_checkpoint_file()
        if path is None:
            self.stdout.write("No checkpoint file configured (NQI_AUDIT_CHECKPOINT_FILE is empty); nothing written.")
            return
        try:
            points, bad = read_checkpoints(path) if path.exists() else ([], [])
        except OSError as exc:
            raise CommandError(f"The checkpoint file {path} cannot be read: {exc}") from exc
        if bad:
            raise CommandError(" ".join(f.describe() for f in bad))
        head = AuditChainHead.objects.filter(pk=1).first()
        if head is None:
            raise CommandError("The audit chain head is missing; no checkpoint written. Run verify_audit_chain.")
        findings = verify_since(head, latest_checkpoint(points))
        if findings:
            raise CommandError("No checkpoint written: " + " ".join(f.describe() for f in findings))
        when = timezone.now().replace(microsecond=0).isoformat()
        try:
            append_line(path, checkpoint_line(when, head.last_seq, head.last_hash))
        except OSError as exc:
            raise CommandError(f"The checkpoint file {path} cannot be written: {exc}") from exc
        # The same line goes to the output too (the journal or the central log is a second copy).
        self.stdout.write(f"audit checkpoint {when} #{head.last_seq} {head.last_hash} -> {path}")
