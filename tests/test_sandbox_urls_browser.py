"""Every URL `smlite sandbox up` prints opens as printed, in a real browser.

Headless Debian Chromium opens the MPP, SM Portal and Administration Console URLs of a running
sandbox as a new user would: the MPP to a sign-in page where an internal user is typed and the
session made by POST (then the user's MPP view), the SM Portal to a landing page that says how
links arrive and shows nothing private, the Administration Console behind HTTP Basic whose
challenge names the user. Screenshots stay in the test's tmp dir. (Mailpit's UI:
tests/test_mailpit_ui_browser.py.)
"""

from __future__ import annotations

import pytest
import requests

from harness.sandbox.lifecycle import Sandbox
from tests.report.browser_check import CHROMIUM, BrowserUnavailable, _launch

pytestmark = [pytest.mark.browser, pytest.mark.sandbox]


def test_each_printed_url_opens_as_printed(tmp_path):
    with Sandbox() as sandbox:
        info = sandbox.info()
        challenge = requests.get(info["admin_url"], timeout=10)
        assert challenge.status_code == 401 and "user: admin" in challenge.headers["WWW-Authenticate"]
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            try:
                browser = _launch(p, CHROMIUM)
            except BrowserUnavailable as exc:
                pytest.fail(f"the browser test needs Chromium: {exc}")
            try:
                page = browser.new_page()
                page.goto(info["mpp_url"])
                assert page.locator("form[action='/mpp/sign-in']").count() == 1, page.content()[:500]
                page.screenshot(path=str(tmp_path / "mpp-sign-in.png"), full_page=True)
                page.fill("#address", "ida@corp.example")
                with page.expect_navigation():
                    page.click("button[type=submit]")
                assert "ida@corp.example" in page.content(), page.content()[:800]
                page.screenshot(path=str(tmp_path / "mpp.png"), full_page=True)

                page.goto(info["sm_portal_url"])
                text = page.inner_text("body")
                assert "link" in text and "@" not in text, text  # how links arrive; no address, no message
                page.screenshot(path=str(tmp_path / "sm-portal.png"), full_page=True)

                admin = browser.new_context(
                    http_credentials={"username": "admin", "password": info["admin_token"]}
                ).new_page()
                answer = admin.goto(info["admin_url"])
                assert answer.status == 200 and "External" in admin.inner_text("body")
                admin.screenshot(path=str(tmp_path / "admin.png"), full_page=True)
            finally:
                browser.close()
    shots = sorted(p.name for p in tmp_path.glob("*.png"))
    assert shots == ["admin.png", "mpp-sign-in.png", "mpp.png", "sm-portal.png"]
    assert all((tmp_path / s).stat().st_size > 5_000 for s in shots)
