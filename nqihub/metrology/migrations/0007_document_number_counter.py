"""One counter row per (institution, kind, year) for document numbers, initialised from the
documents already issued.

Numbers look like ``JD-<institution pk>-<year>-000123`` (``TZ-`` for notices). Each counter
starts at the highest sequence already used under its prefix, compared as a number: the
lexically greatest number would put ``…-999999`` above ``…-1000000``. Numbers of another form
(typed by hand) are left out; the issuing service steps past any number that is taken anyway.
This migration does not import app code (the models here are the historical ones).
"""

import re

import django.db.models.deletion
from django.db import migrations, models

NUMBER = re.compile(r"^(JD|TZ)-(\d+)-(\d{4})-(\d+)$")
KIND_OF_PREFIX = {"JD": "certificate", "TZ": "notice"}
BATCH = 5000


def highest_sequences(rows) -> dict[tuple[int, str, int], int]:
    """{(institution id, kind, year): highest sequence} from (institution id, number) rows."""
    highest: dict[tuple[int, str, int], int] = {}
    for institution_id, number in rows:
        match = NUMBER.match(number or "")
        if match is None or int(match.group(2)) != institution_id:
            continue  # another institution's prefix can never collide with this one's numbers
        key = (institution_id, KIND_OF_PREFIX[match.group(1)], int(match.group(3)))
        sequence = int(match.group(4))
        if sequence > highest.get(key, 0):
            highest[key] = sequence
    return highest


def initialise_counters(apps, schema_editor):
    IssuedDocument = apps.get_model("metrology", "IssuedDocument")
    Counter = apps.get_model("metrology", "DocumentNumberCounter")
    alias = schema_editor.connection.alias
    rows = (
        IssuedDocument.objects.using(alias)
        .order_by()
        .values_list("institution_id", "number")
        .iterator(chunk_size=BATCH)
    )
    counters = [
        Counter(institution_id=institution_id, kind=kind, year=year, last=last)
        for (institution_id, kind, year), last in sorted(highest_sequences(rows).items())
    ]
    Counter.objects.using(alias).bulk_create(counters, batch_size=BATCH)


class Migration(migrations.Migration):
    dependencies = [
        ("metrology", "0006_english_labels"),
        ("organizations", "0002_verbose_names"),
    ]

    operations = [
        migrations.CreateModel(
            name="DocumentNumberCounter",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("certificate", "Verification certificate"),
                            ("notice", "Notice of verification result"),
                        ],
                        max_length=16,
                    ),
                ),
                ("year", models.PositiveSmallIntegerField()),
                ("last", models.PositiveIntegerField(default=0)),
                (
                    "institution",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="organizations.organization"
                    ),
                ),
            ],
            options={
                "verbose_name": "document number counter",
                "verbose_name_plural": "document number counters",
                "constraints": [
                    models.UniqueConstraint(fields=("institution", "kind", "year"), name="document_counter_unique")
                ],
            },
        ),
        migrations.RunPython(initialise_counters, migrations.RunPython.noop),
    ]
