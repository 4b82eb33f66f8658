"""The console in a real browser: Debian's headless Chromium driven by selenium through Debian's
chromedriver (both paths given, so selenium never looks for a driver on the network).

Each page is loaded over a real socket and screenshotted; the chart and the search results must
be visible, the hostile feed text must show as text, and the browser's console must hold no
error (a blocked inline script or style would be logged there as a CSP violation).
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web_server import running
from web_state import IMG_CLAIM, SCRIPT_TITLE, State

from monitor.store.archive import Archive
from monitor.web.app import build_app

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(CHROMIUM is None or CHROMEDRIVER is None,
                                reason="needs Debian's chromium and chromium-driver (apt-get install chromium "
                                       "chromium-driver; .ci/run installs them)")


def open_browser(width: int = 1280, height: int = 900) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--window-size={width},{height}", "--lang=it-IT", "--no-first-run",
                "--disable-extensions", "--disable-background-networking"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    driver = open_browser()
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


@pytest.fixture(scope="session")
def state(sqlite_state: State) -> State:
    """SQLite only: the browser sees the same pages on either backend (test_web_pages checks both)."""
    return sqlite_state


@pytest.fixture(scope="module")
def base(state: State) -> Iterator[str]:
    archive = Archive(state.database)
    with running(build_app(state.config, archive)) as url:
        yield url
    archive.close()


def console_errors(driver: Any) -> list[dict[str, Any]]:
    return [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]


def test_every_page_loads_without_errors_and_shows_its_content(browser: Any, base: str, state: State,
                                                               tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    with sqlite3.connect(state.database) as db:
        story = db.execute("SELECT id FROM articles WHERE title = ?", (SCRIPT_TITLE,)).fetchone()[0]
        digest = db.execute("SELECT MIN(id) FROM outbox WHERE kind = 'digest'").fetchone()[0]
    pages = {"index": "/", "search": "/search?q=altman", "actor": "/actors/sam_altman",
             "story": f"/stories/{story}", "feeds": "/feeds", "digests": "/digests",
             "digest": f"/digests/{digest}", "tester": "/entities/test"}
    for name, path in pages.items():
        browser.get(base + path)
        assert browser.title.endswith("· monitor"), (path, browser.title)
        assert browser.save_screenshot(str(tmp_path / f"{name}.png"))
        assert (tmp_path / f"{name}.png").stat().st_size > 5000
        assert console_errors(browser) == [], path
        # The stylesheet applied (the page is styled, not raw): the header has its background.
        header = browser.find_element(By.CSS_SELECTOR, "header.top")
        assert header.value_of_css_property("background-color") != "rgba(0, 0, 0, 0)"

    browser.get(base + "/actors/sam_altman")
    chart = browser.find_element(By.ID, "timeline")
    assert chart.is_displayed() and chart.size["width"] > 400 and chart.size["height"] > 80
    bars = [b for b in browser.find_elements(By.CSS_SELECTOR, "#timeline rect.bar") if b.size["height"] > 0]
    assert bars, "no visible bar in the chart"

    browser.get(base + "/search?q=costruiremo")
    results = browser.find_elements(By.CSS_SELECTOR, "ol.results li.result")
    assert len(results) == 1 and results[0].is_displayed()
    assert results[0].find_element(By.TAG_NAME, "h3").text == SCRIPT_TITLE
    assert [m.text for m in results[0].find_elements(By.TAG_NAME, "mark")][:1] == ["Costruiremo"]
    assert browser.title != "pwned"

    browser.get(base + f"/stories/{story}")
    assert IMG_CLAIM in browser.find_element(By.CSS_SELECTOR, "div.text").text
    assert browser.find_element(By.TAG_NAME, "body").is_displayed()  # the feed's <style> hid nothing
    assert browser.execute_script("return document.images.length") == 0

    browser.get(base + f"/digests/{digest}")
    frame = browser.find_element(By.CSS_SELECTOR, "iframe.mail")
    assert frame.is_displayed() and frame.size["height"] > 200
    browser.switch_to.frame(frame)
    assert "Musk attacca OpenAI" in browser.find_element(By.TAG_NAME, "body").text
    browser.switch_to.default_content()
    assert console_errors(browser) == []


def test_the_entity_tester_form_works_in_the_browser(browser: Any, base: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.wait import WebDriverWait

    browser.get(base + "/entities/test")
    browser.find_element(By.NAME, "text").send_keys("«Siamo pronti», ha detto Elon Musk <script>x</script>.")
    browser.find_element(By.CSS_SELECTOR, "form.tester button").click()
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "div.text"))
    marked = [m.text for m in browser.find_elements(By.CSS_SELECTOR, "div.text mark.mention")]
    assert marked == ["Elon Musk"]
    assert "<script>x</script>" in browser.find_element(By.CSS_SELECTOR, "div.text").text
    assert console_errors(browser) == []
