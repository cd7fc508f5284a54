"""Load Inner Mongolia (150000): current 盟市/旗县区 and historic codes from the committed CSV.

Self-contained on purpose: a migration must keep working however ``loaders.py`` evolves, and
the historical model has no ``save()`` override, so the path is computed here with the same
rule as ``AdminDivision.compute_path`` (parent's path + code + "/").
"""

import csv
from pathlib import Path

from django.db import migrations

CSV_PATH = Path(__file__).resolve().parent.parent / "data" / "inner_mongolia.csv"
LEVEL_ORDER = {"province": 0, "prefecture": 1, "county": 2}


def read_rows():
    with open(CSV_PATH, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    # Parent-first, so every parent's path is known when its children are built.
    rows.sort(key=lambda row: (LEVEL_ORDER[row["level"]], row["code"]))
    return rows


def load(apps, schema_editor):
    AdminDivision = apps.get_model("divisions", "AdminDivision")
    db = schema_editor.connection.alias
    manager = AdminDivision.objects.using(db)
    paths = dict(manager.values_list("code", "path"))
    new = []
    for row in read_rows():
        code, parent = row["code"], row["parent_code"] or None
        if code in paths:
            continue  # already there (e.g. loaded by the command before migrating): keep it
        path = f"{paths[parent] if parent else ''}{code}/"
        paths[code] = path
        new.append(
            AdminDivision(
                code=code,
                name=row["name"],
                level=row["level"],
                parent_id=parent,
                path=path,
                is_current=row["is_current"].strip().lower() == "true",
                valid_until=int(row["valid_until"]) if row["valid_until"] else None,
                source=row["source"],
            )
        )
    manager.bulk_create(new, batch_size=500)


def unload(apps, schema_editor):
    AdminDivision = apps.get_model("divisions", "AdminDivision")
    manager = AdminDivision.objects.using(schema_editor.connection.alias)
    rows = read_rows()
    # Children first: parent is on_delete=PROTECT.
    for level in ("county", "prefecture", "province"):
        manager.filter(code__in=[row["code"] for row in rows if row["level"] == level]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("divisions", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(load, unload),
    ]
