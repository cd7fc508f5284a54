"""The metrology API's routes: each api module declares ``ROUTES = [(prefix, viewset, basename)]``."""

from importlib import import_module

MODULES = ("catalogue", "instruments", "filings", "imports", "due", "applications", "stats", "documents")


def register(router) -> None:
    for name in MODULES:
        try:
            module = import_module(f"nqihub.metrology.api.{name}")
        except ModuleNotFoundError as exc:  # pragma: no cover - only while a module is being written
            if exc.name != f"nqihub.metrology.api.{name}":
                raise
            continue
        for prefix, viewset, basename in module.ROUTES:
            router.register(prefix, viewset, basename=basename)
