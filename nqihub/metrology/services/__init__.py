"""Metrology use cases, one module per area (catalogue and ledger, filings, imports); every
page, API call, import and command calls these functions."""
