from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security, deploy=True)
def production_secret(app_configs, **kwargs):
    if settings.SECRET_KEY.startswith("insecure-"):
        return [
            Warning(
                "NQI_SECRET_KEY is not set: the embedded development key is in use.",
                hint="Set NQI_SECRET_KEY to a long random value in production.",
                id="nqihub.W001",
            )
        ]
    return []


@register()
def audit_retention(app_configs, **kwargs):
    if settings.NQI_AUDIT_RETENTION_DAYS < settings.NQI_AUDIT_MIN_RETENTION_DAYS:
        return [
            Error(
                "NQI_AUDIT_RETENTION_DAYS is below the legal minimum of %d days."
                % settings.NQI_AUDIT_MIN_RETENTION_DAYS,
                id="nqihub.E001",
            )
        ]
    return []
