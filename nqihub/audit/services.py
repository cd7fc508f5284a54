"""Writing the audit trail. ``audit_record`` is the only way records are created."""

from __future__ import annotations

from typing import Any, NoReturn

from django.db import models, transaction
from django.utils import timezone

from nqihub.core import context
from nqihub.core.access import get_actor
from nqihub.core.errors import ServiceError

from .models import GENESIS_HASH, AuditChainHead, AuditEvent, HeadIncident, Outcome


def _describe_target(target: Any) -> tuple[str, str, str]:
    if target is None:
        return "", "", ""
    if isinstance(target, models.Model):
        return target._meta.label_lower, str(target.pk), str(target)[:200]
    if isinstance(target, tuple) and len(target) == 3:
        return tuple(str(x)[:200] for x in target)  # type: ignore[return-value]
    return type(target).__name__, "", str(target)[:200]


def _recreate_head() -> AuditChainHead:
    """The head row is made by a migration; if it is missing, make it again from the newest
    record, so the chain goes on from where it stands. With no records at all (a flushed
    database) that is a fresh start; with records, a missing head is what deleting the newest
    records together with the head looks like, so the new head notes the incident (under the
    key) and verification goes on reporting it."""
    from django.db import IntegrityError

    newest = AuditEvent.objects.order_by("-seq").first()
    head = AuditChainHead(
        pk=1,
        last_seq=newest.seq if newest else 0,
        last_hash=newest.hash if newest else GENESIS_HASH,
    )
    if newest is not None:
        head.incident, head.incident_seq = HeadIncident.MISSING, newest.seq + 1
    head.mac = head.compute_mac()
    try:
        with transaction.atomic():
            head.save(force_insert=True)
    except IntegrityError:
        pass  # another process made it a moment ago
    return AuditChainHead.objects.select_for_update().get(pk=1)


def audit_record(
    *,
    action: str,
    actor=None,
    target: Any = None,
    outcome: str = Outcome.SUCCESS,
    details: dict | None = None,
    username: str | None = None,
    organization=None,
) -> AuditEvent:
    """Append one record. Call it inside the service's transaction for writes (so the
    record and the change commit or roll back together), and on its own for refusals and
    failed sign-ins (which change nothing else).

    ``actor`` is the acting user; the organisation they act for is taken from their acting
    membership unless ``organization`` is given. ``username`` names the account for
    anonymous attempts (a failed sign-in).
    """
    ctx = context.current()
    user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    if organization is None and user is not None:
        organization = get_actor(user).organization
    target_type, target_id, target_repr = _describe_target(target)
    with transaction.atomic():
        head = AuditChainHead.objects.select_for_update().filter(pk=1).first() or _recreate_head()
        event = AuditEvent(
            seq=head.last_seq + 1,
            occurred_at=timezone.now(),
            actor=user,
            actor_username=(user.get_username() if user is not None else (username or ""))[:150],
            organization_id_snapshot=organization.pk if organization is not None else None,
            organization_name=str(organization)[:200] if organization is not None else "",
            action=action,
            target_type=target_type,
            target_id=target_id,
            target_repr=target_repr,
            outcome=outcome,
            source_address=ctx.source_address[:64],
            channel=ctx.channel,
            request_id=ctx.request_id,
            details=details or {},
            prev_hash=head.last_hash,
        )
        event.hash = event.compute_hash()
        event.save(force_insert=True)
        if not head.incident and not head.mac_ok():
            # Someone rewrote the head without the key (rewound it, moved its anchor): keep
            # recording, but do not key the forged state as if it were sound.
            head.incident, head.incident_seq = HeadIncident.ALTERED, event.seq
        head.last_seq, head.last_hash = event.seq, event.hash
        head.mac = head.compute_mac()
        AuditChainHead.objects.filter(pk=1).update(
            last_seq=head.last_seq,
            last_hash=head.last_hash,
            incident=head.incident,
            incident_seq=head.incident_seq,
            mac=head.mac,
        )
    return event


def audit_refusal(exc: ServiceError, *, actor, action: str, target=None, details: dict | None = None) -> NoReturn:
    """Record a refused attempt, then raise it again. Services call it outside their write
    transaction, so the record survives the refusal (which itself changes nothing)."""
    from nqihub.core.errors import Forbidden, NotFound

    audit_record(
        action=action,
        actor=actor,
        target=target,
        outcome=Outcome.DENIED if isinstance(exc, (Forbidden, NotFound)) else Outcome.FAILURE,
        details={"code": exc.code, **(details or {})},
    )
    raise exc
