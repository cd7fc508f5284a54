"""The procedure's numbers (``SamplingRule`` rows), read by every area through ``rule(code)``."""

from __future__ import annotations

from ..models import SamplingRule


def rule(code: str) -> int:
    """The value of rule ``code`` as the system administrator last set it."""
    try:
        return SamplingRule.objects.values_list("value", flat=True).get(code=code)
    except SamplingRule.DoesNotExist:
        raise LookupError(f"sampling rule {code!r} is missing (see migration sampling/0002)") from None


def rule_row(code: str) -> SamplingRule:
    """The rule with its source and verification state, to show beside a deadline."""
    return SamplingRule.objects.get(code=code)
