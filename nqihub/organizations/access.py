"""The organisations' side of ``nqihub.core.access``: which membership a person acts through,
and which divisions a regulator governs. Registered with ``core.access.register_actor_provider``
from ``OrganizationsConfig.ready``, so core itself imports no app above it."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from nqihub.divisions.models import AdminDivision

from .models import Membership


def resolve_acting_membership(user: Any, organization_id: int | str | None = None) -> Membership | None:
    """The active membership of ``user`` for ``organization_id`` if given, otherwise their
    default (the most recently chosen, then the oldest). ``user`` is signed in."""
    memberships = Membership.objects.active().filter(user=user).select_related("organization", "organization__division")
    if organization_id not in (None, ""):
        try:
            return memberships.get(organization_id=int(organization_id))
        except (Membership.DoesNotExist, ValueError, TypeError):
            return None
    return memberships.order_by("-is_default", "created_at", "pk").first()


def jurisdiction_codes(division: AdminDivision | None) -> QuerySet[Any]:
    """The codes of ``division`` and every division below it (none for None), as a subquery."""
    if division is None:
        return AdminDivision.objects.none().values("code")
    return AdminDivision.objects.within(division).values("code")
