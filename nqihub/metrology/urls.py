from importlib import import_module

app_name = "metrology"

# Each views module contributes its own urlpatterns; a module not written yet is skipped.
urlpatterns: list = []
for _name in ("catalogue", "instruments", "filings", "imports", "labels", "due", "applications", "fees", "stats", "documents"):
    try:
        urlpatterns += import_module(f"nqihub.metrology.views.{_name}").urlpatterns
    except ModuleNotFoundError as exc:  # pragma: no cover - only while a module is being written
        if exc.name != f"nqihub.metrology.views.{_name}":
            raise
