from __future__ import annotations

import hashlib
import hmac
import json

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .querysets import AppendOnlyError, AuditEventQuerySet

GENESIS_HASH = "0" * 64


def audit_key() -> bytes:
    """The key of the chain's HMAC: NQI_AUDIT_KEY, or one derived from the secret key. It
    must stay the same for the life of the trail (changing it makes every record fail)."""
    key = settings.NQI_AUDIT_KEY or settings.SECRET_KEY
    return hashlib.sha256(("nqihub.audit:" + key).encode("utf-8")).digest()


class Outcome(models.TextChoices):
    SUCCESS = "success", _("Success")
    FAILURE = "failure", _("Failure")
    DENIED = "denied", _("Denied")


class AuditEvent(models.Model):
    """One record of the audit trail (痕迹管理).

    Records are append-only: ``save`` refuses updates and ``delete`` refuses always. Each
    record carries the hash of the one before it, so removing or altering any record breaks
    the chain at that point; ``manage.py verify_audit_chain`` names the first broken record.
    The actor and organisation are copied as text too, so a record stays readable after an
    account or organisation is renamed or removed.
    """

    seq = models.PositiveBigIntegerField(_("sequence"), unique=True, editable=False)
    occurred_at = models.DateTimeField(_("time"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_username = models.CharField(_("account"), max_length=150, blank=True, db_index=True)
    organization_id_snapshot = models.BigIntegerField(_("organisation id"), null=True, blank=True, db_index=True)
    organization_name = models.CharField(_("organisation"), max_length=200, blank=True)
    action = models.CharField(_("action"), max_length=64, db_index=True)
    target_type = models.CharField(_("object type"), max_length=64, blank=True)
    target_id = models.CharField(_("object id"), max_length=64, blank=True)
    target_repr = models.CharField(_("object"), max_length=200, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    source_address = models.CharField(_("source address"), max_length=64, blank=True)
    channel = models.CharField(_("channel"), max_length=16, blank=True)
    request_id = models.CharField(_("request id"), max_length=32, blank=True, db_index=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, editable=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit record")
        verbose_name_plural = _("audit records")
        ordering = ["-seq"]
        indexes = [models.Index(fields=["target_type", "target_id"], name="audit_target_idx")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.occurred_at:%Y-%m-%d %H:%M:%S} {self.actor_username} {self.action}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None or not self._state.adding:
            raise AppendOnlyError("Audit records cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit records cannot be deleted.")

    def canonical_payload(self) -> str:
        """The exact text the hash covers; any change to a field changes the hash."""
        return canonical_payload({name: getattr(self, name) for name in HASHED_FIELDS})

    def compute_hash(self) -> str:
        """HMAC-SHA256 of the payload with the audit key: someone who can write to the
        database but does not hold the key cannot forge a consistent chain."""
        return record_hash({name: getattr(self, name) for name in HASHED_FIELDS})


# The fields a record's hash covers (attribute names), and the name each has in the payload.
HASHED_FIELDS = {
    "seq": "seq",
    "occurred_at": "occurred_at",
    "actor_id": "actor_id",
    "actor_username": "actor_username",
    "organization_id_snapshot": "organization_id",
    "organization_name": "organization_name",
    "action": "action",
    "target_type": "target_type",
    "target_id": "target_id",
    "target_repr": "target_repr",
    "outcome": "outcome",
    "source_address": "source_address",
    "channel": "channel",
    "request_id": "request_id",
    "details": "details",
    "prev_hash": "prev_hash",
}


def canonical_payload(values) -> str:
    """The canonical text of a record given as a mapping of ``HASHED_FIELDS`` (a model's
    attributes, or a row from ``.values()``, which verification reads without building models)."""
    data = {payload: values[name] for name, payload in HASHED_FIELDS.items()}
    data["occurred_at"] = data["occurred_at"].isoformat(timespec="microseconds")
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def record_hash(values, key: bytes | None = None) -> str:
    return hmac.new(key or audit_key(), canonical_payload(values).encode("utf-8"), hashlib.sha256).hexdigest()


def keyed_digest(domain: str, *fields: object) -> str:
    """HMAC-SHA256 with the audit key over ``fields`` joined by ``|``, prefixed by ``domain``
    (so a head's MAC can never pass for a checkpoint's, nor a record's for either)."""
    text = "|".join([f"nqihub.audit.{domain}", *("" if f is None else str(f) for f in fields)])
    return hmac.new(audit_key(), text.encode("utf-8"), hashlib.sha256).hexdigest()


class HeadIncident(models.TextChoices):
    """Why the head was found in a state only tampering explains, noted (under the key) by the
    append that found it, so the next append cannot launder it by keying the head again."""

    NONE = "", _("none")
    MISSING = "missing", _("the chain head was missing")
    ALTERED = "altered", _("the chain head did not match its key")


class AuditChainHead(models.Model):
    """The single row that serialises appends: the last sequence number and hash.

    Appending locks this row (SELECT … FOR UPDATE on PostgreSQL; SQLite serialises writers
    anyway), so sequence numbers have no gaps and removing the newest records is detected by
    comparing the chain with the head. ``anchor_*`` is where the chain starts after records
    older than the retention period were pruned.

    ``mac`` keys the other fields with the audit key, like the records' hashes: rewinding the
    head after deleting the newest records, or moving the anchor after deleting the oldest,
    needs the key. An append that finds the head missing (while records exist) or not matching
    its MAC goes on (the platform must keep recording) but notes it in ``incident_*``, which the
    MAC covers, so verification keeps reporting it.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    last_seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)
    anchor_seq = models.PositiveBigIntegerField(default=0)
    anchor_hash = models.CharField(max_length=64, default=GENESIS_HASH)
    incident = models.CharField(max_length=16, choices=HeadIncident.choices, blank=True, default="")
    incident_seq = models.PositiveBigIntegerField(null=True, blank=True)
    mac = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        verbose_name = _("audit chain head")

    def __str__(self) -> str:
        return f"audit chain at #{self.last_seq}"

    def compute_mac(self) -> str:
        return head_mac(
            last_seq=self.last_seq,
            last_hash=self.last_hash,
            anchor_seq=self.anchor_seq,
            anchor_hash=self.anchor_hash,
            incident=self.incident,
            incident_seq=self.incident_seq,
        )

    def mac_ok(self) -> bool:
        return hmac.compare_digest(self.mac or "", self.compute_mac())


def head_mac(
    *, last_seq: int, last_hash: str, anchor_seq: int, anchor_hash: str, incident: str = "", incident_seq=None
) -> str:
    """The head's MAC over all its fields (the migration that added it uses it too)."""
    return keyed_digest("head", last_seq, last_hash, anchor_seq, anchor_hash, incident, incident_seq)
