"""Background work of the metrology app. The ledger import's task is defined beside the
service it runs (``services.imports.run_import``), which also enqueues it, so the app has no
import circle; this name stays for jobs queued under it."""

from __future__ import annotations

from .services.imports import run_import

__all__ = ["run_import"]
