from django.apps import AppConfig
from django.db.models.signals import post_migrate
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

        # Spent rate-limit windows (nqihub.core.ratelimit) are deleted once a day.
        register_daily_job("prune_rate_counters", order=25)

        # `migrate` also creates the database cache's table (settings.CACHES), so one command
        # sets up an installation and an upgrade needs no extra step.
        post_migrate.connect(create_cache_tables, sender=self)

        load_app_errors()  # every app's errors.py declares its error codes


def create_cache_tables(sender, using="default", verbosity=1, **kwargs) -> None:
    from django.core.management import call_command

    call_command("createcachetable", database=using, verbosity=max(0, verbosity - 1))
