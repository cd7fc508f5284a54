"""Field work in a browser at a phone's width (390 px): the organiser records the sampling with
its photo, the institution records the receipt and the results; no page scrolls sideways."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from django.urls import reverse
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from nqihub.sampling.models import InspectionReport, SamplingRecord
from nqihub.testing.browser import DEFAULT_TIMEOUT, WINDOW_SIZE, browser, browser_driver  # noqa: F401
from nqihub.testing.factories import PASSWORD

from .records_setup import PNG, field_fixture  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _sign_in(driver, base, user):
    driver.delete_all_cookies()
    driver.get(base + reverse("accounts:login"))
    wait = WebDriverWait(driver, DEFAULT_TIMEOUT)
    wait.until(EC.presence_of_element_located((By.ID, "id_username"))).send_keys(user.username)
    driver.find_element(By.ID, "id_password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=who]")))
    return wait


def _fits(driver):
    page_width = driver.execute_script("return document.documentElement.scrollWidth")
    viewport = driver.execute_script("return document.documentElement.clientWidth")
    assert page_width <= viewport, (driver.current_url, page_width, viewport)


def test_field_work_at_phone_width(browser, live_server, field):  # noqa: F811 - the fixture imported above
    base = live_server.url
    record = field.record
    inspectors = field.sampling.inspectors
    browser.set_window_size(390, 844)
    photo = Path(tempfile.mkdtemp()) / "seal.png"
    photo.write_bytes(PNG)
    try:
        wait = _sign_in(browser, base, field.world.users["baotou"])
        browser.get(base + reverse("sampling:record_list"))
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, f"[data-testid=record-{record.pk}]")))
        assert browser.find_element(By.TAG_NAME, "h1").text == "抽样单"
        _fits(browser)
        browser.get(base + reverse("sampling:record_detail", args=[record.pk]))
        wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, "[data-testid=sample]"))).click()
        form = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=sample-form]")))
        _fits(browser)
        for key in ("qs1", "bt1"):
            form.find_element(By.CSS_SELECTOR, f"input[name=samplers][value='{inspectors[key].pk}']").click()
        values = {
            "id_notice_number": "包市监抽〔2026〕002号",
            "id_place": "成品库",
            "id_production_batch": "20260501B",
            "id_lot_size": "300",
            "id_seal_numbers": "FY-1 FY-2",
            "id_sample_price": "48",
            "id_party_signatory": "李保管",
        }
        for element_id, text in values.items():
            browser.find_element(By.ID, element_id).send_keys(text)
        browser.find_element(By.ID, "id_files").send_keys(str(photo))
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        stage = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=stage]")))
        assert stage.text == "已抽样"
        _fits(browser)
        assert SamplingRecord.objects.get(pk=record.pk).case.attachments.get().name == "seal.png"

        wait = _sign_in(browser, base, field.world.users["inst"])
        browser.get(base + reverse("sampling:record_detail", args=[record.pk]))
        receipt = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=receive-form]")))
        receipt.find_element(By.ID, "id_condition").send_keys("封条完好")
        receipt.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, "[data-testid=enter-results]"))).click()
        form = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=results-form]")))
        _fits(browser)
        items = field.sampling.test_items
        browser.find_element(By.ID, f"value_{items[0].pk}").send_keys("2.9")
        browser.find_element(By.ID, f"value_{items[1].pk}").send_keys("120000")
        browser.find_element(By.ID, f"measured_{items[2].pk}").send_keys("标签完整")
        browser.find_element(By.CSS_SELECTOR, f"#conclusion_{items[2].pk} option[value=pass]").click()
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        conclusion = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=conclusion]")))
        assert conclusion.text == "不合格"
        _fits(browser)
        browser.find_element(By.CSS_SELECTOR, "[data-testid=issue-report]").click()
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=reports]")))
        assert InspectionReport.objects.get(record=record).conclusion == "fail"
        _fits(browser)
    finally:
        browser.set_window_size(*WINDOW_SIZE)
