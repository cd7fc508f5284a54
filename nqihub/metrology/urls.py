from importlib import import_module

app_name = "metrology"

# Each views module contributes its own urlpatterns.
MODULES = ("catalogue", "instruments", "filings", "imports", "labels", "due", "applications", "fees", "stats", "documents",
           "policy")

urlpatterns: list = []
for _name in MODULES:
    urlpatterns += import_module(f"nqihub.metrology.views.{_name}").urlpatterns
