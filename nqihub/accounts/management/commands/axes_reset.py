from ._unlock import UnlockCommand


class Command(UnlockCommand):
    help = "Lift every lockout after failed sign-ins (recorded in the audit trail)."

    def handle(self, *args, **options):
        self.unlock()
