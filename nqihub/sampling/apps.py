from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SamplingConfig(AppConfig):
    """Product-quality supervision sampling (产品质量监督抽查) with 双随机、一公开."""

    name = "nqihub.sampling"
    verbose_name = _("Supervision sampling")

    def ready(self) -> None:
        # Each area registers what it needs (case kinds, documents, daily jobs, audit labels)
        # from its own module; loaded here so the registries are complete in every process.
        from .casekinds import register as register_case_kinds

        register_case_kinds()
        # Field work and the inspection report: the services register their audit labels when
        # loaded; the report is an issued document with its own check code on /verify/.
        from nqihub.documents.registry import DocumentKind, register_document_kind

        from . import verify as report_check
        from .models import InspectionReport
        from .pdf import report_filename
        from .services import (  # noqa: F401 - the services register their audit labels
            aql,
            batches,
            draws,
            items,
            plans,
            pools,
            records,
            reports,
        )

        for kind in InspectionReport.Kind.values:
            register_document_kind(
                DocumentKind(
                    key=f"sampling.{kind}",
                    model=InspectionReport,
                    value=kind,
                    number_prefix=reports.number_prefix(kind),
                    render=reports.render_report,
                    filename=report_filename,
                )
            )
        report_check.register()

        # After the result: the services register their audit labels; the daily job of time limits.
        from nqihub.core.registries import register_daily_job

        from .services import aftermath, escalation  # noqa: F401

        register_daily_job("escalate_sampling_deadlines", order=14)

        # Closing, publication, analysis: the services' audit labels and the daily reminder.
        from .services import analysis, disclosure  # noqa: F401 - the services register their audit labels

        register_daily_job("sampling_disclosure_daily", order=15)
