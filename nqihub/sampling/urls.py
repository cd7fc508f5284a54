"""The supervision-sampling pages: each views module declares its own ``urlpatterns``, joined
here in this order. Explicit imports, so static tools (the layer contract) see every page module."""

from .views import aftermath, analysis, aql, batches, disclosure, draws, items, plans, pools, public, records

app_name = "sampling"

MODULES: tuple = (
    items,
    pools,
    plans,
    batches,
    draws,
    records,
    aftermath,
    disclosure,
    analysis,
    public,
    aql,
)

urlpatterns: list = [pattern for module in MODULES for pattern in module.urlpatterns]
