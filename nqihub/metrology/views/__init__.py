"""Metrology pages. Each module owns its routes in ``urlpatterns``; ``metrology.urls`` joins them."""
