"""The command-line unlocks, replacing django-axes' ``axes_reset*`` commands of the same names:
theirs deleted lock records with no trace in the audit trail and missed the counts of an
account's known browsers. Each goes through ``accounts.services.account_unlock_by_command``."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from nqihub.core.errors import ServiceError


class UnlockCommand(BaseCommand):
    def unlock(self, *, usernames=(None,), address: str | None = None) -> None:
        from nqihub.accounts.services import account_unlock_by_command

        count = 0
        try:
            for username in usernames:
                count += account_unlock_by_command(username=username, address=address)
        except ServiceError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{count} attempts removed (recorded in the audit trail)." if count else "No attempts found.")
