from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "nqihub.core"
    verbose_name = _("Platform core")

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers system checks)
        from .errors import load_app_errors
        from .registries import register_daily_job

        # Stored-file hygiene: the retention rules the apps register (core.files).
        register_daily_job("clean_stored_files", order=20)

        load_app_errors()  # every app's errors.py declares its error codes
