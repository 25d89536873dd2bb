"""The report in a real browser (headless Chromium): no request leaves file://, the failed cell opens its
evidence, injected markup never runs. Needs /usr/bin/chromium (Debian's package); fails, never skips,
when it is missing."""

from __future__ import annotations

import pytest

from harness.report import write_report
from tests.report.browser_check import BrowserUnavailable, check_report_in_browser

from .sample import XSS_SUBJECT, full_run

pytestmark = pytest.mark.browser


def test_report_in_chromium(tmp_path):
    index = write_report(full_run(), tmp_path / "run")
    try:
        seen = check_report_in_browser(index, expect_subject=XSS_SUBJECT)
    except BrowserUnavailable as exc:
        pytest.fail(f"the browser test needs Chromium: {exc}")
    assert seen["problems"] == [] and seen["ok"]
    assert seen["requests"] and all(url.startswith("file:") for url in seen["requests"]), seen["requests"]
    assert seen["verdict"] == "Not conformant"
    assert seen["failed_cells"] == ["T3-r4 / Mail Box", "T3-r4 / MPP"]
    assert seen["failed_cell_background"] == "rgb(253, 224, 222)"  # --fail-bg
    assert not seen["detail_open_before_click"] and seen["detail_open"] and seen["detail_visible"]
    assert seen["subject_visible"] and XSS_SUBJECT in seen["evidence_subjects"]
    assert seen["html_previews_loaded"] >= 1  # the hostile HTML body was rendered, in its sandbox
    assert seen["xss"] == 0 and seen["dialogs"] == [] and seen["page_errors"] == []
    assert (tmp_path / "run" / "screenshot.png").stat().st_size > 10_000
