"""Headless Chromium for the end-to-end tests (``@pytest.mark.browser``).

Uses Debian's ``chromium`` and ``chromium-driver`` packages only. The driver path is always
passed explicitly, so Selenium Manager (which would try to download a browser and driver) never
runs. If the binaries are missing the tests are skipped — unless ``NQI_REQUIRE_BROWSER=1``
(set in CI), where a missing browser is a failure.

Register in a conftest with::

    from nqihub.testing.browser import browser, browser_driver, pytest_runtest_makereport  # noqa: F401

``browser`` gives one test a clean browser (no cookies, blank page); the Chromium process
itself (``browser_driver``) is shared by the tests of a module to keep them fast. When a test
using ``browser`` fails, a screenshot and the page's HTML are saved to a temporary directory
whose path is printed in the failure report.
"""

from __future__ import annotations

import base64
import os
import shutil
import tempfile
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("NQI_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("NQI_CHROMEDRIVER", "/usr/bin/chromedriver"))
REQUIRE_ENV = "NQI_REQUIRE_BROWSER"
WINDOW_SIZE = (1280, 1000)
DEFAULT_TIMEOUT = 10  # seconds for explicit waits

_failure_dir: Path | None = None


def require_browser() -> None:
    """Skip (or fail, if ``NQI_REQUIRE_BROWSER=1``) when Chromium or its driver is missing."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not (p.is_file() and os.access(p, os.X_OK))]
    if not missing:
        return
    reason = (
        f"headless browser not available: {', '.join(missing)} missing "
        "(install Debian's chromium and chromium-driver packages)"
    )
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason}; {REQUIRE_ENV}=1 requires the browser tests to run", pytrace=False)
    pytest.skip(reason)


def make_driver(user_data_dir: str | Path):
    """A headless Chromium WebDriver in Simplified Chinese, with no background networking."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={user_data_dir}",
        "--lang=zh-CN",
        f"--window-size={WINDOW_SIZE[0]},{WINDOW_SIZE[1]}",
    ):
        options.add_argument(arg)
    # Accept-Language of the requests (``--lang`` alone sets only the UI language in headless).
    options.add_experimental_option("prefs", {"intl.accept_languages": "zh-CN,zh"})
    # The console log is readable (``driver.get_log("browser")``): tests assert no CSP violation.
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=str(CHROMEDRIVER))  # explicit path: no Selenium Manager
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(30)
    return driver


@pytest.fixture(scope="module")
def browser_driver():
    """One Chromium per test module, with a fresh profile directory removed afterwards."""
    require_browser()
    profile = tempfile.mkdtemp(prefix="nqi-chromium-profile-")
    driver = make_driver(profile)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def browser(browser_driver, live_server):
    """The shared Chromium, reset for this test: blank page, no cookies (session, language)."""
    browser_driver.get("about:blank")
    browser_driver.delete_all_cookies()
    yield browser_driver
    # Leave the live server's origin so that nothing keeps running against the flushed database.
    try:
        browser_driver.get("about:blank")
        browser_driver.delete_all_cookies()
    except Exception:  # a broken driver must not hide the test's own result
        pass


def csp_violations(driver) -> list[str]:
    """Console messages since the last call that report a Content-Security-Policy violation."""
    return [e["message"] for e in driver.get_log("browser") if "Content Security Policy" in e["message"]]


def save_full_page_screenshot(driver, path: str | Path) -> bool:
    """PNG of the whole page, not only the viewport (Chrome DevTools protocol)."""
    try:
        size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
        shot = driver.execute_cdp_cmd(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
            },
        )
    except Exception:  # fall back to the visible part
        return driver.save_screenshot(str(path))
    Path(path).write_bytes(base64.b64decode(shot["data"]))
    return True


def save_failure_artifacts(driver, name: str) -> list[Path]:
    """Save a screenshot and the page's HTML; returns the paths written."""
    global _failure_dir
    if _failure_dir is None:
        _failure_dir = Path(tempfile.mkdtemp(prefix="nqi-browser-failures-"))
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:120]
    written = []
    png = _failure_dir / f"{safe}.png"
    if save_full_page_screenshot(driver, png):
        written.append(png)
    html = _failure_dir / f"{safe}.html"
    html.write_text(f"<!-- {driver.current_url} -->\n{driver.page_source}", encoding="utf-8")
    written.append(html)
    return written


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failing browser test, attach screenshot and HTML paths to the failure report."""
    outcome = yield
    report = outcome.get_result()
    if report.when not in ("setup", "call") or not report.failed:
        return
    driver = getattr(item, "funcargs", {}).get("browser")
    if driver is None:
        return
    try:
        paths = save_failure_artifacts(driver, item.nodeid)
        url = driver.current_url
    except Exception as exc:
        report.sections.append(("browser screenshot", f"could not save a screenshot: {exc!r}"))
        return
    report.sections.append(("browser screenshot", f"page {url}\nsaved: " + "\n       ".join(str(p) for p in paths)))
