from ._unlock import UnlockCommand


class Command(UnlockCommand):
    help = "Lift the lockouts of the given accounts, with their known browsers' (recorded in the audit trail)."

    def add_arguments(self, parser):
        parser.add_argument("username", nargs="+", type=str)

    def handle(self, *args, **options):
        self.unlock(usernames=options["username"])
