"""The tests that attack (``@pytest.mark.attack``) run against a real site on loopback
(``nqihub.testing.site``): one database, migrated and loaded with the demo, for the whole
session; each test starts the processes it needs and they are stopped after it."""

from __future__ import annotations

import pytest

from nqihub.testing.site import Site, require


@pytest.fixture(scope="session")
def attack_site():
    require("gunicorn")
    site = Site.create()
    try:
        yield site
    finally:
        site.close()


@pytest.fixture
def site(attack_site):
    """The session's site; the processes a test started are stopped after it."""
    try:
        yield attack_site
    finally:
        for process in list(attack_site.processes):
            attack_site.kill(process)
        attack_site.processes.clear()
