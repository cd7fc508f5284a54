"""In headless Chromium: a stranger locks the security administrator's name, the security
administrator still signs in from their own browser and unlocks from the security page.

Run with ``pytest -m browser`` (see nqihub/core/tests/test_browser.py for the database notes)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from selenium.webdriver.common.by import By

from nqihub.accounts.models import SecurityPolicy
from nqihub.accounts.policy import clear_policy_cache
from nqihub.core.access import StaffRole
from nqihub.core.tests.test_browser import css, navigate, sign_in, sign_out, zh
from nqihub.testing.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_locked_out_security_administrator_signs_in_from_their_browser_and_unlocks(browser, live_server):
    SecurityPolicy.objects.update_or_create(
        pk=1,
        defaults={**settings.NQI_SECURITY_DEFAULTS, "lockout_threshold": 3, "require_second_factor_for_staff": False},
    )
    clear_policy_cache()
    secadmin = UserFactory(username="sec_e2e", display_name="孙安全", staff_role=StaffRole.SECURITY_ADMIN)
    UserFactory(username="clerk_e2e", display_name="周办事")
    base = live_server.url

    # Once signed in fully, the browser is known to the account.
    sign_in(browser, base, secadmin)
    sign_out(browser)

    # Strangers lock both names, waiting out the delays (the test moves no clock: no delays).
    stranger = Client()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(settings, "NQI_SIGNIN_DELAY_AFTER", 1000)
        for name in ("sec_e2e", "clerk_e2e"):
            for _ in range(3):
                stranger.post(reverse("accounts:login"), {"username": name, "password": "guess-Passw0rd!"})
            assert stranger.post(reverse("accounts:login"), {"username": name, "password": PASSWORD}).status_code == 403

    # The security administrator's own browser still signs in, and the page lists both locks.
    sign_in(browser, base, secadmin)
    browser.get(base + reverse("accounts:security_policy"))
    table = css(browser, "[data-testid=locked-accounts]")
    assert "sec_e2e" in table.text and "clerk_e2e" in table.text

    row = table.find_element(By.XPATH, ".//tr[td[normalize-space(text())='clerk_e2e']]")
    navigate(browser, row.find_element(By.CSS_SELECTOR, "button[type=submit]").click)
    assert "clerk_e2e" in css(browser, "ul.messages").text
    table = css(browser, "[data-testid=locked-accounts]")
    assert "clerk_e2e" not in table.text and "sec_e2e" in table.text
    assert zh("Unlock") in table.text
    assert Client().post(reverse("accounts:login"), {"username": "clerk_e2e", "password": PASSWORD}).status_code == 302
