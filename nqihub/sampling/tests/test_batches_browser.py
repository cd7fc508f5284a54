"""A batch's page at a phone's width (390 px): the organiser draws with a click, the seed and
the pool's SHA-256 show, and the page never scrolls sideways."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from nqihub.sampling.models import Draw
from nqihub.testing.browser import DEFAULT_TIMEOUT, WINDOW_SIZE, browser, browser_driver  # noqa: F401
from nqihub.testing.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_drawing_a_batch_at_phone_width(browser, live_server, world, sampling):  # noqa: F811
    user = world.users["baotou"]
    browser.set_window_size(390, 844)
    try:
        browser.get(live_server.url + "/accounts/login/")
        wait = WebDriverWait(browser, DEFAULT_TIMEOUT)
        wait.until(EC.presence_of_element_located((By.ID, "id_username"))).send_keys(user.username)
        browser.find_element(By.ID, "id_password").send_keys(PASSWORD)
        browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=who]")))
        browser.get(f"{live_server.url}/sampling/batches/{sampling.batch.pk}/")
        wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, "[data-testid=draw]"))).click()
        seed = wait.until(
            EC.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=draw-objects-1] [data-testid=seed]"))
        )
        drawn = Draw.objects.get(batch=sampling.batch, purpose="objects")
        assert seed.text == drawn.seed
        assert browser.find_element(By.TAG_NAME, "h1").text.startswith(sampling.batch.number)
        browser.find_element(By.CSS_SELECTOR, "[data-testid=draw-objects-1] details summary").click()
        command = browser.find_element(By.CSS_SELECTOR, "[data-testid=verify-command]").text
        assert drawn.seed in command.replace("\n", "")
        page_width = browser.execute_script("return document.documentElement.scrollWidth")
        viewport = browser.execute_script("return document.documentElement.clientWidth")
        assert page_width <= viewport, (page_width, viewport)
    finally:
        browser.set_window_size(*WINDOW_SIZE)
