"""Background work of the metrology app. Tasks take JSON-safe ids and call services."""

from __future__ import annotations

from django_tasks import task

from .services.imports import import_run, import_status


@task()
def run_import(job_id: int, language: str = "", request_id: str = "", source_address: str = "") -> dict:
    """Check and apply one ledger import (``services.imports.import_run``). ``language`` is the
    uploader's, so the errors they read are in it; ``request_id`` and ``source_address`` tie
    the import's audit record to the upload."""
    job = import_run(job_id=job_id, language=language, request_id=request_id, source_address=source_address)
    return import_status(job) if job is not None else {"id": job_id, "state": "missing"}
