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
        from .services import (  # noqa: F401 - the services register their audit labels  # noqa: F401 - their audit labels
            aql,
            batches,
            draws,
            items,
            plans,
            pools,
        )
