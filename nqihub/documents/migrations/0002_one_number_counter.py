"""The issued documents' counters move into the project's one number counter
(``cases.NumberCounter``), every row kept with its value: series = the kind's key
(``metrology.certificate``), the same issuer and year, so document numbers go on from where they
were and never repeat. One INSERT … SELECT each way, which SQLite and PostgreSQL both accept.

It runs after metrology's 0013, the last migration that writes these counters."""

from django.db import migrations

FORWARD = """
INSERT INTO cases_numbercounter (series, issuer_id, year, {last})
SELECT kind, issuer_id, year, {last} FROM documents_documentnumbercounter
"""
BACKWARD = """
INSERT INTO documents_documentnumbercounter (issuer_id, kind, year, {last})
SELECT issuer_id, series, year, {last} FROM cases_numbercounter WHERE issuer_id IS NOT NULL
"""
BACKWARD_DROP = "DELETE FROM cases_numbercounter WHERE issuer_id IS NOT NULL"


def _forward(apps, schema_editor):
    schema_editor.execute(FORWARD.format(last=schema_editor.quote_name("last")))


def _backward(apps, schema_editor):
    schema_editor.execute(BACKWARD.format(last=schema_editor.quote_name("last")))
    schema_editor.execute(BACKWARD_DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("documents", "0001_initial"),
        ("cases", "0002_number_counter"),
        ("metrology", "0013_documents_kernel"),
    ]

    operations = [
        migrations.RunPython(_forward, _backward),
        migrations.DeleteModel(name="DocumentNumberCounter"),
    ]
