"""End-to-end tests in headless Chromium against the live server.

Run with ``pytest -m browser``. They are skipped when Debian's chromium/chromium-driver are not
installed, unless ``NQI_REQUIRE_BROWSER=1`` (CI), see :mod:`nqihub.testing.browser`. Set
``NQI_BROWSER_SCREENSHOTS=/some/dir`` to also save screenshots of the filled registration form
and of the regulator's home page there (for looking at the product, not for assertions).

Texts are compared with what the zh-hans catalogue says at run time (:func:`zh`), so the tests
hold before and after the translations are compiled; Chinese literals are asserted only where
the source itself is Chinese (division names, organisation names, language names).

Database: ``live_server`` needs a transactional database, which pytest-django empties with a
flush after each test. Rows that migrations insert with RunPython are then gone, and a flush does
not re-run migrations: the Inner Mongolia divisions (divisions 0002) and the audit chain head
(audit 0002, row pk=1, without which ``audit_record`` — and so every sign-in — fails with
``AuditChainHead.DoesNotExist``). Only the first transactional test of a session would find
them. ``serialized_rollback=True`` makes pytest-django serialise the migrated database once and
restore it before each of these tests, which brings back every such row, whatever migrations
add later. The ``divisions`` fixture additionally checks the divisions are there and loads them
with the idempotent ``load_divisions`` command (same CSV as the migration) if not, e.g. when
running with ``--no-migrations``. pytest-django runs transactional tests after all ``db``
tests, so the flush after each of these tests does not affect the others.
"""

from __future__ import annotations

import os
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from nqihub.core.access import MembershipRole, OrganizationKind
from nqihub.divisions.models import AdminDivision
from nqihub.organizations.credit_code import (
    CHARSET,
    CreditCodeError,
    make_credit_code,
    make_organisation_code,
    validate_credit_code,
)
from nqihub.organizations.models import EnterpriseRegistration, Membership, Organization
from nqihub.testing.browser import DEFAULT_TIMEOUT, save_full_page_screenshot
from nqihub.testing.factories import PASSWORD, MembershipFactory, OrganizationFactory, UserFactory

# serialized_rollback: see the module docstring.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

ENTERPRISE_NAME = "包头稀土永磁材料测试有限公司"


# --- helpers -----------------------------------------------------------------------------


def zh(text: str) -> str:
    """``text`` as the zh-hans catalogue translates it (the English source if not compiled)."""
    with translation.override("zh-hans"):
        return str(translation.gettext(text))


def zh_label(choice) -> str:
    with translation.override("zh-hans"):
        return str(choice.label)


def wait(driver, timeout: float = DEFAULT_TIMEOUT) -> WebDriverWait:
    return WebDriverWait(driver, timeout)


def css(driver, selector: str):
    """The element, waiting until it is in the page."""
    return wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, selector)))


def _is_gone(element) -> bool:
    """True once ``element`` no longer belongs to the page. Some chromedriver builds report a
    detached node as a generic WebDriverException ("Node with given id does not belong to the
    document") rather than StaleElementReferenceException; both mean the page was replaced."""
    try:
        element.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException as exc:
        if "does not belong to the document" in str(exc):
            return True
        raise
    return False


def navigate(driver, action) -> None:
    """Run ``action`` (a click, a select) and wait until the browser shows the next page."""
    old = driver.find_element(By.TAG_NAME, "html")
    action()
    wait(driver).until(lambda d: _is_gone(old))
    wait(driver).until(lambda d: d.execute_script("return document.readyState") == "complete")


def html_lang(driver) -> str:
    return driver.find_element(By.TAG_NAME, "html").get_attribute("lang")


def sign_in(driver, base_url: str, user) -> None:
    """Through the real login form: django-axes and the real authentication backends run."""
    driver.get(base_url + reverse("accounts:login"))
    css(driver, "#id_username").send_keys(user.username)
    driver.find_element(By.ID, "id_password").send_keys(PASSWORD)
    button = driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]")
    navigate(driver, button.click)
    who = css(driver, "[data-testid=who]")
    assert user.display_name in who.text, driver.page_source[:2000]


def sign_out(driver) -> None:
    button = driver.find_element(By.CSS_SELECTOR, f"form[action='{reverse('accounts:logout')}'] button[type=submit]")
    navigate(driver, button.click)
    css(driver, "#id_username")


def maybe_screenshot(driver, name: str) -> None:
    """Full-page screenshot into $NQI_BROWSER_SCREENSHOTS, if set."""
    target = os.environ.get("NQI_BROWSER_SCREENSHOTS")
    if not target:
        return
    Path(target).mkdir(parents=True, exist_ok=True)
    save_full_page_screenshot(driver, Path(target) / name)


