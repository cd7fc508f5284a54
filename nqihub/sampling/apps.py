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

        # Closing, publication, analysis: the services' audit labels and the daily reminder.
        from nqihub.core.registries import register_daily_job

        from .services import analysis, disclosure  # noqa: F401 - the services register their audit labels

        register_daily_job("sampling_disclosure_daily", order=14)
