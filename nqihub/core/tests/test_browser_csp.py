# ruff: noqa: F811  (fixtures imported from test_browser are used as parameters)
"""The strict Content-Security-Policy in a real browser: the site's pages, the public check,
the API documentation and the management console load and work with no violation in the
console log (a blocked inline script or style is reported there)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from selenium.webdriver.common.by import By

from nqihub.accounts.models import SecurityPolicy
from nqihub.accounts.policy import clear_policy_cache
from nqihub.core.access import StaffRole
from nqihub.testing.browser import csp_violations
from nqihub.testing.factories import UserFactory

from .test_browser import css, divisions, navigate, people, sign_in, wait  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _load(driver, url: str) -> None:
    driver.get(url)
    wait(driver).until(lambda d: d.execute_script("return document.readyState") == "complete")


def test_pages_load_without_a_violation(browser, live_server, people):
    applicant, _clerk = people
    csp_violations(browser)  # start from an empty log
    _load(browser, live_server.url + reverse("accounts:login"))
    _load(browser, live_server.url + "/verify/ABCDEFGHJKMNPQRS/")
    # The public check's own stylesheet applies (it used to be an inline <style> block).
    assert browser.execute_script("return getComputedStyle(document.body).marginTop") == "0px"
    _load(browser, live_server.url + reverse("api-docs"))
    css(browser, "#swagger-ui .info")  # Swagger UI started from its static script and rendered
    sign_in(browser, live_server.url, applicant)
    _load(browser, live_server.url + reverse("cases:list"))
    assert csp_violations(browser) == []


def test_the_injected_inline_script_is_blocked(browser, live_server, divisions):
    """The policy is really enforced: a script written into the page does not run."""
    _load(browser, live_server.url + reverse("accounts:login"))
    csp_violations(browser)
    browser.execute_script(
        "var s = document.createElement('div');"
        "s.innerHTML = '<img src=x onerror=\"window.__pwned = 1\">';"
        "document.body.appendChild(s);"
    )
    wait(browser).until(lambda d: csp_violations(d) or d.execute_script("return window.__pwned"))
    assert browser.execute_script("return window.__pwned") is None


def test_console_works_under_the_policy(browser, live_server, divisions):
    SecurityPolicy.objects.update_or_create(pk=1, defaults={"require_second_factor_for_staff": False})
    clear_policy_cache()
    admin = UserFactory(username="csp_sysadmin", display_name="系统管理员", staff_role=StaffRole.SYSTEM_ADMIN)
    get_user_model().objects.filter(pk=admin.pk).update(is_staff=True)
    sign_in(browser, live_server.url, admin)
    csp_violations(browser)
    _load(browser, live_server.url + reverse("admin:index"))
    links = browser.find_elements(By.CSS_SELECTOR, "#content-main a[href$='/add/']")
    assert links, browser.page_source[:2000]
    navigate(browser, links[0].click)
    css(browser, "#content-main form")
    assert csp_violations(browser) == []