def credit_code(seed: int) -> str:
    return make_credit_code(division="150203", body=make_organisation_code(f"{seed:08d}"))


def fill_registration(driver, code: str) -> None:
    css(driver, "#id_credit_code").send_keys(code)
    driver.find_element(By.ID, "id_name").send_keys(ENTERPRISE_NAME)
    # The county select is grouped by 盟市: pick 昆都仑区 inside the 包头市 group.
    driver.find_element(
        By.XPATH, "//select[@id='id_division']/optgroup[@label='包头市']/option[normalize-space(.)='昆都仑区']"
    ).click()
    assert Select(driver.find_element(By.ID, "id_division")).first_selected_option.get_attribute("value") == "150203"
    driver.find_element(By.ID, "id_address").send_keys("包头市昆都仑区钢铁大街 88 号")
    driver.find_element(By.ID, "id_legal_representative").send_keys("赵永磁")
    driver.find_element(By.ID, "id_contact_name").send_keys("钱联系")
    driver.find_element(By.ID, "id_contact_phone").send_keys("0472-1234567")


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture
def divisions(transactional_db):
    """The Inner Mongolia divisions, reloaded if an earlier transactional test flushed them."""
    if not AdminDivision.objects.filter(pk="150203").exists():
        call_command("load_divisions", stdout=StringIO())
    assert AdminDivision.objects.filter(pk="150203", parent_id="150200").exists()


@pytest.fixture
def people(divisions):
    """An applicant without organisation and a clerk of the 昆都仑区 regulator."""
    regulator = OrganizationFactory(
        kind=OrganizationKind.REGULATOR, name="包头市昆都仑区市场监督管理局", division_id="150203", credit_code=None
    )
    clerk = UserFactory(username="kdl_clerk", display_name="李审核")
    MembershipFactory(user=clerk, organization=regulator, role=MembershipRole.CLERK)
    applicant = UserFactory(username="e2e_applicant", display_name="王申请")
    return applicant, clerk


# --- tests ---------------------------------------------------------------------------------


def test_applicant_registers_enterprise_regulator_approves(browser, live_server, people):
    applicant, clerk = people
    base = live_server.url
    code = credit_code(51000001)

    # The applicant signs in and lands on the Chinese applicant home page.
    sign_in(browser, base, applicant)
    assert html_lang(browser) == "zh-hans"
    assert Select(browser.find_element(By.NAME, "language")).first_selected_option.text == "简体中文"
    apply = css(browser, "[data-testid=apply]")
    assert apply.text == zh("Apply to register an enterprise")
    assert applicant.display_name in browser.find_element(By.CSS_SELECTOR, "main h1").text

    # Apply: fill the form and submit.
    navigate(browser, apply.click)
    fill_registration(browser, code)
    maybe_screenshot(browser, "nqi-registration-form.png")
    submit = browser.find_element(By.CSS_SELECTOR, "form[data-testid=registration-form] button[type=submit]")
    navigate(browser, submit.click)

    registration = EnterpriseRegistration.objects.get(credit_code=code)
    assert registration.applicant_id == applicant.pk
    assert registration.division_id == "150203"
    state = css(browser, "[data-testid=state]")
    assert state.text == zh_label(EnterpriseRegistration.State.SUBMITTED)
    assert registration.number in browser.find_element(By.CSS_SELECTOR, "main h1").text
    facts = browser.find_element(By.CSS_SELECTOR, "dl.facts").text
    assert code in facts
    assert ENTERPRISE_NAME in facts
    assert "包头市 · 昆都仑区" in facts
    assert browser.find_elements(By.CSS_SELECTOR, ".msg-success")
    sign_out(browser)

    # The county regulator opens it from "awaiting my review" on the home page and approves.
    sign_in(browser, base, clerk)
    assert css(browser, "[data-testid=pending-count]").text == "1"
    link = browser.find_element(
        By.XPATH,
        f"//main//h2[normalize-space(.)='{zh('Awaiting my review')}']"
        f"/following-sibling::table[1]//a[normalize-space(.)='{registration.number}']",
    )
    maybe_screenshot(browser, "nqi-regulator-home.png")
    navigate(browser, link.click)
    approve = css(browser, "[data-testid=approve]")
    navigate(browser, approve.click)
    success = css(browser, ".msg-success")
    assert registration.number in success.text
    assert css(browser, "[data-testid=state]").text == zh_label(EnterpriseRegistration.State.APPROVED)
    assert not browser.find_elements(By.CSS_SELECTOR, "[data-testid=approve]")

    organization = Organization.objects.get(credit_code=code)
    assert organization.name == ENTERPRISE_NAME
    assert Membership.objects.filter(user=applicant, organization=organization, role=MembershipRole.MANAGER).exists()
    sign_out(browser)

    # The applicant now acts for the enterprise: the organisation home page.
    sign_in(browser, base, applicant)
    assert browser.find_element(By.CSS_SELECTOR, "main h1").text == ENTERPRISE_NAME
    assert browser.find_element(By.CSS_SELECTOR, ".userbox .acting").text == ENTERPRISE_NAME
    assert zh_label(MembershipRole.MANAGER) in browser.find_element(By.CSS_SELECTOR, "[data-testid=who]").text
    assert not browser.find_elements(By.CSS_SELECTOR, "[data-testid=apply]")


