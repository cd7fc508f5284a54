"""The metrology pages: each views module declares its own ``urlpatterns``, joined here in
this order. Explicit imports, so static tools (the layer contract) see every page module."""

from .views import (
    applications,
    catalogue,
    documents,
    due,
    fees,
    filings,
    imports,
    instruments,
    labels,
    policy,
    stats,
)

app_name = "metrology"

MODULES = (catalogue, instruments, filings, imports, labels, due, applications, fees, stats, documents, policy)

urlpatterns: list = [pattern for module in MODULES for pattern in module.urlpatterns]
