"""Fixtures of the accounts tests: the headless browser of the lockout check."""

from nqihub.testing.browser import browser, browser_driver, pytest_runtest_makereport  # noqa: F401
