"""The pools and the item list at a phone's width (390 px) and on a desktop: the page itself
never scrolls sideways; wide tables scroll inside their wrapper."""

from __future__ import annotations

import pytest
from django.urls import reverse
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from nqihub.testing.browser import DEFAULT_TIMEOUT, WINDOW_SIZE, browser, browser_driver  # noqa: F401
from nqihub.testing.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _fits(driver) -> None:
    page_width = driver.execute_script("return document.documentElement.scrollWidth")
    viewport = driver.execute_script("return document.documentElement.clientWidth")
    assert page_width <= viewport, (page_width, viewport)


@pytest.mark.parametrize("size", [(390, 844), WINDOW_SIZE])
def test_pool_pages_fit(browser, live_server, world, sampling, size):  # noqa: F811
    user = world.users["baotou"]
    browser.set_window_size(*size)
    try:
        wait = WebDriverWait(browser, DEFAULT_TIMEOUT)
        browser.get(live_server.url + reverse("sampling:item_list"))  # public: no sign-in
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=items]")))
        assert browser.find_element(By.TAG_NAME, "h1").text == "抽查事项清单"
        _fits(browser)
        browser.get(live_server.url + reverse("accounts:login"))
        wait.until(EC.presence_of_element_located((By.ID, "id_username"))).send_keys(user.username)
        browser.find_element(By.ID, "id_password").send_keys(PASSWORD)
        browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=who]")))
        for name, testid in (
            ("sampling:pool_list", "pool"),
            ("sampling:inspector_list", "inspectors"),
            ("sampling:item_detail", "rules-v1"),
        ):
            args = [sampling.item.pk] if name == "sampling:item_detail" else []
            browser.get(live_server.url + reverse(name, args=args))
            wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, f"[data-testid={testid}]")))
            _fits(browser)
        browser.get(live_server.url + reverse("sampling:pool_list"))
        rows = browser.find_elements(By.CSS_SELECTOR, "[data-testid=pool] tbody tr")
        assert len(rows) == len(sampling.objects) - 1  # 呼和浩特's object is outside 包头市
    finally:
        browser.set_window_size(*WINDOW_SIZE)
