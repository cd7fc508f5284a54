"""Indexes for searching instruments at scale (millions of rows).

* ``factory_number`` alone: a regulator searches one factory number across enterprises.
* On PostgreSQL, a trigram index on ``UPPER(name)``: Django writes ``name__icontains`` as
  ``UPPER(name) LIKE UPPER('%…%')``, which a b-tree cannot serve. It needs the ``pg_trgm``
  extension (a trusted extension: the database owner may create it) and a database whose
  LC_CTYPE is UTF-8, or Chinese text yields no trigrams; searches shorter than three
  characters still scan. Where the extension cannot be created (no privilege), the migration
  says so and goes on: searches work, only slower (docs/deployment.md).
SQLite has neither and needs neither: nothing is done there.
"""

import logging

from django.db import DatabaseError, migrations, models, transaction

logger = logging.getLogger(__name__)

TRGM_INDEX = "instrument_name_trgm_idx"


def create_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {TRGM_INDEX} ON metrology_instrument USING gin (UPPER(name) gin_trgm_ops)"
            )
    except DatabaseError as exc:
        logger.warning("No trigram index for instrument names (%s); name searches will scan.", exc)


def drop_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {TRGM_INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("metrology", "0007_document_number_counter"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="instrument",
            index=models.Index(fields=["factory_number"], name="instrument_factory_number_idx"),
        ),
        migrations.RunPython(create_trigram_index, drop_trigram_index),
    ]
