"""我的办件 at a phone's width (390 px): the page itself never scrolls sideways; the table scrolls
inside its wrapper."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from nqihub.cases import services as cases
from nqihub.cases.models import Case
from nqihub.testing.browser import DEFAULT_TIMEOUT, WINDOW_SIZE
from nqihub.testing.factories import PASSWORD

from .test_kernel import TEST_KIND  # noqa: F401  (registers the test kind)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_my_cases_fits_a_phone(browser, live_server, world):
    user = world.users["ent_manager"]
    for _ in range(3):
        case = cases.case_open(
            kind="test_review", actor=user, applicant_organization=world.ent_kundulun,
            handling_organization=world.institution, division=world.ent_kundulun.division,
        )  # fmt: skip
    Case.objects.filter(pk=case.pk).update(deadline=timezone.now() - timedelta(hours=1))
    browser.set_window_size(390, 844)
    try:
        browser.get(live_server.url + reverse("accounts:login"))
        wait = WebDriverWait(browser, DEFAULT_TIMEOUT)
        wait.until(EC.presence_of_element_located((By.ID, "id_username"))).send_keys(user.username)
        browser.find_element(By.ID, "id_password").send_keys(PASSWORD)
        browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=who]")))
        browser.get(live_server.url + "/cases/")
        table = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=case-list]")))
        assert len(table.find_elements(By.CSS_SELECTOR, "tbody tr")) == 3
        assert len(table.find_elements(By.CSS_SELECTOR, "tr.overdue")) == 1
        assert browser.find_element(By.TAG_NAME, "h1").text == "我的办件"
        page_width = browser.execute_script("return document.documentElement.scrollWidth")
        viewport = browser.execute_script("return document.documentElement.clientWidth")
        assert page_width <= viewport, (page_width, viewport)
        wrapper = browser.find_element(By.CSS_SELECTOR, ".table-scroll")
        assert browser.execute_script("return arguments[0].scrollWidth > arguments[0].clientWidth", wrapper)
    finally:
        browser.set_window_size(*WINDOW_SIZE)
