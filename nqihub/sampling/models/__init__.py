"""The supervision-sampling models, one module per area, imported here so Django sees them."""

from .aql import Evidence, SwitchingRules

__all__ = ["Evidence", "SwitchingRules"]
