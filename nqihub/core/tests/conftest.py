"""Fixtures of the core tests: the headless browser of the end-to-end tests."""

from nqihub.testing.browser import browser, browser_driver, pytest_runtest_makereport  # noqa: F401
