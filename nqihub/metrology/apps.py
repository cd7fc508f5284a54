from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MetrologyConfig(AppConfig):
    name = "nqihub.metrology"
    verbose_name = _("Metrology")

    def ready(self) -> None:
        from nqihub.core.files import register_retention
        from nqihub.core.registries import register_daily_job, register_home_panel
        from nqihub.documents.certificates import document_filename
        from nqihub.documents.registry import DocumentKind, register_document_kind
        from nqihub.downloads.registry import register_export
        from nqihub.organizations.signals import organization_moved
        from nqihub.tables.jobs import register_job

        # The services register their audit action labels when loaded: load them all now, so
        # the audit pages show every label whatever else this process has imported.
        from . import demo  # noqa: F401
        from .casekinds import register as register_case_kinds
        from .home import home_summary
        from .models import ImportJob, Instrument, IssuedDocument
        from .selectors import FILED_EXPORT, LEDGER_EXPORT
        from .services import (  # noqa: F401
            applications,
            catalogue,
            documents,
            fees,
            filings,
            imports,
            instruments,
            policy,
            reminders,
            results,
        )
        from .tasks import run_import
        from .views import verify

        register_case_kinds()
        register_retention("import_uploads", imports.purge_finished_uploads)
        organization_moved.connect(instruments.follow_organization, dispatch_uid="metrology.follow_organization")
        register_job(ImportJob, run_import, fail=imports.finish_error)
        # The lists' exports, also run in the background for a list of any size (nqihub.downloads).
        for export in (LEDGER_EXPORT, reminders.DUE_EXPORT, FILED_EXPORT):
            register_export(
                export.kind,
                export.title,
                export.build,
                model=Instrument,
                count=export.count,
                allowed=export.allowed,
                terms=export.terms,
            )
        # Every member of an organisation (regulators included) sees its metrology work at home.
        register_home_panel("metrology.summary", home_summary, audiences=["regulator", "organization"], key="metrology")
        register_daily_job("send_due_reminders", order=10)
        # Issued documents (numbers, hashes, PDFs after commit) and the public check: the kernel's.
        for kind, in_force in ((IssuedDocument.Kind.CERTIFICATE, "valid"), (IssuedDocument.Kind.NOTICE, "failed")):
            register_document_kind(
                DocumentKind(
                    key=f"metrology.{kind}",
                    model=IssuedDocument,
                    value=kind,
                    number_prefix=documents.number_prefix(kind),
                    render=documents.render_document,
                    filename=document_filename,
                    in_force=in_force,
                )
            )
        verify.register()
