"""report.html in a real browser: Debian's headless Chromium driven through its chromedriver (W3C WebDriver, with
selenium), from file:// with no network. A reader filters 376 results by verdict, surface, feature and new/known
gaps, and nothing overflows the page."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO

COMMITTED = REPO / "reports" / "llamacpp" / "report.json"


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from conformance.report.write import write_reports

    folder = tmp_path_factory.mktemp("html")
    write_reports(json.loads(COMMITTED.read_text()), folder)
    return folder / "report.html"


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is a dev dependency")
    binary = next((shutil.which(n) for n in ("chromium", "chromium-browser") if shutil.which(n)), None)
    driver_path = shutil.which("chromedriver")
    if binary is None or driver_path is None:
        pytest.skip("Debian's chromium and chromium-driver are not installed (CI installs them)")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1280,900", f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=driver_path))
    try:
        yield driver
    finally:
        driver.quit()


def _choose(browser: Any, name: str, value: str) -> None:
    from selenium.webdriver.support.ui import Select

    Select(browser.find_element("css selector", f"#filters select[name={name}]")).select_by_value(value)


def _shown(browser: Any) -> list[dict[str, str]]:
    return browser.execute_script(
        "return Array.from(document.querySelectorAll('[data-result]')).filter(e => !e.hidden).map(e => ({"
        "verdict: e.dataset.verdict, surface: e.dataset.surface, feature: e.dataset.feature, known: e.dataset.known}))")


def test_filters_show_what_was_chosen(browser: Any, page: Path) -> None:
    report = json.loads(COMMITTED.read_text())
    results = report["results"]
    browser.get(page.as_uri())
    count = browser.find_element("id", "filter-count")
    assert count.text == f"{len(results)} of {len(results)} results shown"  # the script ran under the page's CSP

    _choose(browser, "verdict", "FAIL")
    shown = _shown(browser)
    assert {r["verdict"] for r in shown} == {"FAIL"}
    assert len(shown) == sum(1 for r in results if r["verdict"] == "FAIL")
    assert count.text == f"{len(shown)} of {len(results)} results shown"

    _choose(browser, "surface", "curl")
    shown = _shown(browser)
    assert {(r["verdict"], r["surface"]) for r in shown} == {("FAIL", "curl")}
    assert len(shown) == sum(1 for r in results if r["verdict"] == "FAIL" and r["surface"] == "curl")
    visible_columns = browser.execute_script(
        "return Array.from(document.querySelectorAll('.matrix thead th[data-surface]'))"
        ".filter(e => getComputedStyle(e).display !== 'none').map(e => e.dataset.surface)")
    assert visible_columns == ["curl"]

    browser.find_element("css selector", "#filters button[type=reset]").click()
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 10).until(lambda b: len(_shown(b)) == len(results))
    _choose(browser, "feature", "Embeddings")
    _choose(browser, "known", "new")
    shown = _shown(browser)
    expected = [r for r in results if r["feature"] == "Embeddings" and r["gated_verdict"] == r["verdict"]
                and not any(f.get("known_gap") for f in r["findings"])]
    assert len(shown) == len(expected) and {r["feature"] for r in shown} <= {"Embeddings"}
    rows = browser.execute_script(
        "return Array.from(document.querySelectorAll('tr[data-row]')).filter(e => !e.hidden)"
        ".map(e => e.dataset.feature)")
    assert set(rows) <= {"Embeddings"}

    browser.find_element("css selector", "#filters button[type=reset]").click()
    from selenium.webdriver.support.ui import WebDriverWait

    # A form's reset event comes before its fields are reset: the page filters again right after it.
    WebDriverWait(browser, 10).until(lambda b: len(_shown(b)) == len(results))
    assert count.text == f"{len(results)} of {len(results)} results shown"


def test_nothing_overflows_with_every_finding_open(browser: Any, page: Path) -> None:
    browser.get(page.as_uri())
    browser.execute_script("document.querySelectorAll('details').forEach(d => d.open = true)")
    wide = browser.execute_script(
        "const limit = document.documentElement.clientWidth;"
        "return Array.from(document.querySelectorAll('table, pre, summary, li, p'))"
        ".filter(e => e.getBoundingClientRect().right > limit + 1).slice(0, 5).map(e => e.outerHTML.slice(0, 120))")
    assert wide == []
    width = browser.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width[0] <= width[1]


def test_every_finding_has_a_reproduce_command_with_the_key_as_a_variable(page: Path) -> None:
    html = page.read_text()
    report = json.loads(COMMITTED.read_text())
    with_findings = [r for r in report["results"] if r["findings"] and r.get("exchange")]
    assert html.count('class="repro"') >= len(with_findings)
    assert "Bearer $LLAMACPP_API_KEY" in html and "REDACTED" not in html.split('class="repro"')[1][:400]
