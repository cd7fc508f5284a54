"""The supervision-sampling API's routes: each api module declares ``ROUTES = [(prefix, viewset,
basename)]``, registered here in this order. Explicit imports, so static tools see every module."""

from __future__ import annotations

from rest_framework.routers import BaseRouter

from . import aftermath, aql, disclosure, items, plans, pools, records

MODULES: tuple = (
    items,
    pools,
    plans,
    records,
    aftermath,
    disclosure,
    aql,
)


def register(router: BaseRouter) -> None:
    for module in MODULES:
        for prefix, viewset, basename in module.ROUTES:
            router.register(prefix, viewset, basename=basename)
