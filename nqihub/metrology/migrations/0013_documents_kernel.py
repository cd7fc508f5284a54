"""Issued documents move onto the documents kernel (``nqihub.documents``).

* The number counters move to ``documents.DocumentNumberCounter`` (issuer, kind, year, last),
  keeping every row: the kind becomes the registered key (``metrology.certificate``,
  ``metrology.notice``), so numbers go on from where they were.
* ``content_sha256``: the SHA-256 of each document's canonical content, filled in for the
  documents issued so far in batches (one UPDATE per batch, no row rewritten twice; the
  document table keeps its rows and columns otherwise).
* ``document_instrument_latest_idx``: the public check of a label finds an instrument's latest
  document in force with one index seek.

The content is frozen here as it was defined when this migration was written (the issuer field
and the metrology content fields), so a later change of the model does not change the hashes.
"""

from django.db import migrations, models

from nqihub.documents.models import content_hash, document_content

BATCH = 2000
ISSUER_FIELD = "institution"
CONTENT_FIELDS = ("result", "instrument", "organization", "verified_on", "fee", "waived")
CONTENT_COLUMNS = ("kind", "number", "public_code", "issued_at", "valid_until", "public_facts")


def fill_content_hashes(apps, schema_editor):
    IssuedDocument = apps.get_model("metrology", "IssuedDocument")
    alias = schema_editor.connection.alias
    names = (ISSUER_FIELD, *CONTENT_COLUMNS, *CONTENT_FIELDS)
    documents = IssuedDocument.objects.using(alias).filter(content_sha256="").only(*names).order_by("pk")
    batch = []
    for document in documents.iterator(chunk_size=BATCH):
        document.content_sha256 = content_hash(
            document_content(document, issuer_field=ISSUER_FIELD, content_fields=CONTENT_FIELDS)
        )
        batch.append(document)
        if len(batch) >= BATCH:
            IssuedDocument.objects.using(alias).bulk_update(batch, ["content_sha256"])
            batch = []
    if batch:
        IssuedDocument.objects.using(alias).bulk_update(batch, ["content_sha256"])


def move_counters(apps, schema_editor):
    Old = apps.get_model("metrology", "DocumentNumberCounter")
    New = apps.get_model("documents", "DocumentNumberCounter")
    alias = schema_editor.connection.alias
    New.objects.using(alias).bulk_create(
        (
            New(issuer_id=issuer_id, kind=f"metrology.{kind}", year=year, last=last)
            for issuer_id, kind, year, last in Old.objects.using(alias)
            .order_by("pk")
            .values_list("institution_id", "kind", "year", "last")
        ),
        batch_size=BATCH,
    )


def move_counters_back(apps, schema_editor):
    Old = apps.get_model("metrology", "DocumentNumberCounter")
    New = apps.get_model("documents", "DocumentNumberCounter")
    alias = schema_editor.connection.alias
    Old.objects.using(alias).bulk_create(
        (
            Old(institution_id=issuer_id, kind=kind.removeprefix("metrology."), year=year, last=last)
            for issuer_id, kind, year, last in New.objects.using(alias)
            .filter(kind__startswith="metrology.")
            .order_by("pk")
            .values_list("issuer_id", "kind", "year", "last")
        ),
        batch_size=BATCH,
    )
    New.objects.using(alias).filter(kind__startswith="metrology.").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("documents", "0001_initial"),
        ("metrology", "0012_policy_validity_convention"),
    ]

    operations = [
        migrations.AddField(
            model_name="issueddocument",
            name="content_sha256",
            field=models.CharField(blank=True, db_default="", default="", editable=False, max_length=64),
        ),
        migrations.RunPython(fill_content_hashes, migrations.RunPython.noop),
        migrations.RunPython(move_counters, move_counters_back),
        migrations.DeleteModel(name="DocumentNumberCounter"),
        migrations.AddIndex(
            model_name="issueddocument",
            index=models.Index(
                fields=["instrument", "state", "-verified_on", "-issued_at", "-id"],
                name="document_instrument_latest_idx",
            ),
        ),
    ]
