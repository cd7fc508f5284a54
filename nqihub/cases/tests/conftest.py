"""Fixtures of the cases tests: the headless browser of the phone-width check."""

from nqihub.testing.browser import browser, browser_driver, pytest_runtest_makereport  # noqa: F401
