"""The downloads pages, under /downloads/ (included by ``nqihub.urls``)."""

from .views import app_name, urlpatterns

__all__ = ["app_name", "urlpatterns"]
