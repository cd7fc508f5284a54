"""The ledger import and a concurrent write of the same enterprise on PostgreSQL (found by the
load test, ``core/tests/attack/test_load.py``).

Django makes foreign keys ``DEFERRABLE INITIALLY DEFERRED`` on PostgreSQL, so a transaction
that inserts a row naming the enterprise (an application, an instrument) takes its key-share
lock on the enterprise's row only at COMMIT, after its audit record has taken the audit chain's
head. The import held the enterprise (and its instruments and catalogue items) ``FOR UPDATE``,
which conflicts with a key-share lock, and waited for the head for its own audit record: each
waited for the other, and PostgreSQL cancelled one of them (a 500 or a failed import). It now
locks them ``FOR NO KEY UPDATE``, which still keeps a second import or an update out but lets a
row that merely names them be written."""

from __future__ import annotations

import threading
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections, transaction

from nqihub.audit.services import audit_record
from nqihub.metrology.models import ImportJob, Instrument
from nqihub.metrology.services import imports as services

from .test_imports import _csv, _row, catalogue  # noqa: F401 - the fixture


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_import_and_a_write_naming_the_enterprise_do_not_deadlock(world, catalogue, settings):  # noqa: F811
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend", "QUEUES": ["default"]}}
    manager = world.users["ent_manager"]
    upload = SimpleUploadedFile("a.csv", _csv([_row(factory_number=f"L{n}") for n in range(50)]))
    job = services.import_start(actor=manager, uploaded_file=upload)  # queued, not run
    outcome: dict[str, object] = {}

    def worker():
        try:
            services.import_run(job_id=job.pk)
        except Exception as exc:  # reported by the assertion below
            outcome["import"] = repr(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=worker)
    try:
        with transaction.atomic():
            # A write naming the enterprise, with its audit record (the chain's head is now held).
            Instrument.objects.create(
                organization=world.ent_kundulun,
                division_id=world.ent_kundulun.division_id,
                catalogue_item=catalogue["scale"],
                name="手工登记",
                factory_number="HAND-1",
                location="门市",
                use_field="trade",
                status="in_use",
            )
            audit_record(action="instrument.create", actor=manager)
            thread.start()
            time.sleep(1.5)  # the import has locked the enterprise and waits for the head
    except Exception as exc:
        outcome["write"] = repr(exc)
    if thread.ident is not None:
        thread.join(timeout=60)
    job.refresh_from_db()
    assert outcome == {}, outcome
    assert (job.state, job.created_count) == (ImportJob.State.DONE, 50), job.errors
