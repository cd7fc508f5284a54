"""After the result at a phone's width (390 px): the sampled party objects from the record's
aftermath page by clicking, and neither that page nor the regulators' deadline list scrolls
sideways."""

from __future__ import annotations

import pytest
from django.urls import reverse
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from nqihub.sampling.models import Objection
from nqihub.sampling.services import aftermath as services
from nqihub.testing.browser import DEFAULT_TIMEOUT, WINDOW_SIZE, browser, browser_driver  # noqa: F401 - fixtures
from nqihub.testing.factories import PASSWORD

from .aftermath_setup import record_at_result

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _sign_in(driver, live_server, user, wait):
    driver.delete_all_cookies()
    driver.get(live_server.url + reverse("accounts:login"))
    wait.until(EC.presence_of_element_located((By.ID, "id_username"))).send_keys(user.username)
    driver.find_element(By.ID, "id_password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=who]")))


def _fits(driver):
    page_width = driver.execute_script("return document.documentElement.scrollWidth")
    viewport = driver.execute_script("return document.documentElement.clientWidth")
    assert page_width <= viewport, (page_width, viewport)


def test_objecting_on_a_phone(
    browser,  # noqa: F811 - the fixture imported above
    live_server,
    world,
    sampling,
    no_second_factor,
):
    record = record_at_result(world, sampling, failing=(2,))
    services.record_notify(actor=world.users["baotou"], record=record)
    browser.set_window_size(390, 844)
    wait = WebDriverWait(browser, DEFAULT_TIMEOUT)
    try:
        _sign_in(browser, live_server, world.users["ent_manager"], wait)
        browser.get(live_server.url + reverse("sampling:aftermath", args=[record.pk]))
        form = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=objection-form]")))
        assert browser.find_element(By.CSS_SELECTOR, "[data-testid=deadlines]").is_displayed()
        _fits(browser)
        form.find_element(By.CSS_SELECTOR, f"input[value='{sampling.test_items[1].pk}']").click()
        form.find_element(By.ID, "id_objection_reason").send_keys("菌落总数检验时样品已超过保质期")
        form.find_element(By.CSS_SELECTOR, "[data-testid=object]").click()
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=objection]")))
        assert Objection.objects.filter(record=record).exists()
        _fits(browser)

        _sign_in(browser, live_server, world.users["baotou"], wait)
        browser.get(live_server.url + reverse("sampling:deadlines"))
        wait.until(EC.presence_of_element_located((By.TAG_NAME, "h1")))
        assert browser.find_element(By.TAG_NAME, "h1").text == "抽查时限"
        _fits(browser)
    finally:
        browser.set_window_size(*WINDOW_SIZE)
