from ._unlock import UnlockCommand


class Command(UnlockCommand):
    help = "Lift the lockouts counted for the given addresses (recorded in the audit trail)."

    def add_arguments(self, parser):
        parser.add_argument("ip", nargs="+", type=str)

    def handle(self, *args, **options):
        for address in options["ip"]:
            self.unlock(address=address)
