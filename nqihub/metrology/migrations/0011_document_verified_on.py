"""Documents carry their result's verification day (statistics count by it without joining
the results): added nullable, filled from the results in one statement, then required."""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def fill_verified_on(apps, schema_editor):
    IssuedDocument = apps.get_model("metrology", "IssuedDocument")
    VerificationResult = apps.get_model("metrology", "VerificationResult")
    db = schema_editor.connection.alias
    IssuedDocument.objects.using(db).filter(verified_on__isnull=True).update(
        verified_on=Subquery(
            VerificationResult.objects.using(db).filter(pk=OuterRef("result_id")).values("verified_on")[:1]
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("metrology", "0010_document_state_machine"),
    ]

    operations = [
        migrations.AddField(
            model_name="issueddocument",
            name="verified_on",
            field=models.DateField(editable=False, null=True, verbose_name="verified on"),
        ),
        migrations.RunPython(fill_verified_on, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="issueddocument",
            name="verified_on",
            field=models.DateField(editable=False, verbose_name="verified on"),
        ),
        migrations.AddIndex(
            model_name="issueddocument",
            index=models.Index(fields=["division", "verified_on"], name="document_division_verified_idx"),
        ),
    ]
