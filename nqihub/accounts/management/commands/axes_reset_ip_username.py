from ._unlock import UnlockCommand


class Command(UnlockCommand):
    help = "Lift the lockout of an account counted for an address (recorded in the audit trail)."

    def add_arguments(self, parser):
        parser.add_argument("ip", type=str)
        parser.add_argument("username", type=str)

    def handle(self, *args, **options):
        self.unlock(usernames=[options["username"]], address=options["ip"])
