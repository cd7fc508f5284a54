"""End-to-end in headless Chromium: the metrology path as its users click it.

在线报检 → 受理 / 不予受理 → 排期 → 录入结果（检定员、核验员、批准人）→ 检定证书 / 检定结果通知书
→ 公众扫码查验 → 证书更正（重新出具）/ 撤销.

Only the base data is made outside the browser (organisations, people, the institution's
authorisation scope, the enterprise's ledger with its verification history); every step of the
scenario goes through the pages, and the database is read only to check what the pages said.

* ``test_drop_off_application_to_certificate_and_public_check`` — the enterprise's manager
  applies for two due instruments (送检) to the one institution whose scope and area cover
  them; the institution's clerk accepts (deadline shown), schedules, is refused when naming one
  person twice, records a pass and a fail, which issues the certificate and the notice (there
  is no separate "issue" step); the certificate's PDF is downloaded with the browser's session
  and its QR code carries the public check URL; the public checks both (valid, the factory
  number, no personal data; the notice's fail); the clerk reissues the certificate and revokes
  the notice, which the public check then shows; another enterprise's manager is refused the
  application and the PDF.
* ``test_on_site_application_then_rejected_with_reason`` — 上门: refused without the address,
  then without the dates, accepted with both; the clerk rejects it with a reason, which the
  enterprise reads on its application and its timeline.

Set-up notes: see :mod:`nqihub.core.tests.test_browser` (``serialized_rollback`` brings back
the divisions, the catalogue and the audit chain head that migrations insert). The QR code is
decoded with ``pdftoppm`` and ``zbarimg`` when they are installed (always with
``NQI_REQUIRE_BROWSER=1``, as in CI). ``NQI_PUBLIC_BASE_URL`` is set to the live server, as
production sets it to the public address, so the QR code carries a URL a phone can open.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request
import warnings
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from nqihub.core.access import MembershipRole, OrganizationKind
from nqihub.core.tests.test_browser import css, navigate, sign_in, sign_out, zh, zh_label
from nqihub.metrology.models import (
    ApplicationItem,
    CatalogueItem,
    Instrument,
    IssuedDocument,
    VerificationApplication,
    VerificationMode,
    VerificationResult,
)
from nqihub.metrology.services.instruments import instrument_create
from nqihub.organizations.models import Discipline, InstitutionDiscipline
from nqihub.testing.browser import REQUIRE_ENV, browser, browser_driver, save_failure_artifacts  # noqa: F401
from nqihub.testing.factories import MembershipFactory, OrganizationFactory, UserFactory

from .conftest import instrument_data
from .test_applications import authorise

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

State = VerificationApplication.State
Mode = VerificationApplication.Mode
Outcome = VerificationResult.Outcome
Kind = IssuedDocument.Kind

CONTACT_NAME = "钱联系"
CONTACT_PHONE = "0472-7654321"


# --- helpers -----------------------------------------------------------------------------------


@contextmanager
def artifacts_on_failure(driver, name: str):
    """Screenshot and HTML of the page when the block fails (the report hook of
    :mod:`nqihub.testing.browser` is registered only for the core tests' directory)."""
    try:
        yield
    except BaseException:
        try:
            paths = save_failure_artifacts(driver, name)
            print(f"browser page {driver.current_url}\nsaved: " + "\n       ".join(map(str, paths)))
        except Exception as exc:  # the test's own failure matters more
            print(f"could not save a screenshot: {exc!r}")
        raise


def click_to(driver, element) -> None:
    navigate(driver, element.click)


def xpath_literal(text: str) -> str:
    return f"'{text}'" if "'" not in text else f'"{text}"'


def subnav(driver, url_name: str):
    return css(driver, f"nav.subnav a[href='{reverse(url_name)}']")


def main_nav(driver, label: str):
    return driver.find_element(By.XPATH, f"//nav[@class='mainnav']/a[normalize-space(.)={xpath_literal(label)}]")


def messages(driver, kind: str) -> list[str]:
    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, f"ul.messages li.msg-{kind}")]


