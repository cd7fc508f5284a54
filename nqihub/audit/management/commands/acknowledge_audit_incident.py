"""``manage.py acknowledge_audit_incident --reason …``: accept the chain head as it stands
after an incident was investigated, and record that in the trail itself."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from nqihub.audit.models import AuditChainHead, HeadIncident
from nqihub.audit.services import audit_record


class Command(BaseCommand):
    help = (
        "After investigating a chain head incident that verify_audit_chain reports (the head was missing, or "
        "changed without the key), accept the head as it stands: the incident is cleared and an "
        "audit.incident_acknowledged record, with the reason, keeps it in the trail for good. Needs the audit key."
    )

    def add_arguments(self, parser):
        parser.add_argument("--reason", required=True, help="What the investigation found (kept in the record).")

    def handle(self, *args, reason: str, **options):
        reason = reason.strip()
        if not reason:
            raise CommandError("Say what the investigation found (--reason).")
        with transaction.atomic():
            head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
            if head is None:
                raise CommandError("The audit chain head is missing; the next audit record rebuilds and notes it.")
            if head.mac_ok() and not head.incident:
                raise CommandError("No incident is noted on the audit chain head; nothing to acknowledge.")
            incident = head.incident or HeadIncident.ALTERED
            incident_seq = head.incident_seq if head.incident else head.last_seq + 1
            head.incident, head.incident_seq = HeadIncident.NONE, None
            head.mac = head.compute_mac()
            AuditChainHead.objects.filter(pk=1).update(incident="", incident_seq=None, mac=head.mac)
            event = audit_record(
                action="audit.incident_acknowledged",
                details={
                    "incident": str(incident),
                    "incident_seq": incident_seq,
                    "head_last_seq": head.last_seq,
                    "anchor_seq": head.anchor_seq,
                    "reason": reason[:1000],
                },
            )
        self.stdout.write(
            self.style.SUCCESS(f"Incident ({incident} at #{incident_seq}) acknowledged in audit record #{event.seq}.")
        )
