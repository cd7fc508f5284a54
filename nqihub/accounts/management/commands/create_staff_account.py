"""Create one of the three staff accounts on a new installation.

Platform staff are normally granted by the security administrator; this command is how the
first system and security administrators come to exist (there is no superuser). It is
recorded in the audit trail as a command-line action.
"""

from __future__ import annotations

import getpass
import secrets

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from nqihub.accounts.policy import get_policy
from nqihub.audit.services import audit_record
from nqihub.core.access import StaffRole


class Command(BaseCommand):
    help = "Create a platform staff account (system_admin, security_admin or audit_admin)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=StaffRole.values)
        parser.add_argument("--name", default="", help="The person's full name.")
        parser.add_argument(
            "--generate-password",
            action="store_true",
            help="Generate a strong password and print it once (otherwise you are asked for one).",
        )

    def handle(self, *args, username, role, name, generate_password, **options):
        User = get_user_model()
        # Read as sign-up and sign-in read it (NFKC): a full-width look-alike is the same name.
        username = User.normalize_username(username.strip())
        if User.objects.filter(username__iexact=username).exists():
            raise CommandError(f"The account {username!r} exists already.")
        try:
            User.username_validator(username)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        user = User(username=username, display_name=name, staff_role=role)
        if generate_password:
            length = max(get_policy().password_min_length, 16)
            password = secrets.token_urlsafe(length)[:length] + "-Aa1"
        else:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password again: "):
                raise CommandError("The two passwords differ.")
        try:
            password_validation.validate_password(password, user)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        with transaction.atomic():
            user.set_password(password)
            user.save()
            audit_record(action="account.create", target=user, details={"staff_role": role, "via": "command"})
        self.stdout.write(self.style.SUCCESS(f"Created {username} ({StaffRole(role).label})."))
        if generate_password:
            self.stdout.write(f"Password (shown once): {password}")
        self.stdout.write("A second factor is enrolled at the first sign-in.")
