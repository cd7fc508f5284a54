"""The metrology API's routes: each api module declares ``ROUTES = [(prefix, viewset, basename)]``."""

from importlib import import_module

MODULES = ("catalogue", "instruments", "filings", "imports", "due", "applications", "stats", "documents")


def register(router) -> None:
    for name in MODULES:
        module = import_module(f"nqihub.metrology.api.{name}")
        for prefix, viewset, basename in module.ROUTES:
            router.register(prefix, viewset, basename=basename)
