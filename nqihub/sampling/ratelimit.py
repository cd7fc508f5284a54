"""The rate limit of the public results (page, export and API): per client address per minute,
counted in the installation's shared counters (``nqihub.core.ratelimit``), as the public check
of documents is. ``NQI_SAMPLING_RESULTS_RATE_PER_MINUTE`` (default 60; 0 or less: off)."""

from __future__ import annotations

from django.conf import settings

from nqihub.core import ratelimit
from nqihub.core.middleware import client_address

WINDOW_SECONDS = 60


def public_rate_limited(request) -> bool:
    limit = int(getattr(settings, "NQI_SAMPLING_RESULTS_RATE_PER_MINUTE", 60))
    return ratelimit.hit("sampling_results", client_address(request) or "-", limit=limit, window_seconds=WINDOW_SECONDS)
