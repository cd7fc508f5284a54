"""API of online verification applications and the institutions' LIMS connection.

* ``/api/v1/verification-applications/``: list and retrieve (scoped by
  ``ApplicationQuerySet.for_user`` in the base view); create (enterprises); ``accept``,
  ``reject``, ``schedule`` (the institution) and ``withdraw`` (the enterprise).
* ``/api/v1/lims/applications/``: an institution's LIMS pulls the applications addressed to
  the token's institution (``?state=accepted``).
* ``/api/v1/lims/results/``: the LIMS pushes a result (signers by username). 201 when it is
  recorded, 200 when the same ``external_id`` and content were pushed before (nothing new is
  recorded), 409 for a different content under the same ``external_id``, 404 for an item of
  an application addressed to someone else.

Every write is one service call, which checks, records and refuses.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.db.models import Count, Prefetch
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from nqihub.accounts.api.authentication import ApiTokenAuthentication
from nqihub.audit.service import ask_permission
from nqihub.cases.serializers import CaseTimelineField, timeline_queryset
from nqihub.core.access import get_actor
from nqihub.core.api.views import ScopedGenericViewSet, body_after_permission

from ..models import ApplicationItem, IssuedDocument, VerificationApplication, VerificationResult
from ..querysets import ApplicationQuerySet
from ..rules import MAX_ID
from ..services import applications as services
from ..services import results as result_services

# --- Output ------------------------------------------------------------------------------------


class ApplicationPartySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class DocumentRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = IssuedDocument
        fields = ["id", "number", "kind", "public_code", "issued_at", "valid_until", "state"]
        read_only_fields = fields


class ResultSerializer(serializers.ModelSerializer):
    verifier = serializers.CharField(source="verifier.username", read_only=True)
    checker = serializers.CharField(source="checker.username", read_only=True)
    approver = serializers.CharField(source="approver.username", read_only=True)
    documents = DocumentRefSerializer(many=True, read_only=True)

    class Meta:
        model = VerificationResult
        fields = [
            "id",
            "item",
            "outcome",
            "verified_on",
            "readings",
            "remarks",
            "failure_reasons",
            "verifier",
            "checker",
            "approver",
            "external_id",
            "recorded_at",
            "documents",
        ]
        read_only_fields = fields


class ItemSerializer(serializers.ModelSerializer):
    instrument_id = serializers.IntegerField(read_only=True)
    platform_code = serializers.CharField(source="instrument.platform_code", read_only=True)
    instrument_name = serializers.CharField(source="instrument.name", read_only=True)
    model_spec = serializers.CharField(source="instrument.model_spec", read_only=True)
    factory_number = serializers.CharField(source="instrument.factory_number", read_only=True)
    catalogue_code = serializers.CharField(source="catalogue_item.code", read_only=True)
    catalogue_name = serializers.CharField(source="catalogue_item.name", read_only=True)
    result = serializers.SerializerMethodField()

    class Meta:
        model = ApplicationItem
        fields = [
            "id",
            "instrument_id",
            "platform_code",
            "instrument_name",
            "model_spec",
            "factory_number",
            "catalogue_code",
            "catalogue_name",
            "fee",
            "waived",
            "result",
        ]
        read_only_fields = fields

    @extend_schema_field(ResultSerializer(allow_null=True))
    def get_result(self, item) -> dict | None:
        try:
            return ResultSerializer(item.result).data
        except VerificationResult.DoesNotExist:
            return None


class ApplicationListSerializer(serializers.ModelSerializer):
    organization = ApplicationPartySerializer(read_only=True)
    institution = ApplicationPartySerializer(read_only=True)
    item_count = serializers.IntegerField(read_only=True)
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = VerificationApplication
        fields = [
            "id",
            "number",
            "state",
            "mode",
            "organization",
            "institution",
            "division",
            "item_count",
            "submitted_at",
            "accept_by",
            "overdue",
            "decided_at",
            "scheduled_on",
            "fee_total",
            "waived_total",
        ]
        read_only_fields = fields

    def get_overdue(self, application) -> bool:
        return services.is_overdue(application)


class ApplicationSerializer(ApplicationListSerializer):
    items = ItemSerializer(many=True, read_only=True)
    events = CaseTimelineField()

    class Meta(ApplicationListSerializer.Meta):
        fields = [
            *ApplicationListSerializer.Meta.fields,
            "site_address",
            "wished_from",
            "wished_until",
            "contact_name",
            "contact_phone",
            "note",
            "reject_reason",
            "items",
            "events",
        ]
        read_only_fields = fields


# --- Input ---------------------------------------------------------------------------------------


class ApplicationInputSerializer(serializers.Serializer):
    instrument_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        allow_empty=True,
        max_length=services.MAX_INSTRUMENTS_PER_APPLICATION * 2,
    )
    institution = serializers.IntegerField(max_value=MAX_ID, help_text="An institution offered for these instruments.")
    mode = serializers.ChoiceField(choices=VerificationApplication.Mode.choices)
    site_address = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    wished_from = serializers.DateField(required=False, allow_null=True, default=None)
    wished_until = serializers.DateField(required=False, allow_null=True, default=None)
    contact_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    contact_phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class RejectInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ScheduleInputSerializer(serializers.Serializer):
    on_date = serializers.DateField(required=False, allow_null=True, default=None)
    note = serializers.CharField(max_length=400, required=False, allow_blank=True, default="")


class LimsResultInputSerializer(serializers.Serializer):
    item = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="The application item id (from the pulled application)."
    )
    outcome = serializers.ChoiceField(choices=VerificationResult.Outcome.choices)
    verified_on = serializers.DateField()
    readings = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    remarks = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    failure_reasons = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    verifier = serializers.CharField(max_length=150, help_text="Username of a member of the institution.")
    checker = serializers.CharField(max_length=150, help_text="Username of a member of the institution.")
    approver = serializers.CharField(max_length=150, help_text="Username of a member of the institution.")
    external_id = serializers.CharField(
        max_length=64, help_text="The LIMS's own record id (makes the push idempotent)."
    )


# --- Views ---------------------------------------------------------------------------------------


def _base_queryset():
    return (
        ApplicationQuerySet(model=VerificationApplication)
        .select_related("organization", "institution")
        .annotate(item_count=Count("items", distinct=True))
        .order_by("-submitted_at", "-pk")
    )


def _detail_prefetch(qs):
    return qs.prefetch_related(
        Prefetch(
            "items",
            queryset=ApplicationItem.objects.select_related(
                "instrument", "catalogue_item", "result__verifier", "result__checker", "result__approver"
            )
            .prefetch_related("result__documents")
            .order_by("pk"),
        ),
        Prefetch("case__events", queryset=timeline_queryset()),
    )


class ApplicationFilter(filters.FilterSet):
    state = filters.ChoiceFilter(choices=VerificationApplication.State.choices)

    class Meta:
        model = VerificationApplication
        fields = []


class VerificationApplicationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """在线报检: enterprises apply; the institution accepts, rejects and schedules; regulators
    read the applications in their jurisdiction."""

    queryset = _base_queryset()
    filterset_class = ApplicationFilter
    lookup_value_regex = r"\d+"

    def get_serializer_class(self):
        return ApplicationListSerializer if self.action == "list" else ApplicationSerializer

    def get_queryset(self):
        qs = super().get_queryset()
        return qs if self.action == "list" else _detail_prefetch(qs)

    def _detail(self, pk, code=status.HTTP_200_OK) -> Response:
        qs = _detail_prefetch(_base_queryset().for_user(self.request.user, "view"))
        return Response(ApplicationSerializer(qs.get(pk=pk)).data, status=code)

    @extend_schema(request=ApplicationInputSerializer, responses={201: ApplicationSerializer})
    def create(self, request, *args, **kwargs):
        values = dict(
            body_after_permission(
                request,
                ApplicationInputSerializer,
                may=lambda: ask_permission(services.application_submit, actor=request.user),
            )
        )
        values["institution_id"] = values.pop("institution")
        application = services.application_submit(actor=request.user, **values)
        return self._detail(application.pk, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=ApplicationSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        return self._detail(services.application_accept(actor=request.user, application=int(pk)).pk)

    @extend_schema(request=RejectInputSerializer, responses=ApplicationSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        validated = body_after_permission(
            request,
            RejectInputSerializer,
            may=lambda: ask_permission(services.application_reject, actor=request.user, application=pk),
        )
        application = services.application_reject(actor=request.user, application=int(pk), reason=validated["reason"])
        return self._detail(application.pk)

    @extend_schema(request=ScheduleInputSerializer, responses=ApplicationSerializer)
    @action(detail=True, methods=["post"])
    def schedule(self, request, pk=None):
        validated = body_after_permission(
            request,
            ScheduleInputSerializer,
            may=lambda: ask_permission(services.application_schedule, actor=request.user, application=pk),
        )
        application = services.application_schedule(actor=request.user, application=int(pk), **validated)
        return self._detail(application.pk)

    @extend_schema(request=None, responses=ApplicationSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        return self._detail(services.application_withdraw(actor=request.user, application=int(pk)).pk)


class LimsApplicationViewSet(mixins.ListModelMixin, ScopedGenericViewSet):
    """The applications addressed to the token's institution, for its LIMS (managers and
    clerks' tokens only), with their items; filter with ``?state=accepted``."""

    queryset = _base_queryset()
    # Machine clients only: a LIMS authenticates with its institution's token, never with a
    # person's browser session.
    authentication_classes = [ApiTokenAuthentication]
    scope_action = "lims"
    filterset_class = ApplicationFilter
    serializer_class = ApplicationSerializer

    def get_queryset(self):
        return _detail_prefetch(super().get_queryset())