def state_badge(driver) -> str:
    return css(driver, "[data-testid=state]").text


def timeline(driver) -> str:
    return css(driver, "[data-testid=timeline]").text


def fact(driver, label: str) -> str:
    """The ``<dd>`` after the ``<dt>`` reading ``label`` in the page's facts list."""
    return driver.find_element(
        By.XPATH,
        f"//dl[contains(@class,'facts')]/dt[normalize-space(.)={xpath_literal(label)}]/following-sibling::dd[1]",
    ).text


def set_date(driver, element, day: date) -> None:
    """Fill an ``<input type=date>``: typing into it depends on the browser's locale order."""
    driver.execute_script(
        "arguments[0].value = arguments[1];"
        "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));"
        "arguments[0].dispatchEvent(new Event('change', {bubbles: true}));",
        element,
        day.isoformat(),
    )


def row_with_code(driver, code: str):
    """The table row showing ``code`` (a factory number or a case number) in a cell."""
    return driver.find_element(
        By.XPATH,
        f"//main//table//tr[td[normalize-space(.)={xpath_literal(code)} or .//*[normalize-space(.)={xpath_literal(code)}]]]",
    )


def listed_codes(driver) -> set[str]:
    return {e.text for e in driver.find_elements(By.CSS_SELECTOR, "main table tbody td code")}


def local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def public_visitor(driver) -> None:
    """Someone else, on another phone: no session. (The browser's cache is kept on purpose: the
    public check must show a revocation at once even to a phone that checked before.)"""
    driver.get("about:blank")
    driver.execute_cdp_cmd("Network.clearBrowserCookies", {})  # every site's, not only the open page's


