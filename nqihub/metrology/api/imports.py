"""Ledger imports over the API: upload a file (multipart) and poll the job.

``POST /api/v1/instrument-imports/`` answers 202 with the queued job; ``GET
/api/v1/instrument-imports/<id>/`` gives its state, progress and, when it was rejected, every
error with its row and column. The same service as the page does the work.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from nqihub.audit.service import ask_permission
from nqihub.core.api.views import ScopedGenericViewSet, body_after_permission
from nqihub.tables.jobs import recover_if_stale

from ..models import ImportJob
from ..services import imports as services


class ImportStartSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="The ledger: an .xlsx, .xls or .ods workbook or a .csv file (UTF-8, UTF-16 or GB18030), at most 50 MB."
    )


class ImportErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(
        allow_null=True,
        help_text="Row number as shown in the spreadsheet (the header is row 1); null for the file as a whole.",
    )
    column = serializers.CharField(allow_blank=True, help_text="The column header as written in the file.")
    message = serializers.CharField()
    text = serializers.CharField(help_text="The error as one sentence, with its row and column.")


class ImportJobSerializer(serializers.ModelSerializer):
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    progress = serializers.SerializerMethodField(help_text="Percentage of rows checked (100 when imported).")
    finished = serializers.SerializerMethodField()
    created = serializers.IntegerField(source="created_count", read_only=True)
    updated = serializers.IntegerField(source="updated_count", read_only=True)
    error_count = serializers.SerializerMethodField()
    errors = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "filename",
            "state",
            "state_label",
            "finished",
            "progress",
            "processed_rows",
            "total_rows",
            "created",
            "updated",
            "error_count",
            "errors",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_progress(self, job: ImportJob) -> int:
        return services.import_status(job)["progress"]

    def get_finished(self, job: ImportJob) -> bool:
        return job.state in services.FINAL_STATES

    def get_error_count(self, job: ImportJob) -> int:
        return services.import_error_count(job)

    @extend_schema_field(ImportErrorSerializer(many=True))
    def get_errors(self, job: ImportJob) -> list[dict]:
        return [
            {
                "row": e.get("row"),
                "column": e.get("column") or "",
                "message": e.get("message", ""),
                "text": services.import_error_text(e),
            }
            for e in job.errors or []
        ]


class InstrumentImportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """Ledger imports of the enterprise the caller acts for."""

    queryset = ImportJob.objects.order_by("-created_at", "-pk")
    serializer_class = ImportJobSerializer
    parser_classes = [MultiPartParser, FormParser]

    def get_object(self):
        # A job whose worker died is retried or failed when it is polled, never left running.
        return recover_if_stale(super().get_object())

    @extend_schema(request={"multipart/form-data": ImportStartSerializer}, responses={202: ImportJobSerializer})
    def create(self, request, *args, **kwargs):
        data = body_after_permission(
            request, ImportStartSerializer, may=lambda: ask_permission(services.import_start, actor=request.user)
        )
        job = services.import_start(actor=request.user, uploaded_file=data["file"])
        job.refresh_from_db()  # the task may already have run (inline backend)
        return Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


ROUTES = [("instrument-imports", InstrumentImportViewSet, "instrument-import")]
