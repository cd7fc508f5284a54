from __future__ import annotations

from django import forms

from nqihub.core.errors import ServiceError


def apply_service_error(form: forms.BaseForm, exc: ServiceError) -> None:
    """Show a service's refusal on the form: on its field when the form has one, else at
    the top. The same text the API returns as ``detail``."""
    if exc.errors:
        for field, messages in exc.errors.items():
            for message in messages:
                form.add_error(field if field in form.fields else None, message)
        return
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)
