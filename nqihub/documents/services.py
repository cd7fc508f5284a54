"""The documents kernel's services: numbering, issuing, superseding, revoking, and the stored PDF.

A module's own service checks the actor's permission and the input, locks what it changes,
then calls these inside its transaction:

* :func:`issue` — the issuer's next number of the kind and year (the project's one locked
  counter, ``nqihub.cases.numbering``, a series per kind and issuer), the content hash, the
  insert and the audit record; the PDF is
  rendered *after the transaction commits* (``transaction.on_commit``), so a rollback leaves
  no file behind and the lock on the counter is not held while drawing.
* :func:`supersede` / :func:`revoke` — the state machine's transitions, saved.
* :func:`stored_pdf` — the PDF as issued for a download: rendered now if the after-commit
  rendering has not happened (or failed), refused if the stored bytes no longer match the
  stored SHA-256.
"""

from __future__ import annotations

import hashlib
from functools import partial

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models.functions import Length
from django.utils import timezone

from nqihub.audit.services import audit_record
from nqihub.cases.numbering import next_sequences

from .models import IssuedDocumentBase
from .registry import DocumentKind, document_kind


class PdfMismatch(Exception):
    """The stored PDF is not the one issued (its SHA-256 differs)."""


# --- numbering -------------------------------------------------------------------------------


def highest_sequence_issued(kind: DocumentKind, issuer_id: int, year: int) -> int:
    """The highest sequence already used under the kind's prefix for the issuer and year,
    compared as a number (the longest number first, then the greatest: ``…-1000000`` above
    ``…-999999``). Read only when a counter is created and when a number turns out to be taken
    (documents written past the counter, e.g. by a bulk load); a number typed by hand with a
    non-numeric tail is skipped."""
    prefix = kind.number_prefix(issuer_id, year)
    numbers = (
        kind.model._default_manager.filter(**{kind.model.ISSUER_FIELD + "_id": issuer_id, "number__startswith": prefix})
        .annotate(_length=Length("number"))
        .order_by("-_length", "-number")
        .values_list("number", flat=True)
    )
    for number in numbers.iterator(chunk_size=100):
        tail = number[len(prefix) :]
        if tail.isascii() and tail.isdigit():
            return int(tail)
    return 0


# --- issuing ---------------------------------------------------------------------------------


def issue(model: type[IssuedDocumentBase], *, actor, action: str, details: dict | None = None, **fields):
    """Insert a document of ``model`` under its issuer's next number of the kind and year (the
    year of ``issued_at`` in local time), with its content hash; record ``action`` in the audit
    trail; render and store the PDF once the transaction commits. Call it inside the module's
    transaction, after the permission and input checks.

    The number comes from the one numbering service (``nqihub.cases.numbering``), series
    ``kind.key`` per issuer and year. A number taken already by a document written past the
    counter (a bulk load) is stepped over: the counter moves past the highest number issued."""
    kind = document_kind(model, fields["kind"])
    issuer = fields.get(model.ISSUER_FIELD)
    issuer_id = issuer.pk if issuer is not None else fields[model.ISSUER_FIELD + "_id"]
    year = timezone.localtime(fields["issued_at"]).year
    issuer_field = model.ISSUER_FIELD + "_id"

    def taken(sequences):
        numbers = {kind.number(issuer_id, year, seq): seq for seq in sequences}
        found = model._default_manager.filter(**{issuer_field: issuer_id, "number__in": list(numbers)})
        return [numbers[n] for n in found.values_list("number", flat=True)]

    (sequence,) = next_sequences(
        kind.key,
        year,
        issuer_id=issuer_id,
        start=lambda: highest_sequence_issued(kind, issuer_id, year),
        taken=taken,
    )
    document = model(number=kind.number(issuer_id, year, sequence), **fields)
    document.content_sha256 = document.compute_content_sha256()
    document.save(force_insert=True)
    audit_record(
        action=action,
        actor=actor,
        target=document,
        details={
            "kind": document.kind,
            "number": document.number,
            "public_code": document.public_code,
            "content_sha256": document.content_sha256,
            **(details or {}),
        },
    )
    transaction.on_commit(partial(render_pdf, model, document.pk), robust=True)
    return document


def supersede(old: IssuedDocumentBase, new: IssuedDocumentBase) -> None:
    """``old`` (locked, valid) is replaced by ``new``: it becomes superseded and points to it."""
    old.supersede(new)
    old.save(update_fields=["state", "superseded_by"])


def revoke(document: IssuedDocumentBase, *, reason: str, at=None) -> None:
    """``document`` (locked, valid) is revoked now (or ``at``) for ``reason``."""
    document.revoke(at=at or timezone.now(), reason=reason)
    document.save(update_fields=["state", "revoked_at", "revoked_reason"])


def fill_missing_content_hashes(model: type[IssuedDocumentBase], *, batch: int = 2000) -> int:
    """Compute the content hash of the documents of ``model`` written past :func:`issue` (a bulk
    load such as the demo) and store them, one UPDATE per ``batch`` documents. Returns the count."""
    names = (model.ISSUER_FIELD, "kind", "number", "public_code", "issued_at", "valid_until", "public_facts")
    documents = model._default_manager.filter(content_sha256="").only(*names, *model.CONTENT_FIELDS).order_by("pk")
    done, pending = 0, []
    for document in documents.iterator(chunk_size=batch):
        document.content_sha256 = document.compute_content_sha256()
        pending.append(document)
        if len(pending) >= batch:
            model._default_manager.bulk_update(pending, ["content_sha256"])
            done, pending = done + len(pending), []
    if pending:
        model._default_manager.bulk_update(pending, ["content_sha256"])
    return done + len(pending)


# --- the PDF ---------------------------------------------------------------------------------


def render_pdf(model: type[IssuedDocumentBase], pk: int) -> bytes | None:
    """Draw the document's PDF and store it with its SHA-256, unless it is stored already
    (idempotent: run after commit, and again on download when that did not happen). Returns
    the bytes it stored; None when it stored nothing (stored already, or the document does not
    exist: its issue was rolled back)."""
    document = model._default_manager.filter(pk=pk).first()
    if document is None:
        return None
    if document.pdf:
        return None
    data = document_kind(document).render(document)
    digest = hashlib.sha256(data).hexdigest()
    field = document.pdf.field
    name = field.storage.save(field.generate_filename(document, f"{document.number}.pdf"), ContentFile(data))
    stored = model._default_manager.filter(pk=pk, pdf="").update(pdf=name, pdf_sha256=digest)
    if not stored:  # another process stored it meanwhile: keep theirs
        field.storage.delete(name)
        return None
    return data


def stored_pdf(document: IssuedDocumentBase) -> bytes:
    """The document's PDF as issued, for a download: rendered and stored now if it is not yet;
    ``PdfMismatch`` when the stored bytes are not those issued (never hand them out)."""
    if not document.pdf:
        rendered = render_pdf(type(document), document.pk)
        document.refresh_from_db(fields=["pdf", "pdf_sha256"])
        if rendered is not None:
            return rendered
    with document.pdf.storage.open(str(document.pdf.name), "rb") as handle:  # the stored bytes, never a cached file
        data = handle.read()
    if document.pdf_sha256 and hashlib.sha256(data).hexdigest() != document.pdf_sha256:
        raise PdfMismatch(document.number)
    return data
