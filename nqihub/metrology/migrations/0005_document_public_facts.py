"""Documents carry the public facts they were issued with (what /verify/<code>/ shows): added
here and filled in for documents issued before, in batches."""

from django.db import migrations, models
from django.utils import timezone

BATCH = 2000


def fill_public_facts(apps, schema_editor):
    from nqihub.metrology.models import document_public_facts

    IssuedDocument = apps.get_model("metrology", "IssuedDocument")
    db = schema_editor.connection.alias
    documents = IssuedDocument.objects.using(db).select_related(
        "institution", "instrument", "result__item__catalogue_item"
    )
    last = 0
    while True:
        batch = list(documents.filter(pk__gt=last).order_by("pk")[:BATCH])
        if not batch:
            return
        last = batch[-1].pk
        for doc in batch:
            doc.public_facts = document_public_facts(
                institution_name=doc.institution.name,
                instrument=doc.instrument,
                catalogue_item=doc.result.item.catalogue_item,
                outcome=doc.result.outcome,
                verified_on=doc.result.verified_on,
                issued_on=timezone.localtime(doc.issued_at).date(),
            )
        IssuedDocument.objects.using(db).bulk_update(batch, ["public_facts"])


class Migration(migrations.Migration):
    dependencies = [
        ("metrology", "0004_verification_workflow"),
    ]

    operations = [
        migrations.AddField(
            model_name="issueddocument",
            name="public_facts",
            field=models.JSONField(default=dict, editable=False),
        ),
        migrations.RunPython(fill_public_facts, migrations.RunPython.noop, elidable=True),
    ]
