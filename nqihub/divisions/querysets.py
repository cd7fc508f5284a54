from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models

if TYPE_CHECKING:
    from .models import AdminDivision


class AdminDivisionQuerySet(models.QuerySet):
    """Reads of the GB/T 2260 division tree.

    Divisions are public reference data: every signed-in user may read all of them, so
    ``for_user`` only refuses anonymous callers.
    """

    def for_user(self, user, action: str = "view") -> AdminDivisionQuerySet:
        if action != "view":
            # Divisions change only through migrations and the load_divisions command.
            return self.none()
        return self if user is not None and user.is_authenticated else self.none()

    def current(self) -> AdminDivisionQuerySet:
        return self.filter(is_current=True)

    def counties(self) -> AdminDivisionQuerySet:
        return self.filter(level="county")

    def within(self, division: AdminDivision, *, include_self: bool = True) -> AdminDivisionQuerySet:
        """The division and everything below it (its materialised path is a prefix)."""
        qs = self.filter(path__startswith=division.path)
        if not include_self:
            qs = qs.exclude(pk=division.pk)
        return qs
