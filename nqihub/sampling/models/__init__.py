"""The supervision-sampling models, one module per area, imported here so Django sees them."""
