"""Schema post-processing: the committed OpenAPI schema must be the same whatever database
generated it."""

from __future__ import annotations

# Upper bounds Django derives from a column's storage size, which differ between SQLite
# (every integer is 64-bit) and PostgreSQL (smallint, integer, bigint). They describe the
# database, not the API, so they are left out of the schema.
_BACKEND_RANGES = {32767, 2147483647, 9223372036854775807}


def drop_backend_integer_ranges(result, generator, request, public):
    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "integer" and node.get("maximum") in _BACKEND_RANGES:
                node.pop("maximum", None)
                if node.get("format") == "int64":
                    node.pop("format", None)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(result)
    return result