def test_bad_credit_code_shows_error_and_changes_nothing(browser, live_server, people):
    applicant, _clerk = people
    good = credit_code(51000002)
    wrong_check = next(c for c in CHARSET if c != good[-1])
    bad = good[:-1] + wrong_check
    with translation.override("zh-hans"), pytest.raises(CreditCodeError) as expected:
        validate_credit_code(bad, division_exists=lambda _code: True)
    assert expected.value.code == "check_character"

    sign_in(browser, live_server.url, applicant)
    browser.get(live_server.url + reverse("organizations:registration_create"))
    fill_registration(browser, bad)
    submit = browser.find_element(By.CSS_SELECTOR, "form[data-testid=registration-form] button[type=submit]")
    navigate(browser, submit.click)

    errors = css(browser, 'ul.errorlist[data-field="credit_code"]')
    assert errors.text == expected.value.messages[0]
    # Next to the credit code field: in the same field wrapper as the input.
    field = errors.find_element(By.XPATH, "./ancestor::div[contains(@class, 'field')][1]")
    assert "has-error" in field.get_attribute("class")
    assert field.find_element(By.ID, "id_credit_code").get_attribute("value") == bad
    # What was typed is kept.
    assert browser.find_element(By.ID, "id_name").get_attribute("value") == ENTERPRISE_NAME
    assert browser.current_url.endswith(reverse("organizations:registration_create"))

    assert not EnterpriseRegistration.objects.exists()
    assert not Organization.objects.filter(kind=OrganizationKind.ENTERPRISE).exists()


def test_language_switch(browser, live_server, divisions):
    browser.get(live_server.url + reverse("accounts:login"))
    button_css = "main form button[type=submit]"
    assert html_lang(browser) == "zh-hans"
    language = Select(css(browser, "select[name=language]"))
    assert [o.get_attribute("value") for o in language.options] == ["zh-hans", "en"]
    assert language.first_selected_option.text == "简体中文"
    assert browser.find_element(By.CSS_SELECTOR, button_css).text == zh("Sign in")

    navigate(browser, lambda: Select(browser.find_element(By.NAME, "language")).select_by_value("en"))
    assert html_lang(browser) == "en"
    assert browser.current_url.startswith(live_server.url + reverse("accounts:login"))
    assert browser.find_element(By.CSS_SELECTOR, button_css).text == "Sign in"
    assert browser.find_element(By.CSS_SELECTOR, "main h1").text == "Sign in"
    assert Select(browser.find_element(By.NAME, "language")).first_selected_option.text == "English"

    navigate(browser, lambda: Select(browser.find_element(By.NAME, "language")).select_by_value("zh-hans"))
    assert html_lang(browser) == "zh-hans"
    assert browser.find_element(By.CSS_SELECTOR, button_css).text == zh("Sign in")
    assert Select(browser.find_element(By.NAME, "language")).first_selected_option.text == "简体中文"
    # The choice is remembered for the next page.
    browser.get(live_server.url + "/")
    assert html_lang(browser) == "zh-hans"


def test_login_page_loads_nothing_from_outside(browser, live_server, divisions):
    browser.get(live_server.url + reverse("accounts:login"))
    wait(browser).until(lambda d: d.execute_script("return document.readyState") == "complete")
    resources = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    origin = live_server.url + "/"
    assert resources, "no resources loaded at all: is the stylesheet missing?"
    outside = [url for url in resources if not url.startswith(origin)]
    assert outside == [], f"requests outside {origin}: {outside}"
    assert any(url.endswith("/static/nqihub/nqihub.css") for url in resources), resources
    # The stylesheet really applied (not an empty or failed response).
    rules = browser.execute_script("return Array.from(document.styleSheets).reduce((n, s) => n + s.cssRules.length, 0)")
    assert rules > 0
    # Nothing in the markup points elsewhere either (e.g. a lazily loaded font or script).
    references = browser.execute_script(
        "return Array.from(document.querySelectorAll('[src], link[href]')).map(e => e.src || e.href)"
    )
    assert [url for url in references if not url.startswith(origin)] == []