class LimsResultViewSet(ScopedGenericViewSet):
    """A LIMS pushes one instrument's result. 201: recorded (and its document issued); 200:
    the same push again (nothing new recorded); 409: a different result under the same
    ``external_id``; 404: not an item of an application addressed to the token's institution."""

    queryset = _base_queryset()
    # Machine clients only: a LIMS authenticates with its institution's token, never with a
    # person's browser session.
    authentication_classes = [ApiTokenAuthentication]
    scope_action = "lims"
    serializer_class = ResultSerializer
    audit_regulator_queries = False

    @extend_schema(request=LimsResultInputSerializer, responses={201: ResultSerializer, 200: ResultSerializer})
    def create(self, request, *args, **kwargs):
        # Permission, then body: the item the result is for is the one thing the permission
        # depends on, so it is asked first (a foreign or unknown item: 404, recorded as denied,
        # whatever else the body holds); a body without an item tells nothing and is answered
        # by the serializer.
        item = request.data.get("item") if isinstance(request.data, Mapping) else None
        if item not in (None, ""):
            ask_permission(result_services.result_record, actor=request.user, item=item)
        data = LimsResultInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        institution = get_actor(request.user).organization
        # Usernames become ids among the institution's members (unknown → refused by the
        # service as not a member); the service decides everything else, a 404 included.
        signers = (
            result_services.signer_ids_from_usernames(
                institution=institution, usernames={k: v[k] for k in result_services.SIGNER_FIELDS}
            )
            if institution is not None
            else dict.fromkeys(result_services.SIGNER_FIELDS)
        )
        result, created = result_services.result_record(
            actor=request.user,
            item=v["item"],
            outcome=v["outcome"],
            verified_on=v["verified_on"],
            readings=v["readings"],
            remarks=v["remarks"],
            failure_reasons=v["failure_reasons"],
            verifier_id=signers["verifier"],
            checker_id=signers["checker"],
            approver_id=signers["approver"],
            external_id=v["external_id"],
        )
        result = (
            VerificationResult.objects.select_related("verifier", "checker", "approver")
            .prefetch_related("documents")
            .get(pk=result.pk)
        )
        return Response(
            ResultSerializer(result).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


ROUTES = [
    ("verification-applications", VerificationApplicationViewSet, "verification-application"),
    ("lims/applications", LimsApplicationViewSet, "lims-application"),
    ("lims/results", LimsResultViewSet, "lims-result"),
]
