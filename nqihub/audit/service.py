"""The one shape of a write service: ``@audited_service`` and ``locked_for``.

A service that changes something is written as a function taking ``actor=`` plus its input.
The decorator

* registers the action's audit label (no separate registration in ``apps.py``);
* runs the optional permission check BEFORE the input is looked at, so an outsider with a
  malformed body is refused (403/404), never told what was wrong with the body;
* opens the write transaction around the body (which locks what it changes and records its
  success with ``audit_record`` inside that transaction, so the success and the change commit
  or roll back together);
* on a ``ServiceError`` records the refusal OUTSIDE the rolled-back transaction (``denied`` for
  Forbidden/NotFound, ``failure`` for invalid input or a conflict) and raises it again; an
  ``IntegrityError`` (a unique row another request saved between the service's check and its
  insert) becomes the service's ``conflict`` error, recorded and raised the same way.

A refusal names its ``target`` (the keyword argument of that name, or what a function of the
service's arguments returns) and its ``details``. A service whose action depends on its input
(activate or deactivate) is two decorated services and a function choosing between them::

    @audited_service("tariff.update", _("Tariff changed"), check=_require_editor, target="tariff")
    def tariff_update(*, actor, tariff, data):
        locked = locked_for(Tariff.objects.for_user(actor), None, tariff.pk)
        ...  # clean ``data``, change ``locked``
        audit_record(action="tariff.update", actor=actor, target=locked, details=...)
        return locked

``locked_for`` is the one locked lookup: not visible to the actor → NotFound, visible but not
allowed → Forbidden, else the row locked with ``select_for_update`` (404 before 403, so an
outsider learns nothing about rows they cannot see).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar, cast

from django.db import IntegrityError, models, transaction

from nqihub.core.access import has_capability
from nqihub.core.errors import Forbidden, NotFound, ServiceError

from .actions import register as register_audit_action
from .services import audit_refusal

F = TypeVar("F", bound=Callable[..., Any])

Check = Callable[..., None]
Describe = Callable[..., Any]


def audited_service(
    action: str,
    label: Any = None,
    *,
    check: Check | None = None,
    atomic: bool = True,
    target: str | Describe | None = None,
    details: Callable[..., dict | None] | None = None,
    conflict: Callable[[], ServiceError] | None = None,
    prepare: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> Callable[[F], F]:
    """Wrap a write service. ``check(actor, *args, **kwargs)`` raises Forbidden/NotFound before
    the input is read; ``target`` (a keyword argument's name, or a function of the same
    arguments) and ``details`` describe a refusal in the audit trail; ``conflict()`` is the
    error an ``IntegrityError`` of the body becomes (without it, an IntegrityError is a bug and
    propagates unrecorded); ``prepare(kwargs)`` normalises the input first (ids given as a
    generator become a list, so the check, the body and a refusal read the same); ``atomic=False`` leaves the transaction to the body (for a service
    that must commit in steps)."""
    if label is not None:
        register_audit_action(action, label)

    def refuse(error: ServiceError, actor: Any, args: tuple, kwargs: dict) -> NoReturn:
        audit_refusal(
            error,
            actor=actor,
            action=action,
            target=_describe(target, actor, args, kwargs),
            details=_describe(details, actor, args, kwargs),
        )

    def check_permission(*args: Any, actor: Any, **kwargs: Any) -> None:
        """``check`` alone, its refusal recorded as the service's: what the API asks before
        it reads a body (the arguments not known yet may be left out)."""
        if check is None:
            return
        try:
            check(actor, *args, **kwargs)
        except ServiceError as exc:
            refuse(exc, actor, args, kwargs)

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, actor: Any, **kwargs: Any) -> Any:
            if prepare is not None:
                kwargs = prepare(kwargs)
            try:
                if check is not None:
                    check(actor, *args, **kwargs)
                if atomic:
                    with transaction.atomic():
                        return fn(*args, actor=actor, **kwargs)
                return fn(*args, actor=actor, **kwargs)
            except IntegrityError:
                if conflict is None:
                    raise
                error = conflict()
            except ServiceError as exc:
                error = exc
            refuse(error, actor, args, kwargs)

        wrapper.audit_action = action  # type: ignore[attr-defined]
        wrapper.check_permission = check_permission  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def _describe(describe: str | Describe | None, actor: Any, args: tuple, kwargs: dict) -> Any:
    if describe is None:
        return None
    if isinstance(describe, str):
        return kwargs.get(describe)
    return describe(actor, *args, **kwargs)


_LARGEST_KEY = 2**63 - 1


def _visible_key(visible: models.QuerySet, pk: Any, not_found: str | None) -> Any:
    """``pk`` as the model's key once ``visible`` holds that row; NotFound otherwise (a
    malformed id names no row)."""
    try:
        key = visible.model._meta.pk.to_python(pk)
    except Exception:
        raise NotFound(not_found) from None
    if key is None or (isinstance(key, int) and not 0 < key <= _LARGEST_KEY):
        # No row has it, and a number past 64 bits would overflow the database driver.
        raise NotFound(not_found)
    if not visible.filter(pk=key).exists():
        raise NotFound(not_found)
    return key


def check_allowed(
    visible: models.QuerySet,
    allowed: models.QuerySet,
    pk: Any,
    *,
    not_found: str | None = None,
    forbidden: str | None = None,
) -> None:
    """The check of :func:`locked_for` without the lock, for a permission asked before any
    write (the API's "permission, then body"): NotFound when the actor cannot see row ``pk``,
    Forbidden when they see it but ``allowed`` does not hold it."""
    key = _visible_key(visible, pk, not_found)
    if not allowed.filter(pk=key).exists():
        raise Forbidden(forbidden)


def locked_for(
    visible: models.QuerySet,
    allowed: models.QuerySet | Callable[[Any], bool] | None,
    pk: Any,
    *,
    not_found: str | None = None,
    forbidden: str | None = None,
    locking: models.QuerySet | None = None,
) -> Any:
    """The row ``pk`` locked for update. ``visible`` is what the actor may see (its
    ``for_user``); ``allowed`` narrows it to what the actor may act on, as a queryset or as a
    predicate on the visible row; ``locking`` is the locking query to read the row through
    (default: the model's ``select_for_update()``). Must be called inside a transaction."""
    model = visible.model
    key = _visible_key(visible, pk, not_found)
    if locking is None:
        locking = model._default_manager.select_for_update()
    row = locking.get(pk=key)
    if allowed is None:
        return row
    if isinstance(allowed, models.QuerySet):
        permitted = allowed.filter(pk=key).exists()
    else:
        permitted = allowed(row)
    if not permitted:
        raise Forbidden(forbidden)
    return row


def ask_permission(service: Callable[..., Any], *args: Any, actor: Any, **kwargs: Any) -> None:
    """The permission check of ``service`` (an ``@audited_service``) alone, a refusal recorded
    under the service's action: the API asks it before it reads a body."""
    cast(Any, service).check_permission(*args, actor=actor, **kwargs)


def may(model: Any, step: str, argument: str, *, forbidden: Any = None) -> Check:
    """The ``check`` of a service that acts on one row: the row (or its id) is the keyword
    argument ``argument``; NotFound when the actor cannot see it (``for_user(actor, "view")``),
    Forbidden (``forbidden``: a message, or a function giving it) when they see it but
    ``for_user(actor, step)`` does not hold it. The body then locks the row with
    :func:`locked_for`, which asks again under the lock."""

    def check(actor: Any, *args: Any, **kwargs: Any) -> None:
        row = kwargs[argument]
        manager = model._default_manager
        check_allowed(
            manager.for_user(actor, "view"),
            manager.for_user(actor, step),
            getattr(row, "pk", row),
            forbidden=forbidden() if callable(forbidden) else forbidden,
        )

    return check


def requires(capability: str, message: Any = None) -> Check:
    """The ``check`` of a service reserved to a capability (the system administrator's
    ``configuration.manage`` …): Forbidden, with ``message`` if given, for anyone else."""

    def check(actor: Any, *args: Any, **kwargs: Any) -> None:
        if not has_capability(actor, capability):
            raise Forbidden(message)

    return check


def apply_changes(row: Any, values: Any, describe: Callable[[Any], Any] = lambda value: value) -> dict[str, list]:
    """Set ``values`` (a mapping of field names to cleaned values) on ``row`` and return what
    changed, ``{field: [before, after]}`` as ``describe`` writes each value: the ``changes``
    an update service records in its audit details. The caller saves the row."""
    changes: dict[str, list] = {}
    for name, value in values.items():
        old = getattr(row, name)
        if old != value:
            changes[name] = [describe(old), describe(value)]
            setattr(row, name, value)
    return changes
