from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrganizationsConfig(AppConfig):
    name = "nqihub.organizations"
    verbose_name = _("Organisations")

    def ready(self) -> None:
        from .casekinds import register as register_case_kinds

        register_case_kinds()
