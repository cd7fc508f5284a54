from __future__ import annotations

from typing import TYPE_CHECKING

from nqihub.core.scoping import ScopedQuerySet, everyone

if TYPE_CHECKING:
    from .models import AdminDivision


class AdminDivisionQuerySet(ScopedQuerySet):
    """Reads of the GB/T 2260 division tree.

    Divisions are public reference data: every signed-in user may read all of them, so
    ``for_user`` only refuses anonymous and deactivated callers.
    """

    # Divisions change only through migrations and the load_divisions command.
    scope = {"view": (everyone(),)}

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
