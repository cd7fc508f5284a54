"""Background work of the downloads app. Tasks take JSON-safe ids and call services."""

from __future__ import annotations

from django_tasks import task

from .services import export_run


@task()
def run_export(job_id: int, language: str = "", request_id: str = "", source_address: str = "") -> dict:
    """Make the workbook of one background export (``services.export_run``). ``language`` is
    the requester's (headers, sheet names and messages are in it); ``request_id`` and
    ``source_address`` tie the export's audit records to the request that asked for it."""
    job = export_run(job_id=job_id, language=language, request_id=request_id, source_address=source_address)
    if job is None:
        return {"id": job_id, "state": "missing"}
    return {"id": job.pk, "state": job.state, "rows": job.rows_written}
