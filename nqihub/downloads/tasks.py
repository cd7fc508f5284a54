"""Background work of the downloads app. The task is defined beside the service it runs
(``services.run_export``), which also enqueues it, so the app has no import circle; this name
stays for jobs queued under it."""

from __future__ import annotations

from .services import run_export

__all__ = ["run_export"]
