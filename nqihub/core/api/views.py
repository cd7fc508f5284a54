"""Base API views. The queryset of every endpoint comes from ``Model.objects.for_user``
applied here, once, so no endpoint can forget it (NetBox's pattern)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.core.validators import ProhibitNullCharactersValidator
from rest_framework import serializers, viewsets

from nqihub.core.access import resolve_acting_membership, set_acting_membership
from nqihub.core.inputs import null_character_field
from nqihub.core.views_base import record_read

if TYPE_CHECKING:  # the mixin is always combined with a GenericViewSet
    _MixinBase = viewsets.GenericViewSet
else:
    _MixinBase = object


def _refuse_null_characters(request) -> None:
    """A NUL character in the query string is refused as in a body field: PostgreSQL cannot
    hold it in a text value, so a filter (or the recorded query of a regulator's read) that
    carried it to the database ended in a 500 (found by the API fuzzing run)."""
    name = null_character_field(request.query_params)
    if name is not None:
        message = ProhibitNullCharactersValidator.message  # Django's own words, translated
        raise serializers.ValidationError(
            {name.replace("\x00", "") or "query": [message]}, code=ProhibitNullCharactersValidator.code
        )


class ScopedViewSetMixin(_MixinBase):
    """``queryset`` names the model's base queryset; ``for_user(user, action)`` narrows it.

    Reads use the "view" action; writes go through services, which check their own action.
    A session caller may pick which of their organisations to act for with the
    ``X-Organization`` header (a token's organisation is fixed by the token).
    """

    scope_action = "view"
    audit_regulator_queries = True

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        _refuse_null_characters(request)
        wanted = request.headers.get("X-Organization")
        if wanted and request.user.is_authenticated and request.auth is None:
            membership = resolve_acting_membership(request.user, wanted)
            if membership is not None:
                set_acting_membership(request.user, membership)

    def get_queryset(self):
        return self._base_queryset().all().for_user(self.request.user, self.scope_action)

    def _base_queryset(self) -> Any:
        """The class's ``queryset``: one whose model declares ``for_user``."""
        return type(self).queryset

    def finalize_response(self, request, response, *args, **kwargs):
        """Record a regulator's successful reads (list and detail). Done here rather than in
        ``list``/``retrieve`` so no mixin order can skip it; ``record_read`` (the pages'
        own recorder) decides who is recorded."""
        response = super().finalize_response(request, response, *args, **kwargs)
        if self.audit_regulator_queries and response.status_code == 200 and request.user.is_authenticated:
            read = self.read_record(request, response, kwargs)
            if read is not None:
                record_read(request, self._base_queryset().model, **read)
        return response

    def read_record(self, request, response, kwargs) -> dict[str, Any] | None:
        """What a successful read records (``params``, ``count``, ``kind``), or None for an
        action that is not a read. A viewset whose answer counts its own way (statistics)
        overrides this, so no viewset calls the recorder itself."""
        action = getattr(self, "action", None)
        if action == "list":
            data = response.data if isinstance(response.data, dict) else {}
            return {"params": request.query_params, "count": data.get("count"), "kind": "list"}
        if action == "retrieve":
            return {
                "params": {"id": kwargs.get(self.lookup_url_kwarg or self.lookup_field)},
                "count": 1,
                "kind": "detail",
            }
        return None


class ScopedReadOnlyViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    pass


class ScopedGenericViewSet(ScopedViewSetMixin, viewsets.GenericViewSet):
    pass


def body_value(request, name: str, default=None, *, many: bool = False):
    """A field of the request body as sent (JSON or form), for calls whose service checks the
    input itself after checking who may act: a caller who may not act is refused whatever the
    body holds, and the input serializer only documents the body in the schema."""
    data = request.data
    if many and hasattr(data, "getlist"):  # a form: repeated fields
        return data.getlist(name) or default
    return data.get(name, default) if hasattr(data, "get") else default


def body_after_permission(
    request, serializer_class: type[serializers.Serializer], *, may: Callable[[], None], partial: bool = False
):
    """The body, checked by ``serializer_class``, for calls whose service wants typed input.

    The API's convention is permission, then body: a body that fails the serializer is
    answered only after ``may()`` (the service's own permission check, which records the
    refusal as denied) has passed, so a caller who may not act gets 403 or 404 whatever it
    sends. A valid body goes to the service, which checks permission first itself."""
    checked = serializer_class(data=request.data, partial=partial)
    if checked.is_valid():
        return checked.validated_data
    may()
    raise serializers.ValidationError(checked.errors)
