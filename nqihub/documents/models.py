"""Issued documents: what every module that issues a numbered, checkable document shares.

* Numbers come from the project's one locked counter (``nqihub.cases.numbering``), one series
  per document kind and issuer and year; the number's form is the owning module's
  (``registry.DocumentKind.number_prefix``).
* :class:`IssuedDocumentBase` — the abstract document: number, public check code, kind, the
  state machine (valid → superseded / revoked, never back), the PDF with its SHA-256, the
  public facts written at issue and the SHA-256 of its canonical content. A module's document
  model derives from it and adds its own relations (what was verified, tested, certified …).

Nothing here imports a domain app: the issuer is an organisation (a string reference), and a
module tells the kernel about its kinds through :mod:`nqihub.documents.registry`.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

# Crockford base32: no I, L, O, U — codes read aloud or typed from paper are not confused.
PUBLIC_CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PUBLIC_CODE_LENGTH = 16

# What the public check reports of a document: the recorded end states, or, while it is in
# force, "valid"/"expired" (or the kind's own word, e.g. "failed" for a notice of failure).
DOCUMENT_STATUSES = ("valid", "expired", "failed", "revoked", "superseded")


def new_public_code() -> str:
    """A random check code (16 characters, 80 bits): what a QR code and /verify/<code>/ carry."""
    return "".join(secrets.choice(PUBLIC_CODE_ALPHABET) for _ in range(PUBLIC_CODE_LENGTH))


def status_of(*, state: str, valid_until, day, in_force: str = "valid") -> str:
    """The status rule of every issued document: revoked or superseded as recorded; in force,
    ``in_force`` (the kind's word), or "expired" after its valid-until day when ``in_force`` is
    "valid". ``valid_until`` and ``day`` are both dates or both ISO dates (text compares alike)."""
    if state != IssuedDocumentBase.State.VALID:
        return state
    if in_force != "valid":
        return in_force
    if valid_until is not None and valid_until < day:
        return "expired"
    return "valid"


def canonical_content(content: dict) -> bytes:
    """The canonical bytes of a document's content: JSON with sorted keys, no spaces, UTF-8
    (dates and decimals as text), so the same facts always give the same hash."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode("utf-8")


def content_hash(content: dict) -> str:
    return hashlib.sha256(canonical_content(content)).hexdigest()


class IssuedDocumentBase(FSMModelMixin, models.Model):
    """A document as issued. Never changed once issued: a correction is a new document that
    supersedes it; revoking records a reason. ``public_code`` is what the QR code and
    /verify/<code>/ carry; ``public_facts`` what the check shows besides the live state.

    A concrete model names its issuer field (``ISSUER_FIELD``, an organisation) and the fields
    that belong to its content besides the kernel's (``CONTENT_FIELDS``), and overrides ``kind``
    with its choices."""

    ISSUER_FIELD = "issuer"
    CONTENT_FIELDS: tuple[str, ...] = ()

    class State(models.TextChoices):
        VALID = "valid", _("Valid")
        REVOKED = "revoked", _("Revoked")
        SUPERSEDED = "superseded", _("Superseded")

    public_code = models.CharField(_("check code"), max_length=16, unique=True, default=new_public_code, editable=False)
    number = models.CharField(_("document number"), max_length=40)
    kind = models.CharField(_("kind"), max_length=16)
    issued_at = models.DateTimeField(_("issued"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    # Changed only by the transitions below (supersede, revoke); nothing returns to valid.
    state = FSMField(_("state"), max_length=16, choices=State.choices, default=State.VALID, protected=True)
    superseded_by = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="supersedes"
    )
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_reason = models.TextField(_("reason for revocation"), blank=True)
    pdf = models.FileField(upload_to="documents/%Y/%m/", blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    public_facts = models.JSONField(default=dict, editable=False)
    # SHA-256 of canonical_content(content()): the facts as issued, provable later.
    content_sha256 = models.CharField(max_length=64, blank=True, db_default="", default="", editable=False)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.number

    @property
    def issuer_id(self) -> int:
        return getattr(self, f"{self.ISSUER_FIELD}_id")

    @transition(field=state, source=State.VALID, target=State.SUPERSEDED)
    def supersede(self, by: IssuedDocumentBase) -> None:
        self.superseded_by = by

    @transition(field=state, source=State.VALID, target=State.REVOKED)
    def revoke(self, *, at, reason: str) -> None:
        self.revoked_at, self.revoked_reason = at, reason

    def content(self) -> dict:
        """What the content hash covers (``document_content``)."""
        return document_content(self, issuer_field=self.ISSUER_FIELD, content_fields=self.CONTENT_FIELDS)

    def compute_content_sha256(self) -> str:
        return content_hash(self.content())


def _plain(field, value):
    if value is None:
        return None
    if isinstance(field, models.DecimalField):
        return f"{value:.{field.decimal_places}f}"
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        return value.astimezone(datetime.UTC).isoformat()  # as the database gives it back
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def document_content(document, *, issuer_field: str, content_fields=()) -> dict:
    """What a document's content hash covers: who issued what, under which number and check
    code, when, valid until when, with which public facts, plus the model's ``content_fields``
    (dates as ISO text, decimals with their places). The live state (superseded, revoked) and
    the PDF are not content. Works on historical models too (a migration's backfill)."""
    meta = document._meta
    content = {
        "issuer": getattr(document, f"{issuer_field}_id"),
        "facts": document.public_facts,
    }
    for name in ("kind", "number", "public_code", "issued_at", "valid_until", *content_fields):
        field = meta.get_field(name)
        content[name] = _plain(field, getattr(document, field.attname))
    return content
