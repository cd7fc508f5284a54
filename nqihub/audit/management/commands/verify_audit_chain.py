from django.core.management.base import BaseCommand, CommandError

from nqihub.audit.verify import verify_chain


class Command(BaseCommand):
    help = "Verify the hash chain of the audit trail; name the first record altered or removed."

    def handle(self, *args, **options):
        report = verify_chain()
        if not report.ok:
            raise CommandError(report.describe())
        self.stdout.write(self.style.SUCCESS(report.describe()))
