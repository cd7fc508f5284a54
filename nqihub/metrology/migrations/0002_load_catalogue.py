"""Load the catalogue of instruments under mandatory management from the committed CSV.

What ships is what the project's domain facts (FACTS 3.2) support: a few entries corroborated
by several sources, and the rest marked ``unverified`` until they are transcribed from the
official text (SAMR announcement 2020 No. 42). Every number in it is provisional. Staff edit
the catalogue through ``catalogue_item_update``; a later transcription ships as a new data
migration, not as an edit of this CSV (an applied migration must keep loading the same rows).

Self-contained on purpose (no app code): it uses the historical model and reads the CSV with
the standard library. Items already present (by code) are kept as they are. Reversing deletes
exactly the codes of the CSV; it stops if instruments still refer to them (``PROTECT``).
"""

import csv
from pathlib import Path

from django.db import migrations

CSV_PATH = Path(__file__).resolve().parent.parent / "data" / "catalogue.csv"
BOOLEANS = ("use_trade", "use_safety", "use_medical", "use_environment")
NUMBERS = ("level1_no", "level2_no", "period_months", "service_life_months")


def read_rows():
    with open(CSV_PATH, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _values(row):
    values = {key: value.strip() for key, value in row.items()}
    for key in BOOLEANS:
        values[key] = values[key] == "1"
    for key in NUMBERS:
        values[key] = int(values[key]) if values[key] else None
    return values


def load(apps, schema_editor):
    CatalogueItem = apps.get_model("metrology", "CatalogueItem")
    manager = CatalogueItem.objects.using(schema_editor.connection.alias)
    present = set(manager.values_list("code", flat=True))
    manager.bulk_create([CatalogueItem(**_values(row)) for row in read_rows() if row["code"].strip() not in present])


def unload(apps, schema_editor):
    CatalogueItem = apps.get_model("metrology", "CatalogueItem")
    manager = CatalogueItem.objects.using(schema_editor.connection.alias)
    manager.filter(code__in=[row["code"].strip() for row in read_rows()]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("metrology", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(load, unload),
    ]
