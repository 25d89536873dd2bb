"""Allure results from a real run, made into a report by the Allure 3 command line, seen in headless Chromium.

A `-k T2` run against the embedded reference writes Allure results (`smlite run --allure`); `allure
generate` (npm's allure, pinned in scripts/bootstrap, in ~/.cache/smlite) makes the report; a real HTTP
server serves it and Chromium opens it: every scenario of the run is in the tree under its table, and
its page lists every attachment its result file names — the .eml of each observed mail among them.
Fails (never skips) without the Allure command line or Chromium, saying how to get them.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import subprocess
import threading
from pathlib import Path

import pytest

from harness.conformance.runner import RunOptions, run
from tests.report.browser_check import CHROMIUM, BrowserUnavailable, _launch

pytestmark = [pytest.mark.browser, pytest.mark.sandbox]

ALLURE_VERSION = "3.18.0"  # as scripts/bootstrap pins it
ALLURE = Path(
    os.environ.get(
        "SMLITE_ALLURE",
        Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
        / "smlite"
        / f"allure-{ALLURE_VERSION}"
        / "node_modules"
        / ".bin"
        / "allure",
    )
)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


def _expand_tree(page) -> None:
    """Open every section of Allure's tree (parentSuite, suite, subSuite), however deep."""
    page.locator('[data-testid="tree-section"]').first.wait_for(timeout=20_000)
    opened: set[str] = set()
    while True:
        ids = page.eval_on_selector_all('[data-testid="tree-section"]', "els => els.map(e => e.id)")
        new = [i for i in ids if i not in opened]
        if not new:
            return
        for section in new:
            page.locator(f'[id="{section}"] > [data-testid="tree-arrow"]').click()
            opened.add(section)


def test_a_real_runs_allure_report_shows_every_scenario_and_its_attachments(tmp_path):
    if not ALLURE.exists():
        pytest.fail(
            f"no Allure command line at {ALLURE}: run scripts/bootstrap with npm available (it installs "
            f"npm's allure@{ALLURE_VERSION} into ~/.cache/smlite), or set SMLITE_ALLURE"
        )
    code, results, index = run(
        RunOptions(select="T2", allure="", pictures=False, reports_dir=tmp_path / "reports", seed=4242, quiet=True)
    )
    assert code == 0 and results is not None and len(results.scenarios) >= 2, results and results.verdict()
    allure_results = index.parent / "allure-results"
    written = {
        json.loads(p.read_text(encoding="utf-8"))["name"]: json.loads(p.read_text(encoding="utf-8"))
        for p in allure_results.glob("*-result.json")
    }
    assert set(written) == {s.name for s in results.scenarios}
    assert all(p.stat().st_mode & 0o077 == 0 for p in allure_results.iterdir()), "private, like the run's folder"
    report = tmp_path / "allure-report"
    done = subprocess.run(
        [str(ALLURE), "generate", str(allure_results), "-o", str(report), "--report-name", "smlite"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0 and (report / "index.html").is_file(), done.stdout + done.stderr

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(report)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/index.html"
    from playwright.sync_api import sync_playwright

    seen: dict[str, list[str]] = {}
    try:
        with sync_playwright() as p:
            try:
                browser = _launch(p, CHROMIUM)
            except BrowserUnavailable as exc:
                pytest.fail(f"the browser test needs Chromium: {exc}")
            try:
                for name in written:  # a fresh page each: the tree keeps what was opened
                    page = browser.new_page(viewport={"width": 1400, "height": 1000})
                    page.goto(url, wait_until="networkidle")
                    _expand_tree(page)
                    leaves = page.locator('[data-testid="tree-leaf"]')
                    names = [leaves.nth(i).inner_text() for i in range(leaves.count())]
                    assert len(names) == len(written), f"the tree shows {len(names)} scenarios: {names}"
                    position = next((i for i, text in enumerate(names) if name in text), None)
                    assert position is not None, f"{name!r} is not in the Allure tree: {names}"
                    leaves.nth(position).click()
                    page.locator('[data-testid="test-result-attachment-header"]').first.wait_for(timeout=20_000)
                    headers = page.locator('[data-testid="test-result-attachment-header"]')
                    seen[name] = [headers.nth(i).inner_text() for i in range(headers.count())]
                    page.screenshot(path=str(tmp_path / f"allure-{len(seen)}.png"), full_page=True)
                    page.close()
            finally:
                browser.close()
    finally:
        server.shutdown()
    for name, result in written.items():
        shown = "\n".join(seen[name])
        missing = [a["name"] for a in result["attachments"] if a["name"] not in shown]
        assert not missing, f"{name}: attachments not shown: {missing}"
        assert any(a["name"].endswith(".eml") for a in result["attachments"]), f"{name}: no .eml attached"
