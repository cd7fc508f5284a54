"""The supervision-sampling pages: each views module declares its own ``urlpatterns``, joined
here in this order. Explicit imports, so static tools (the layer contract) see every page module."""

from .views import aftermath, aql, batches, draws, items, plans, pools, records

app_name = "sampling"

MODULES: tuple = (
    items,
    pools,
    plans,
    batches,
    draws,
    records,
    aftermath,
    aql,
)

urlpatterns: list = [pattern for module in MODULES for pattern in module.urlpatterns]
