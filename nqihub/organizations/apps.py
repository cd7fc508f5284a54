from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrganizationsConfig(AppConfig):
    name = "nqihub.organizations"
    verbose_name = _("Organisations")

    def ready(self) -> None:
        from nqihub.audit.actions import register as register_audit_action
        from nqihub.core.access import register_actor_provider
        from nqihub.core.registries import register_home_panel

        from . import access, selectors
        from .casekinds import register as register_case_kinds

        register_case_kinds()
        register_actor_provider(access)  # the module is the provider (core.access.ActorProvider)
        for code, label in {
            "membership.grant": _("Role granted"),
            "membership.revoke": _("Role revoked"),
            "membership.switch": _("Organisation switched"),
            "organization.create": _("Organisation created"),
            "organization.update": _("Organisation changed"),
            "organization.activate": _("Organisation activated"),
            "organization.deactivate": _("Organisation deactivated"),
            "registration.submit": _("Enterprise registration submitted"),
            "registration.resubmit": _("Enterprise registration resubmitted"),
            "registration.withdraw": _("Enterprise registration withdrawn"),
            "registration.approve": _("Enterprise registration approved"),
            "registration.return": _("Enterprise registration returned"),
            "demo.seed": _("Demo data loaded"),
        }.items():
            register_audit_action(code, label)
        register_home_panel("organizations.system_admin", selectors.system_admin_dashboard, audiences=["system_admin"])
        register_home_panel("organizations.regulator", selectors.regulator_dashboard, audiences=["regulator"])
        register_home_panel("organizations.organization", selectors.organization_dashboard, audiences=["organization"])
        register_home_panel("organizations.applicant", selectors.applicant_dashboard, audiences=["applicant"])