def fetch(url: str, session: str | None) -> tuple[int, dict, bytes]:
    """GET ``url`` with the browser's session cookie (what the download link does)."""
    request = urllib.request.Request(url)
    if session:
        request.add_header("Cookie", f"{django_settings.SESSION_COOKIE_NAME}={session}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def session_of(driver) -> str:
    cookie = driver.get_cookie(django_settings.SESSION_COOKIE_NAME)
    assert cookie, driver.get_cookies()
    return cookie["value"]


def decode_qr_codes(pdf: bytes) -> list[str] | None:
    """The QR codes on the PDF's first page, or None when pdftoppm / zbarimg are missing
    (a failure instead with ``NQI_REQUIRE_BROWSER=1``)."""
    pdftoppm, zbarimg = shutil.which("pdftoppm"), shutil.which("zbarimg")
    if not (pdftoppm and zbarimg):
        message = "pdftoppm and zbarimg (poppler-utils, zbar-tools) are needed to decode the certificate's QR code"
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{message}; {REQUIRE_ENV}=1 requires them", pytrace=False)
        warnings.warn(f"{message}: QR check skipped", stacklevel=2)
        return None
    with tempfile.TemporaryDirectory(prefix="nqi-qr-") as tmp:
        source = Path(tmp) / "document.pdf"
        source.write_bytes(pdf)
        subprocess.run(
            [pdftoppm, "-r", "200", "-png", "-f", "1", "-l", "1", str(source), str(Path(tmp) / "page")],
            check=True,
            timeout=60,
        )
        (page,) = Path(tmp).glob("page*.png")
        out = subprocess.run(
            [zbarimg, "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(page)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        return [line for line in out.stdout.splitlines() if line.strip()]


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture
def metrology(world, scale, settings, live_server):
    """Base data: an institution whose scope and area cover the enterprise's instruments, two
    that do not (one lacks an item, one is in another city), the institution's clerk and
    signers, and the enterprise's ledger (two instruments due within 30 days, one later)."""
    settings.NQI_PUBLIC_BASE_URL = live_server.url  # what production sets to its public address
    gauge = (
        CatalogueItem.objects.filter(
            name__contains="压力表", use_safety=True, verification_mode=VerificationMode.PERIODIC, period_months__gt=0
        )
        .order_by("code")
        .first()
    )
    assert gauge is not None, "the shipped catalogue has no periodic pressure gauge any more"

    institution = world.institution  # 包头市质量技术监督检验测试所, in 昆都仑区: its own division and below
    InstitutionDiscipline.objects.create(organization=institution, discipline=Discipline.METROLOGY)
    authorise(institution, scale.code, gauge.code)
    partial = OrganizationFactory(  # covers 包头市 but only scales
        kind=OrganizationKind.INSTITUTION, name="包头市衡器检定站", division_id="150200", credit_code=None
    )
    InstitutionDiscipline.objects.create(organization=partial, discipline=Discipline.METROLOGY)
    authorise(partial, scale.code)
    far = OrganizationFactory(  # every item, but 呼和浩特 only
        kind=OrganizationKind.INSTITUTION, name="呼和浩特市计量检定所", division_id="150100", credit_code=None
    )
    InstitutionDiscipline.objects.create(organization=far, discipline=Discipline.METROLOGY)
    authorise(far, scale.code, gauge.code)

    def member(username, display_name, role):
        user = UserFactory(username=username, display_name=display_name)
        MembershipFactory(user=user, organization=institution, role=role)
        return user

    people = {
        "clerk": member("inst_clerk", "孙受理", MembershipRole.CLERK),
        "verifier": member("inst_verifier", "周检定", MembershipRole.CLERK),
        "checker": member("inst_checker", "吴核验", MembershipRole.CLERK),
        "approver": member("inst_approver", "郑批准", MembershipRole.MANAGER),
    }
    manager = world.users["ent_manager"]
    manager.display_name = "冯经理"
    manager.save(update_fields=["display_name"])

    today = timezone.localdate()
    ledger = {}
    for key, item, name, number, use, due_in in (
        ("scale", scale, "电子计价秤", "K-SC-0001", "trade", 10),
        ("gauge", gauge, "锅炉压力表", "K-PG-0001", "safety", 5),
        ("later", scale, "电子台秤", "K-SC-0002", "trade", 200),
    ):
        instrument = instrument_create(
            actor=manager,
            data=instrument_data(catalogue_item=item.code, name=name, factory_number=number, use_field=use),
        )
        # Verified before the platform: the history an import would have brought.
        Instrument.objects.filter(pk=instrument.pk).update(
            last_verified_on=today + timedelta(days=due_in) - timedelta(days=365),
            next_due_on=today + timedelta(days=due_in),
        )
        ledger[key] = Instrument.objects.get(pk=instrument.pk)
    return {
        "institution": institution,
        "partial": partial,
        "far": far,
        "people": people,
        "manager": manager,
        "other": world.users["ent_other"],
        "ledger": ledger,
        "gauge": gauge,
    }


# --- pages used by both tests ------------------------------------------------------------------


def open_application_form(driver) -> None:
    """From any page of the enterprise: 计量 → 在线报检 → 申请检定."""
    click_to(driver, main_nav(driver, zh("Metrology")))
    assert css(driver, "main h1").text == zh("Instrument ledger")
    assert {"K-SC-0001", "K-PG-0001", "K-SC-0002"} <= listed_codes(driver)  # factory numbers (and platform codes)
    # Through 在线报检 (the due list's tick boxes are the other way in).
    click_to(driver, subnav(driver, "metrology:application_list"))
    click_to(driver, css(driver, "[data-testid=apply]"))
    assert css(driver, "main h1").text == zh("Apply for verification")


def tick(driver, *factory_numbers: str) -> None:
    for number in factory_numbers:
        row_with_code(driver, number).find_element(By.CSS_SELECTOR, "input[type=checkbox]").click()
    click_to(driver, css(driver, "[data-testid=next]"))


def offered_institutions(driver) -> list[str]:
    return [o.text.split(" · ")[0] for o in Select(css(driver, "#id_institution")).options]


def fill_contact(driver) -> None:
    css(driver, "#id_contact_name").send_keys(CONTACT_NAME)
    driver.find_element(By.ID, "id_contact_phone").send_keys(CONTACT_PHONE)


def open_from_inbox(driver, application: VerificationApplication) -> None:
    """The institution's inbox lists the application awaiting acceptance with its deadline."""
    row = row_with_code(driver, application.number)
    cells = row.find_elements(By.TAG_NAME, "td")
    assert cells[-3].text == zh_label(State.SUBMITTED)
    assert cells[-1].text == local(application.accept_by)
    click_to(driver, row.find_element(By.LINK_TEXT, application.number))
    assert application.number in css(driver, "main h1").text
    assert fact(driver, zh("To be accepted by")) == local(application.accept_by)


def choose(select_element, text: str) -> None:
    Select(select_element).select_by_visible_text(text)


def record_result(driver, item: ApplicationItem, outcome: str, signers, *, readings="", failure_reasons="") -> None:
    form = css(driver, f"form[data-testid=result-form-{item.pk}]")
    Select(form.find_element(By.NAME, "outcome")).select_by_value(outcome)
    if readings:
        form.find_element(By.NAME, "readings").send_keys(readings)
    if failure_reasons:
        form.find_element(By.NAME, "failure_reasons").send_keys(failure_reasons)
    for role, person in zip(("verifier", "checker", "approver"), signers, strict=True):
        choose(form.find_element(By.NAME, role), str(person))
    click_to(driver, form.find_element(By.CSS_SELECTOR, "button[type=submit]"))


def document_numbers(driver, item: ApplicationItem) -> list[str]:
    cells = css(driver, f"tr[data-testid=item-{item.pk}]").find_elements(By.TAG_NAME, "td")
    return [e.text for e in cells[-1].find_elements(By.TAG_NAME, "code")]


def open_document(driver, number: str) -> None:
    """证书 in the sub-navigation, then the document's number."""
    click_to(driver, subnav(driver, "metrology:document_list"))
    click_to(driver, row_with_code(driver, number).find_element(By.LINK_TEXT, number))
    assert number in css(driver, "main h1").text


def public_check_link(driver) -> str:
    return driver.find_element(
        By.XPATH,
        f"//dl[contains(@class,'facts')]/dt[normalize-space(.)={xpath_literal(zh('Public check'))}]/following-sibling::dd[1]/a",
    ).get_attribute("href")


# --- tests -----------------------------------------------------------------------------------


def test_drop_off_application_to_certificate_and_public_check(browser, live_server, metrology, request):  # noqa: F811
    base = live_server.url
    people, ledger = metrology["people"], metrology["ledger"]
    clerk, verifier, checker, approver = (people[k] for k in ("clerk", "verifier", "checker", "approver"))
    today = timezone.localdate()

    with artifacts_on_failure(browser, request.node.nodeid):
        # 1. The enterprise's manager opens the ledger, chooses the instruments due and applies.
        sign_in(browser, base, metrology["manager"])
        open_application_form(browser)
        assert listed_codes(browser) == {"K-SC-0001", "K-PG-0001", "K-SC-0002"}
        Select(css(browser, "#f-show")).select_by_value("due")
        click_to(browser, css(browser, "main form.filters button[type=submit]"))
        assert listed_codes(browser) == {"K-SC-0001", "K-PG-0001"}  # not the one due in 200 days
        tick(browser, "K-SC-0001", "K-PG-0001")

        # Only the institution whose scope covers both items and whose area covers the enterprise.
        assert offered_institutions(browser) == [metrology["institution"].name]
        drop_off = css(browser, f"input[name=mode][value={Mode.DROP_OFF}]")
        assert drop_off.is_selected()
        fill_contact(browser)
        click_to(browser, css(browser, "[data-testid=submit]"))

        application = VerificationApplication.objects.get()
        assert application.number in css(browser, "main h1").text
        assert any(application.number in m for m in messages(browser, "success")), messages(browser, "success")
        assert state_badge(browser) == zh_label(State.SUBMITTED)
        assert fact(browser, zh("Mode")) == zh_label(Mode.DROP_OFF)
        assert fact(browser, zh("Institution")) == metrology["institution"].name
        assert fact(browser, zh("To be accepted by")) == local(application.accept_by)
        assert zh("Submitted") in timeline(browser)
        application_url = browser.current_url
        sign_out(browser)

        # 2. The institution's clerk: awaiting acceptance on the home page, then the inbox.
        sign_in(browser, base, clerk)
        awaiting = browser.find_element(
            By.XPATH,
            f"//main//a[contains(@class,'stat')][div[@class='label' and normalize-space(.)={xpath_literal(zh('Applications awaiting acceptance'))}]]",
        )
        assert awaiting.find_element(By.CSS_SELECTOR, ".num").text == "1"
        click_to(browser, awaiting)
        assert css(browser, "main h1").text == zh("Verification inbox")
        open_from_inbox(browser, application)

        click_to(browser, css(browser, "[data-testid=accept]"))
        assert any(application.number in m for m in messages(browser, "success"))
        assert state_badge(browser) == zh_label(State.ACCEPTED)
        assert zh("Accepted by the institution") in timeline(browser)

        set_date(browser, css(browser, "#id_on_date"), today)
        browser.find_element(By.ID, "id_sched_note").send_keys("请于上午送至本所")
        click_to(browser, css(browser, "[data-testid=schedule]"))
        assert state_badge(browser) == zh_label(State.SCHEDULED)
        assert css(browser, "[data-testid=scheduled]").text == today.isoformat()
        assert "请于上午送至本所" in timeline(browser)

        items = {i.instrument_id: i for i in ApplicationItem.objects.filter(application=application)}
        scale_item, gauge_item = items[ledger["scale"].pk], items[ledger["gauge"].pk]

        # One person named twice: a clear refusal, nothing recorded, the form is still there.
        record_result(browser, scale_item, Outcome.PASS, (verifier, verifier, approver))
        assert messages(browser, "error") == [
            zh("The verifier, the checker and the approver must be three different people.")
        ]
        assert not VerificationResult.objects.exists()
        assert not IssuedDocument.objects.exists()
        assert state_badge(browser) == zh_label(State.SCHEDULED)
        css(browser, f"form[data-testid=result-form-{scale_item.pk}]")

        # Three different people: the scale passes, the gauge fails.
        record_result(browser, scale_item, Outcome.PASS, (verifier, checker, approver), readings="示值误差 +0.5e")
        assert messages(browser, "success") == [zh("The result was recorded and its document issued.")]
        record_result(
            browser, gauge_item, Outcome.FAIL, (verifier, checker, approver), failure_reasons="示值误差超出最大允许误差"
        )
        assert messages(browser, "success") == [zh("The result was recorded and its document issued.")]
        assert state_badge(browser) == zh_label(State.COMPLETED)
        assert zh("Completed: every instrument has its result") in timeline(browser)
        scale_row = css(browser, f"tr[data-testid=item-{scale_item.pk}]").text
        assert zh_label(Outcome.PASS) in scale_row
        assert all(p.display_name in scale_row for p in (verifier, checker, approver))
        assert zh_label(Outcome.FAIL) in css(browser, f"tr[data-testid=item-{gauge_item.pk}]").text
        assert not browser.find_elements(By.CSS_SELECTOR, "form[data-testid^=result-form-]")

        # 3. The documents were issued with the results: a certificate and a notice.
        (certificate_number,) = document_numbers(browser, scale_item)
        (notice_number,) = document_numbers(browser, gauge_item)
        certificate = IssuedDocument.objects.get(number=certificate_number)
        notice = IssuedDocument.objects.get(number=notice_number)
        assert (certificate.kind, notice.kind) == (Kind.CERTIFICATE, Kind.NOTICE)

        open_document(browser, certificate_number)
        assert state_badge(browser) == zh_label(IssuedDocument.State.VALID)
        assert fact(browser, zh("Valid until")) == certificate.valid_until.isoformat()
        certificate_check_url = public_check_link(browser)
        assert certificate_check_url == f"{base}/verify/{certificate.public_code}/"
        download = css(browser, "[data-testid=download]").get_attribute("href")
        status, headers, pdf = fetch(download, session_of(browser))
        assert status == 200, pdf[:500]
        assert headers["Content-Type"] == "application/pdf"
        assert pdf.startswith(b"%PDF-")
        assert fact(browser, zh("SHA-256 of the PDF")) == hashlib.sha256(pdf).hexdigest()
        qr_codes = decode_qr_codes(pdf)
        if qr_codes is not None:
            assert qr_codes == [certificate_check_url]

        open_document(browser, notice_number)
        notice_check_url = public_check_link(browser)
        assert notice_check_url == f"{base}/verify/{notice.public_code}/"
        sign_out(browser)

        # 4. The public scans the certificate: valid, the instrument, nothing personal.
        public_visitor(browser)
        browser.get(certificate_check_url)
        status_el = css(browser, "[data-testid=status]")
        assert (status_el.get_attribute("data-status"), status_el.text) == ("valid", zh("Valid"))
        assert css(browser, "[data-testid=number]").text == certificate_number
        page = browser.find_element(By.TAG_NAME, "body").text
        assert "K-SC-0001" in page
        for private in (
            CONTACT_NAME,
            CONTACT_PHONE,
            clerk.display_name,
            verifier.display_name,
            checker.display_name,
            approver.display_name,
            metrology["manager"].display_name,
        ):
            assert private not in browser.page_source, private
        # No cookie at all for the public (not even from a /favicon.ico request).
        assert browser.get_cookies() == []

        browser.get(notice_check_url)
        status_el = css(browser, "[data-testid=status]")
        assert status_el.get_attribute("data-status") == "failed"  # a notice is never shown as "valid"
        assert css(browser, "[data-testid=kind]").text == zh_label(Kind.NOTICE)
        assert css(browser, "[data-testid=result]").text == zh_label(Outcome.FAIL)
        assert "K-PG-0001" in browser.find_element(By.TAG_NAME, "body").text
        assert CONTACT_PHONE not in browser.page_source

        # The institution corrects the certificate (reissue) and revokes the notice, with reasons.
        sign_in(browser, base, clerk)
        click_to(browser, main_nav(browser, zh("Metrology")))
        open_document(browser, certificate_number)
        css(browser, "#reissue-reason").send_keys("更正：型号规格填写有误")
        click_to(browser, css(browser, "[data-testid=reissue]"))
        certificate.refresh_from_db()
        replacement = certificate.superseded_by
        assert certificate.state == IssuedDocument.State.SUPERSEDED and replacement is not None
        assert replacement.number in css(browser, "main h1").text
        assert any(replacement.number in m for m in messages(browser, "success"))
        assert fact(browser, zh("Replaces")) == certificate_number

        open_document(browser, notice_number)
        revoke_reason = "误发：该器具检定记录重复"
        css(browser, "#revoke-reason").send_keys(revoke_reason)
        click_to(browser, css(browser, "[data-testid=revoke]"))
        assert any(notice_number in m for m in messages(browser, "success"))
        assert state_badge(browser) == zh_label(IssuedDocument.State.REVOKED)
        sign_out(browser)

        # The public check of the old codes: superseded (with the newer one) and revoked.
        public_visitor(browser)
        browser.get(certificate_check_url)
        status_el = css(browser, "[data-testid=status]")
        assert (status_el.get_attribute("data-status"), status_el.text) == (
            "superseded",
            zh("Superseded by a newer document"),
        )
        newer = css(browser, "[data-testid=superseded-by]")
        assert replacement.number in newer.text
        click_to(browser, newer.find_element(By.TAG_NAME, "a"))
        assert browser.current_url == f"{base}/verify/{replacement.public_code}/"
        assert css(browser, "[data-testid=status]").get_attribute("data-status") == "valid"
        assert css(browser, "[data-testid=number]").text == replacement.number

        browser.get(notice_check_url)
        status_el = css(browser, "[data-testid=status]")
        assert (status_el.get_attribute("data-status"), status_el.text) == ("revoked", zh("Revoked"))
        assert revoke_reason not in browser.page_source

        # 5. Another enterprise's manager: the application and the PDF are refused, not shown.
        sign_in(browser, base, metrology["other"])
        browser.get(application_url)
        assert css(browser, "main h1").text == zh("Not found")
        source = browser.page_source
        assert application.number not in source and CONTACT_PHONE not in source and "K-SC-0001" not in source
        status, _headers, body = fetch(download, session_of(browser))
        assert status == 404 and not body.startswith(b"%PDF")


def test_on_site_application_then_rejected_with_reason(browser, live_server, metrology, request):  # noqa: F811
    base = live_server.url
    manager, clerk = metrology["manager"], metrology["people"]["clerk"]
    today = timezone.localdate()
    reason = "本所本月上门检定已排满，请改为送检或下月再申请"

    with artifacts_on_failure(browser, request.node.nodeid):
        sign_in(browser, base, manager)
        open_application_form(browser)
        tick(browser, "K-SC-0002")
        # A scale alone: both institutions covering 包头 for scales, not the one in 呼和浩特.
        offered = offered_institutions(browser)
        assert sorted(offered) == sorted([metrology["institution"].name, metrology["partial"].name])
        choose(css(browser, "#id_institution"), metrology["institution"].name)
        on_site = browser.find_element(
            By.XPATH, f"//label[normalize-space(.)={xpath_literal(zh_label(Mode.ON_SITE))}]/input[@name='mode']"
        )
        on_site.click()
        fill_contact(browser)

        # Without the address, then without the dates: refused, what was typed is kept.
        click_to(browser, css(browser, "[data-testid=submit]"))
        assert messages(browser, "error") == [
            zh("Give the address where the institution should verify the instruments.")
        ]
        assert css(browser, f"input[name=mode][value={Mode.ON_SITE}]").is_selected()
        assert browser.find_element(By.ID, "id_contact_phone").get_attribute("value") == CONTACT_PHONE
        css(browser, "#id_site_address").send_keys("包头市昆都仑区钢铁大街 1 号 二号厂房")
        click_to(browser, css(browser, "[data-testid=submit]"))
        assert messages(browser, "error") == [zh("Give the dates between which the institution may come.")]
        assert not VerificationApplication.objects.exists()

        wished_from, wished_until = today + timedelta(days=3), today + timedelta(days=10)
        set_date(browser, css(browser, "#id_wished_from"), wished_from)
        set_date(browser, browser.find_element(By.ID, "id_wished_until"), wished_until)
        click_to(browser, css(browser, "[data-testid=submit]"))
        application = VerificationApplication.objects.get()
        assert application.number in css(browser, "main h1").text
        assert fact(browser, zh("Mode")) == zh_label(Mode.ON_SITE)
        assert fact(browser, zh("On-site address")) == "包头市昆都仑区钢铁大街 1 号 二号厂房"
        assert fact(browser, zh("Wished dates")) == f"{wished_from.isoformat()} – {wished_until.isoformat()}"
        assert zh("Submitted") in timeline(browser)
        sign_out(browser)

        # The clerk rejects it with a reason.
        sign_in(browser, base, clerk)
        click_to(browser, main_nav(browser, zh("Metrology")))
        open_from_inbox(browser, application)
        css(browser, "#id_reason").send_keys(reason)
        click_to(browser, css(browser, "[data-testid=reject]"))
        assert any(application.number in m for m in messages(browser, "success"))
        assert state_badge(browser) == zh_label(State.REJECTED)
        sign_out(browser)

        # The enterprise reads the reason on its application and on the timeline.
        sign_in(browser, base, manager)
        click_to(browser, main_nav(browser, zh("Metrology")))
        click_to(browser, subnav(browser, "metrology:application_list"))
        click_to(browser, row_with_code(browser, application.number).find_element(By.LINK_TEXT, application.number))
        assert state_badge(browser) == zh_label(State.REJECTED)
        assert reason in css(browser, "[data-testid=reject-reason]").text
        steps = timeline(browser)
        assert zh("Rejected by the institution") in steps and reason in steps
