from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MetrologyConfig(AppConfig):
    name = "nqihub.metrology"
    verbose_name = _("Metrology")

    def ready(self) -> None:
        from nqihub.core.files import register_retention
        from nqihub.downloads.registry import register_export
        from nqihub.organizations.signals import organization_moved

        from .casekinds import register as register_case_kinds
        from .models import Instrument
        from .selectors import LIST_EXPORTS
        from .services.imports import purge_finished_uploads
        from .services.instruments import follow_organization

        register_case_kinds()
        register_retention("import_uploads", purge_finished_uploads)
        organization_moved.connect(follow_organization, dispatch_uid="metrology.follow_organization")
        # The lists' exports, also run in the background for a list of any size (nqihub.downloads).
        for export in LIST_EXPORTS:
            register_export(
                export.kind, export.title, export.build, model=Instrument, count=export.count, allowed=export.allowed
            )
