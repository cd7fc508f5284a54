"""A ledger import whose worker died (no heartbeat for NQI_JOB_STALE_SECONDS) is retried once,
then failed with a clear message, by ``recover_jobs`` and whenever its page polls it: never
left "importing"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation

from nqihub.audit.models import AuditEvent
from nqihub.metrology.models import ImportJob, Instrument
from nqihub.metrology.services import imports as services
from nqihub.tables import jobs

from .test_imports import _csv, _row, catalogue  # noqa: F401 - the fixture


@pytest.fixture
def stalled(world, catalogue):  # noqa: F811
    """A job a worker took and then died on: running, its last heartbeat ten minutes old."""

    def _stalled(state=ImportJob.State.IMPORTING, attempts=1) -> ImportJob:
        upload = SimpleUploadedFile("a.csv", _csv([_row(factory_number="R1"), _row(factory_number="R2")]))
        job = services.import_start(actor=world.users["ent_manager"], uploaded_file=upload)  # not queued: no commit
        assert jobs.claim(job)
        long_ago = timezone.now() - timedelta(minutes=10)
        ImportJob.objects.filter(pk=job.pk).update(
            state=state, heartbeat_at=long_ago, started_at=long_ago, attempts=attempts, processed_rows=2, total_rows=2
        )
        job.refresh_from_db()
        return job

    return _stalled


def test_a_job_whose_worker_died_is_run_again_once(stalled, django_capture_on_commit_callbacks):
    job = stalled()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("recover_jobs", stdout=open("/dev/null", "w"))
    job.refresh_from_db()
    assert (job.state, job.created_count, job.attempts) == (ImportJob.State.DONE, 2, 2), job.errors
    assert Instrument.objects.filter(factory_number__in=["R1", "R2"]).count() == 2


def test_a_job_whose_worker_died_twice_is_failed_with_a_message(stalled, django_capture_on_commit_callbacks):
    job = stalled(attempts=2)
    with django_capture_on_commit_callbacks(execute=True), translation.override("en"):
        assert jobs.recover_stale() == {"retried": 0, "failed": 1}
    job.refresh_from_db()
    assert job.state == ImportJob.State.ERROR and job.finished_at is not None
    assert "worker" in job.errors[0]["message"] or "服务" in job.errors[0]["message"]
    assert Instrument.objects.filter(factory_number__in=["R1", "R2"]).count() == 0
    assert AuditEvent.objects.filter(action="instrument.import", outcome="failure").count() == 1


def test_a_live_job_is_left_alone(stalled):
    job = stalled()
    ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now())
    assert jobs.recover_stale() == {"retried": 0, "failed": 0}
    job.refresh_from_db()
    assert job.state == ImportJob.State.IMPORTING


def test_polling_a_stalled_job_recovers_it(stalled, web, world):
    job = stalled(state=ImportJob.State.VALIDATING, attempts=2)
    status = web(world.users["ent_manager"]).get(reverse("metrology:import_status", args=[job.pk])).json()
    assert status["finished"] is True and status["state"] == ImportJob.State.ERROR


def test_a_job_past_its_time_is_stopped(world, catalogue, settings, django_capture_on_commit_callbacks):  # noqa: F811
    settings.NQI_TABLE_MAX_JOB_SECONDS = 0
    upload = SimpleUploadedFile("a.csv", _csv([_row(factory_number=f"T{i}") for i in range(3)]))
    with django_capture_on_commit_callbacks(execute=True):
        job = services.import_start(actor=world.users["ent_manager"], uploaded_file=upload)
    job.refresh_from_db()
    assert job.state == ImportJob.State.ERROR
    assert Instrument.objects.filter(factory_number__startswith="T").count() == 0


def test_the_state_is_protected(stalled):
    job = stalled()
    with pytest.raises(AttributeError):
        job.state = ImportJob.State.DONE


def test_polling_a_stalled_job_over_the_api_recovers_it(stalled, api, world):
    job = stalled(attempts=2)
    detail = api(world.users["ent_manager"]).get(f"/api/v1/instrument-imports/{job.pk}/")
    assert detail.status_code == 200 and detail.json()["state"] == ImportJob.State.ERROR
    # Someone else's job is still not found, stalled or not.
    other = stalled(attempts=2)
    assert api(world.users["ent_other"]).get(f"/api/v1/instrument-imports/{other.pk}/").status_code == 404
    other.refresh_from_db()
    assert other.state == ImportJob.State.IMPORTING


def _lost(world, **times) -> ImportJob:
    """A job committed by a process that died before it queued the task (the web server killed
    right after the upload's commit): queued, and no task will ever run it."""
    upload = SimpleUploadedFile("a.csv", _csv([_row(factory_number="Q1"), _row(factory_number="Q2")]))
    job = services.import_start(actor=world.users["ent_manager"], uploaded_file=upload)  # on_commit never runs
    ImportJob.objects.filter(pk=job.pk).update(**times)
    job.refresh_from_db()
    return job


def test_a_queued_job_whose_task_was_never_queued_is_queued_again(world, catalogue, django_capture_on_commit_callbacks):  # noqa: F811
    long_ago = timezone.now() - timedelta(minutes=10)
    job = _lost(world, created_at=long_ago)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("recover_jobs", stdout=open("/dev/null", "w"))
    job.refresh_from_db()
    assert (job.state, job.created_count) == (ImportJob.State.DONE, 2), job.errors
    assert Instrument.objects.filter(factory_number__in=["Q1", "Q2"]).count() == 2


def test_a_queued_job_is_queued_again_only_once_per_stale_period(world, catalogue, django_capture_on_commit_callbacks):  # noqa: F811
    recent = _lost(world)  # queued a moment ago: its task is on its way
    with django_capture_on_commit_callbacks(execute=False) as sent:
        assert jobs.recover_stale() == {"retried": 0, "failed": 0}
    assert sent == []
    ImportJob.objects.filter(pk=recent.pk).update(created_at=timezone.now() - timedelta(minutes=10))
    with django_capture_on_commit_callbacks(execute=False) as sent:
        assert jobs.recover_stale() == {"retried": 1, "failed": 0}
        assert jobs.recover_stale() == {"retried": 0, "failed": 0}  # queued again just now
    assert len(sent) == 1
    recent.refresh_from_db()
    assert recent.state == ImportJob.State.QUEUED


def test_polling_a_queued_job_whose_task_was_lost_queues_it_again(
    world,
    catalogue,  # noqa: F811
    api,
    django_capture_on_commit_callbacks,
):
    job = _lost(world, created_at=timezone.now() - timedelta(minutes=10))
    with django_capture_on_commit_callbacks(execute=True):
        response = api(world.users["ent_manager"]).get(f"/api/v1/instrument-imports/{job.pk}/")
    assert response.status_code == 200
    job.refresh_from_db()
    assert job.state == ImportJob.State.DONE
