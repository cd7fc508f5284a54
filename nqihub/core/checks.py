from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def shared_secret_key(app_configs, **kwargs):
    """The embedded default keeps a random key in the var directory; several app servers
    behind a proxy must share one key, so production sets NQI_SECRET_KEY."""
    import os

    if not os.environ.get("NQI_SECRET_KEY"):
        return [
            Warning(
                "NQI_SECRET_KEY is not set: this server uses the key generated in its own var directory.",
                hint="Set NQI_SECRET_KEY (the same on every app server) in production.",
                id="nqihub.W001",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def shared_audit_key(app_configs, **kwargs):
    """Every app server and worker must sign the audit chain with the same key, which must
    outlive secret-key rotations: set NQI_AUDIT_KEY explicitly in production."""
    import os

    if not os.environ.get("NQI_AUDIT_KEY"):
        return [
            Warning(
                "NQI_AUDIT_KEY is not set: the audit chain is keyed from the secret key.",
                hint="Set NQI_AUDIT_KEY (the same on every server, never changed) in production.",
                id="nqihub.W002",
            )
        ]
    return []
