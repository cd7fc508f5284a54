"""The proxy configuration in docs/deployment.md lets through every upload the application
accepts: otherwise nginx answers 413 to a ledger the application would have imported."""

import re
from pathlib import Path

from django.conf import settings

from nqihub.cases.services import MAX_ATTACHMENT_BYTES
from nqihub.metrology.services.imports import MAX_FILE_BYTES

UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def test_the_documented_proxy_takes_the_largest_upload():
    text = (Path(settings.BASE_DIR) / "docs" / "deployment.md").read_text(encoding="utf-8")
    sizes = re.findall(r"client_max_body_size\s+(\d+)([kKmMgG]?);", text)
    assert sizes, "docs/deployment.md names no client_max_body_size"
    largest_upload = max(MAX_FILE_BYTES, MAX_ATTACHMENT_BYTES)
    for number, unit in sizes:
        limit = int(number) * UNITS[unit.lower()]
        # The file travels inside a multipart form: leave room for its headers and fields.
        assert limit >= largest_upload + 64 * 1024, (number + unit, largest_upload)
