"""The served OpenAPI schema."""

from __future__ import annotations

from django.utils import translation
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView


class SchemaView(SpectacularAPIView):
    """``/api/schema/``: the schema generated the way the committed ``schema/openapi.yaml`` is
    (version v1, descriptions in English whatever the caller's language), so the served
    schema and the committed one are the same document."""

    api_version = "v1"

    def dispatch(self, request, *args, **kwargs):
        with translation.override("en"):
            response = super().dispatch(request, *args, **kwargs)
            if hasattr(response, "render"):
                response.render()  # while English is active
        return response

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        return self._get_schema_response(request)  # no ``?lang=``: one schema
