"""One locked number counter for the whole project (``NumberCounter``: series, issuer, year,
last). The case counters move into it, every row kept with its value (series ``cases.<kind>``),
so case numbers go on from where they were and never repeat; the issued documents' counters
follow in ``documents.0002``. One INSERT … SELECT each way, which SQLite and PostgreSQL both
accept."""

import django.db.models.deletion
from django.db import migrations, models

FORWARD = """
INSERT INTO cases_numbercounter (series, issuer_id, year, {last})
SELECT 'cases.' || kind, NULL, year, {last} FROM cases_casenumbercounter
"""
BACKWARD = """
INSERT INTO cases_casenumbercounter (kind, year, {last})
SELECT SUBSTR(series, 7), year, {last} FROM cases_numbercounter
WHERE issuer_id IS NULL AND SUBSTR(series, 1, 6) = 'cases.'
"""


def _run(sql):
    def run(apps, schema_editor):
        schema_editor.execute(sql.format(last=schema_editor.quote_name("last")))

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0001_initial"),
        ("organizations", "0005_registration_case_required"),
    ]

    operations = [
        migrations.CreateModel(
            name="NumberCounter",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("series", models.CharField(max_length=80, verbose_name="series")),
                ("year", models.PositiveSmallIntegerField(verbose_name="year")),
                ("last", models.PositiveIntegerField(default=0, verbose_name="last number")),
                (
                    "issuer",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="organizations.organization",
                    ),
                ),
            ],
            options={
                "verbose_name": "number counter",
                "verbose_name_plural": "number counters",
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("issuer__isnull", False)),
                        fields=("series", "issuer", "year"),
                        name="number_counter_issuer_unique",
                    ),
                    models.UniqueConstraint(
                        condition=models.Q(("issuer__isnull", True)),
                        fields=("series", "year"),
                        name="number_counter_unique",
                    ),
                ],
            },
        ),
        migrations.RunPython(_run(FORWARD), _run(BACKWARD)),
        migrations.DeleteModel(name="CaseNumberCounter"),
    ]
