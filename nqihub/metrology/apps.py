from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MetrologyConfig(AppConfig):
    name = "nqihub.metrology"
    verbose_name = _("Metrology")

    def ready(self) -> None:
        from nqihub.core.files import register_retention
        from nqihub.documents.certificates import document_filename
        from nqihub.documents.registry import DocumentKind, register_document_kind
        from nqihub.downloads.registry import register_export
        from nqihub.organizations.signals import organization_moved

        from .models import Instrument, IssuedDocument
        from .selectors import LIST_EXPORTS
        from .services.documents import number_prefix, render_document
        from .services.imports import purge_finished_uploads
        from .services.instruments import follow_organization
        from .views import verify

        register_retention("import_uploads", purge_finished_uploads)
        organization_moved.connect(follow_organization, dispatch_uid="metrology.follow_organization")
        # The lists' exports, also run in the background for a list of any size (nqihub.downloads).
        for export in LIST_EXPORTS:
            register_export(
                export.kind, export.title, export.build, model=Instrument, count=export.count, allowed=export.allowed
            )
        # Issued documents (numbers, hashes, PDFs after commit) and the public check: the kernel's.
        for kind, in_force in ((IssuedDocument.Kind.CERTIFICATE, "valid"), (IssuedDocument.Kind.NOTICE, "failed")):
            register_document_kind(
                DocumentKind(
                    key=f"metrology.{kind}",
                    model=IssuedDocument,
                    value=kind,
                    number_prefix=number_prefix(kind),
                    render=render_document,
                    filename=document_filename,
                    in_force=in_force,
                )
            )
        verify.register()
