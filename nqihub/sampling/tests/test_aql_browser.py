# ruff: noqa: F811 - the browser fixtures imported below are used as parameters
"""The sampling plan calculator clicked through in Chromium, at a phone's width: an institution's
inspector fills in the lot, chooses the AQL and reads the plan; the page never scrolls sideways
and breaks no content-security rule."""

from __future__ import annotations

import pytest
from django.urls import reverse
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from nqihub.testing.browser import (  # noqa: F401  (the fixtures, kept in this module)
    DEFAULT_TIMEOUT,
    WINDOW_SIZE,
    browser,
    browser_driver,
    csp_violations,
)
from nqihub.testing.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_an_inspector_finds_a_plan_on_a_phone(browser, live_server, world):
    user = world.users["inst"]
    browser.set_window_size(390, 844)
    try:
        browser.get(live_server.url + reverse("accounts:login"))
        wait = WebDriverWait(browser, DEFAULT_TIMEOUT)
        wait.until(EC.presence_of_element_located((By.ID, "id_username"))).send_keys(user.username)
        browser.find_element(By.ID, "id_password").send_keys(PASSWORD)
        browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=who]")))
        browser.get(live_server.url + reverse("sampling:aql"))
        assert browser.find_element(By.TAG_NAME, "h1").text == "抽样方案（GB/T 2828.1）"
        browser.find_element(By.ID, "id_lot_size").send_keys("20")
        Select(browser.find_element(By.ID, "id_aql")).select_by_value("0.10")
        browser.find_element(By.CSS_SELECTOR, "[data-testid=plan-form] button[type=submit]").click()
        plan = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=plan]")))
        assert plan.find_element(By.CSS_SELECTOR, "[data-testid=code-letter]").text == "C"
        assert plan.find_element(By.CSS_SELECTOR, "[data-testid=used-letter]").text.startswith("K")
        assert plan.find_element(By.CSS_SELECTOR, "[data-testid=n]").text == "125"
        assert "100%" in plan.find_element(By.CSS_SELECTOR, "[data-testid=inspect]").text
        # the form keeps what was asked
        assert browser.find_element(By.ID, "id_lot_size").get_attribute("value") == "20"
        page_width = browser.execute_script("return document.documentElement.scrollWidth")
        viewport = browser.execute_script("return document.documentElement.clientWidth")
        assert page_width <= viewport, (page_width, viewport)
        assert csp_violations(browser) == []
    finally:
        browser.set_window_size(*WINDOW_SIZE)
