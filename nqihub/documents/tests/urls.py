"""The project's URLs with the label sheet route under ``metrology:`` whether or not
``nqihub/metrology/urls.py`` lists the labels module yet (its module list is owned there)."""

from django.urls import include, path

from nqihub import urls as root
from nqihub.metrology import urls as metrology_urls
from nqihub.metrology.views import labels

_metrology = list(metrology_urls.urlpatterns)
if not any(getattr(p, "name", None) == "instrument_labels" for p in _metrology):
    _metrology += labels.urlpatterns

urlpatterns = [p for p in root.urlpatterns if getattr(p, "namespace", None) != "metrology"]
urlpatterns.append(path("metrology/", include((_metrology, "metrology"))))
