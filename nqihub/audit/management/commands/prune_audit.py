from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from nqihub.audit.models import AuditChainHead, AuditEvent
from nqihub.audit.services import audit_record
from nqihub.audit.verify import verify_chain


class Command(BaseCommand):
    help = (
        "Delete audit records older than the retention period (NQI_AUDIT_RETENTION_DAYS, at least 180 days). "
        "The chain is verified first and re-anchored at the newest pruned record, so verification goes on working."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Only say how many records would go.")

    def handle(self, *args, dry_run=False, **options):
        days = max(settings.NQI_AUDIT_RETENTION_DAYS, settings.NQI_AUDIT_MIN_RETENTION_DAYS)
        cutoff = timezone.now() - timedelta(days=days)
        report = verify_chain()
        if not report.ok:
            raise CommandError("Refusing to prune a broken chain: " + report.describe())
        with transaction.atomic():
            head = AuditChainHead.objects.select_for_update().get(pk=1)
            # Only a whole prefix of the chain is pruned: everything up to the newest record
            # older than the cut-off.
            last_old = AuditEvent.objects.filter(occurred_at__lt=cutoff).order_by("-seq").first()
            if last_old is None:
                self.stdout.write("Nothing older than %d days." % days)
                return
            doomed = AuditEvent.objects.filter(seq__lte=last_old.seq)
            count = doomed.count()
            if dry_run:
                self.stdout.write("%d records older than %d days would be deleted." % (count, days))
                return
            doomed._prune()
            # The anchor is keyed with the rest of the head: moving it needs the key.
            head.anchor_seq, head.anchor_hash = last_old.seq, last_old.hash
            head.mac = head.compute_mac()
            AuditChainHead.objects.filter(pk=1).update(
                anchor_seq=head.anchor_seq, anchor_hash=head.anchor_hash, mac=head.mac
            )
        audit_record(
            action="audit.prune", details={"deleted": count, "through_seq": last_old.seq, "retention_days": days}
        )
        self.stdout.write(self.style.SUCCESS("Deleted %d audit records through #%d." % (count, last_old.seq)))
