"""The report, the comparison and the dashboard in headless Chromium (Debian's /usr/bin/chromium; fails, never
skips, when it is missing): printed page counts, no horizontal overflow at a phone's 390 px, anchors that
open the same thing in two runs, every compare link resolving, the dashboard from several runs of two
targets making no request but file:. Screenshots and PDFs are kept in tests/report/screenshots/ (git-ignored)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from harness import results as R
from harness.cli.main import main as cli_main
from harness.report import write_report
from tests.report.browser_check import CHROMIUM, BrowserUnavailable, _launch, overflow_at, print_report

from .fleet import make_fleet
from .sample import all_passed, full_run

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).parent / "screenshots"
MAX_SUMMARY_PAGES = 4


@pytest.fixture(scope="module")
def shots() -> Path:
    SHOTS.mkdir(exist_ok=True)
    return SHOTS


@pytest.fixture(scope="module")
def playwright_browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the browser tests need the playwright package (scripts/bootstrap)")
    with sync_playwright() as p:
        try:
            browser = _launch(p, CHROMIUM)
        except BrowserUnavailable as exc:
            pytest.fail(f"the browser tests need Chromium: {exc}")
        yield browser
        browser.close()


def everything_failed() -> R.RunResults:
    """The worst run: every scenario failed, every required cell observed otherwise."""
    results = copy.deepcopy(full_run())
    for s in results.scenarios:
        s.status = R.FAILED
        s.message = s.message or "expected the definition to be refused, observed 200 OK"
        for c in s.cells:
            if c.status == R.PASSED:
                c.status, c.observed = R.FAILED, "nothing"
    return results


@pytest.mark.parametrize(
    "name,make", [("passing", all_passed), ("failing", full_run), ("all-failed", everything_failed)]
)
def test_printed_summary_fits_four_a4_pages_and_evidence_is_an_appendix(
    tmp_path, shots, playwright_browser, name, make
):
    index = write_report(make(), tmp_path / name)
    try:
        summary = print_report(index, pdf=shots / f"print-{name}.pdf", browser=playwright_browser)
        appendix = print_report(
            index, appendix=True, pdf=shots / f"print-{name}-appendix.pdf", browser=playwright_browser
        )
    except BrowserUnavailable as exc:
        pytest.fail(f"the browser test needs Chromium: {exc}")
    print(f"{name}: summary {summary['pages']} pages, with appendix {appendix['pages']}")
    assert 1 <= summary["pages"] <= MAX_SUMMARY_PAGES
    assert appendix["pages"] > summary["pages"] + 5  # the evidence of 25 scenarios does not fit in the summary
    assert all(url.startswith("file:") for url in summary["requests"] + appendix["requests"])


def test_printed_summary_holds_the_failures_expected_and_observed(tmp_path, playwright_browser):
    index = write_report(full_run(), tmp_path / "run")
    page = playwright_browser.new_page()
    page.goto(index.as_uri())
    page.emulate_media(media="print")
    assert page.locator("#failures").is_visible() and not page.locator("#scenarios").is_visible()
    rows = page.locator("#failures tbody.failure tr")
    assert rows.count() == 2
    assert [rows.nth(i).locator("td").last.inner_text() for i in range(2)] == ["Notification", "Notification"]
    assert page.locator("#failures").inner_text().count("Email with banner") == 2
    page.emulate_media(media="screen")
    page.locator("#print-appendix").check()  # the toggle is on screen, before printing
    page.emulate_media(media="print")
    assert page.locator("#scenarios").is_visible() and page.locator("#source-document").is_visible()
    page.close()


def test_no_horizontal_overflow_at_390px(tmp_path, shots, playwright_browser):
    index = write_report(full_run(), tmp_path / "a")
    write_report(all_passed(), tmp_path / "b")
    assert (
        cli_main(
            [
                "report",
                str(tmp_path / "a" / "results.json"),
                "--compare",
                str(tmp_path / "b" / "results.json"),
                "-o",
                str(tmp_path / "cmp"),
            ]
        )
        == 1
    )
    runs = tmp_path / "fleet"
    make_fleet(json.loads(json.dumps(full_run().to_dict())), runs, 4, ("Acme Gateway", "Bravo Mail"))
    assert cli_main(["dashboard", str(runs), "-o", str(tmp_path / "site")]) == 0
    for name, page in (
        ("report", index),
        ("compare", tmp_path / "cmp" / "comparison.html"),
        ("dashboard", tmp_path / "site" / "index.html"),
    ):
        seen = overflow_at(page, 390, screenshot=shots / f"phone-{name}.png", browser=playwright_browser)
        assert seen["scroll_width"] <= 390 and seen["overflowing"] == [], (name, seen)


def test_anchors_open_the_same_scenario_in_two_runs(tmp_path, playwright_browser, shots):
    first = write_report(full_run(), tmp_path / "one")
    again = full_run()
    again.run.id = "20250506T000000Z-aaaa"
    again.scenarios.reverse()
    second = write_report(again, tmp_path / "two")
    page = playwright_browser.new_page(viewport={"width": 1200, "height": 900})
    for anchor, name in (
        ("T3-r4", "T3-r4 Mimecast Personal Portal, External definition"),
        ("T1-r1-mac-external", "T1-r1 Mimecast for Mac, External definition"),
    ):
        for index in (first, second):
            page.goto(f"{index.as_uri()}#{anchor}")
            detail = page.locator(f"[id='{anchor}']")
            assert detail.evaluate("el => el.open") is True
            assert detail.locator(".sname").inner_text() == name
    page.screenshot(path=str(shots / "anchor-T1-r1-mac-external.png"))
    # a cell goes to its words in the source, and the words come back to the cell
    page.goto(f"{first.as_uri()}#cell-T3-r4-mpp")
    page.locator("#cell-T3-r4-mpp a.words").click()
    assert page.evaluate("location.hash") == "#src-T3-r4-mpp"
    assert page.locator("#src-T3-r4-mpp").is_visible()
    page.screenshot(path=str(shots / "source-T3-r4-mpp.png"))
    page.locator("#src-T3-r4-mpp").click()
    assert page.evaluate("location.hash") == "#cell-T3-r4-mpp"
    page.close()


def test_every_compare_link_resolves_in_the_browser(tmp_path, playwright_browser, shots):
    write_report(full_run(), tmp_path / "a")
    write_report(all_passed(), tmp_path / "b")
    assert (
        cli_main(
            [
                "report",
                str(tmp_path / "a" / "results.json"),
                "--compare",
                str(tmp_path / "b" / "results.json"),
                "-o",
                str(tmp_path / "cmp"),
            ]
        )
        == 1
    )
    page = playwright_browser.new_page()
    comparison = (tmp_path / "cmp" / "comparison.html").as_uri()
    page.goto(comparison)
    page.screenshot(path=str(shots / "compare.png"), full_page=True)
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    assert len(hrefs) > 27 * 2
    failures = []
    for href in dict.fromkeys(hrefs):
        page.goto(href)
        anchor = href.partition("#")[2]
        if not page.url.startswith("file:") or (anchor and page.locator(f"[id='{anchor}']").count() != 1):
            failures.append(href)
    assert failures == []
    page.close()


def test_dashboard_from_three_runs_of_two_targets(tmp_path, playwright_browser, shots):
    runs = tmp_path / "fleet"
    make_fleet(json.loads(json.dumps(full_run().to_dict())), runs, 3, ("Acme Gateway", "Bravo Mail"))
    assert cli_main(["dashboard", str(runs), "-o", str(tmp_path / "site")]) == 0
    page = playwright_browser.new_page(viewport={"width": 1360, "height": 900})
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto((tmp_path / "site" / "index.html").as_uri(), wait_until="load")
    page.screenshot(path=str(shots / "dashboard.png"), full_page=True)
    assert page.locator("table.matrix th.tgt").count() == 2
    assert page.locator("table.matrix td.m").count() == 54
    assert page.locator("table.matrix td.m").first.evaluate("el => getComputedStyle(el).backgroundColor") in (
        "rgb(220, 243, 226)",
        "rgb(253, 224, 222)",
        "rgb(213, 240, 245)",
    )  # passed / failed / contract
    charts = page.locator("section.history svg.chart")
    assert charts.count() == 2 and charts.first.bounding_box()["height"] > 100
    assert page.locator("section.history svg a.run-col").count() == 3
    page.locator("table.matrix td.m a").first.click()
    page.wait_for_load_state("load")
    assert page.url.split("#")[0].endswith("/index.html") and page.locator("#verdict").is_visible()
    anchor = page.url.partition("#")[2]
    assert anchor and page.locator(f"[id='{anchor}']").count() == 1
    assert requests and all(url.startswith("file:") for url in requests), requests
    page.close()
