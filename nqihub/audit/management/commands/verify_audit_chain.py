from django.core.management.base import BaseCommand, CommandError

from nqihub.audit.verify import verify_chain


class Command(BaseCommand):
    help = (
        "Verify the audit trail: the hash chain, its keyed head and, when the checkpoint file exists, "
        "the checkpoints; name what was altered or is missing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--checkpoints",
            metavar="FILE",
            help="Check against this checkpoint file (default: NQI_AUDIT_CHECKPOINT_FILE when it exists).",
        )
        parser.add_argument(
            "--no-checkpoints", action="store_true", help="Check the chain and its head only, not the checkpoints."
        )

    def handle(self, *args, checkpoints=None, no_checkpoints=False, **options):
        if checkpoints and no_checkpoints:
            raise CommandError("Give --checkpoints FILE or --no-checkpoints, not both.")
        if checkpoints:
            from pathlib import Path

            if not Path(checkpoints).exists():
                raise CommandError(f"No checkpoint file at {checkpoints}.")
        report = verify_chain(checkpoints=False if no_checkpoints else (checkpoints or True))
        if not report.ok:
            raise CommandError(report.describe())
        self.stdout.write(self.style.SUCCESS(report.describe()))
