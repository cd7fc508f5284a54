from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrganizationsConfig(AppConfig):
    name = "nqihub.organizations"
    verbose_name = _("Organisations")

    def ready(self) -> None:
        from nqihub.audit.actions import register as register_audit_action
        from nqihub.core.access import register_actor_provider
        from nqihub.core.registries import register_home_panel

        # The services register their own audit labels (``@audited_service``) when loaded.
        from . import access, selectors, services  # noqa: F401
        from .casekinds import register as register_case_kinds

        register_case_kinds()
        register_actor_provider(access)  # the module is the provider (core.access.ActorProvider)
        register_audit_action("demo.seed", _("Demo data loaded"))
        register_home_panel("organizations.system_admin", selectors.system_admin_dashboard, audiences=["system_admin"])
        register_home_panel("organizations.regulator", selectors.regulator_dashboard, audiences=["regulator"])
        register_home_panel("organizations.organization", selectors.organization_dashboard, audiences=["organization"])
        register_home_panel("organizations.applicant", selectors.applicant_dashboard, audiences=["applicant"])
