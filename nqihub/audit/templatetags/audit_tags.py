from django import template

from nqihub.audit.actions import label_for

register = template.Library()


@register.filter
def action_label(code: str) -> str:
    return label_for(code)
