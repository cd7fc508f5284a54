"""One way to scope a queryset to what a user may see and do.

A model's queryset subclasses :class:`ScopedQuerySet` and *declares* its scope: for each action
(``view``, ``export``, ``change``, ``review`` …) the rules that grant rows. The guard for
anonymous and inactive users and the actor rules (a regulator sees its jurisdiction, only a
county regulator reviews, an enterprise or institution sees its own, staff capabilities) are
written here once. A user gets the union of the rows the rules of the action grant; an action
that is not declared grants nothing (fail closed).

    class InstrumentQuerySet(ScopedQuerySet):
        scope = {
            ("view", "export"): (jurisdiction(), own_organization(kind=ENTERPRISE)),
            ("change", "import"): (own_organization(kind=ENTERPRISE, working=True),),
        }
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from django.db import models

from nqihub.core.access import Actor, MembershipRole, get_actor, has_capability

# A rule looks at the actor and answers a filter granting rows, or None (grants nothing).
# ``models.Q()`` grants every row.
Rule = Callable[[Actor], models.Q | None]
ALL = models.Q()


def is_signed_in(user: Any) -> bool:
    """The one guard: nobody anonymous or deactivated sees or changes anything."""
    return user is not None and bool(getattr(user, "is_authenticated", False)) and bool(user.is_active)


def everyone() -> Rule:
    """Reference data every signed-in user may read."""
    return lambda actor: ALL


def capability(*capabilities: str) -> Rule:
    """Platform staff holding any of ``capabilities`` see every row."""

    def rule(actor: Actor) -> models.Q | None:
        return ALL if any(has_capability(actor.user, c) for c in capabilities) else None

    return rule


def regulators() -> Rule:
    """Every regulator sees every row (configuration regulators read but do not change)."""
    return lambda actor: ALL if actor.is_regulator else None


def jurisdiction(field: str = "division") -> Rule:
    """A regulator sees the rows whose division lies in its jurisdiction (its division and below)."""

    def rule(actor: Actor) -> models.Q | None:
        if not actor.is_regulator:
            return None
        return models.Q(**{f"{field}_id__in": actor.jurisdiction_codes()})

    return rule


def county_reviewer(field: str = "division") -> Rule:
    """Only a working member of a county-level (旗县区) regulator reviews, within its jurisdiction."""

    def rule(actor: Actor) -> models.Q | None:
        division = actor.jurisdiction
        if not (actor.is_regulator and actor.can_work and division is not None and division.level == "county"):
            return None
        return models.Q(**{f"{field}_id__in": actor.jurisdiction_codes()})

    return rule


def own_organization(
    field: str = "organization",
    *,
    kind: str | None = None,
    working: bool = False,
    manager: bool = False,
    exclude_regulators: bool = False,
) -> Rule:
    """The organisation the user acts for sees (or works on) the rows ``field`` names it in.

    ``kind`` limits the rule to enterprises or institutions; ``working`` to managers and
    clerks; ``manager`` to managers."""

    def rule(actor: Actor) -> models.Q | None:
        org = actor.organization
        if org is None:
            return None
        if kind is not None and org.kind != kind:
            return None
        if exclude_regulators and actor.is_regulator:
            return None
        if working and not actor.can_work:
            return None
        if manager and actor.role != MembershipRole.MANAGER:
            return None
        return models.Q(**{field: org.pk if field in ("pk", "id") else org})

    return rule


def own_user(field: str = "user") -> Rule:
    """The user sees the rows ``field`` names them in."""
    return lambda actor: models.Q(**{field: actor.user})


def _expand(scope: dict[Any, Iterable[Rule]]) -> dict[str, tuple[Rule, ...]]:
    rules: dict[str, tuple[Rule, ...]] = {}
    for actions, granted in scope.items():
        for action in (actions,) if isinstance(actions, str) else actions:
            rules[action] = rules.get(action, ()) + tuple(granted)
    return rules


class ScopedQuerySet(models.QuerySet):
    """A queryset whose ``for_user`` is declared by ``scope`` (see the module docstring)."""

    scope: ClassVar[dict[Any, Iterable[Rule]]] = {}
    # Members of a deactivated organisation see nothing through it.
    require_active_organization: ClassVar[bool] = False
    _rules: ClassVar[dict[str, tuple[Rule, ...]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._rules = _expand(cls.scope)

    def scope_filter(self, user: Any, action: str = "view") -> models.Q | None:
        """The filter granting ``user`` the rows of ``action``; None means nothing at all."""
        if not is_signed_in(user):
            return None
        rules = self._rules.get(action, ())
        if not rules:
            return None
        actor = get_actor(user)
        if self.require_active_organization and (actor.organization is None or not actor.organization.is_active):
            return None
        granted: models.Q | None = None
        for rule in rules:
            q = rule(actor)
            if q is None:
                continue
            if q == ALL:
                return ALL
            granted = q if granted is None else granted | q
        return granted

    def for_user(self, user: Any, action: str = "view") -> Any:
        q = self.scope_filter(user, action)
        if q is None:
            return self.none()
        return self.all() if q == ALL else self.filter(q)
