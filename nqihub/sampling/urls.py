"""The supervision-sampling pages: each views module declares its own ``urlpatterns``, joined
here in this order. Explicit imports, so static tools (the layer contract) see every page module."""

from .views import analysis, disclosure, public

app_name = "sampling"

MODULES: tuple = (public, disclosure, analysis)

urlpatterns: list = [pattern for module in MODULES for pattern in module.urlpatterns]
