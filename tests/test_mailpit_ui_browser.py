"""Mailpit's web UI in a real browser (headless Debian Chromium).

The sandbox's Mailpit is the one built with its UI assets (harness/sandbox/mailpit.py
runs npm before `go build`); this opens the UI URL the sandbox prints, after a
message went through the reference gateway, and expects to see its subject in
the message list. The screenshot stays in the test's tmp dir. Fails (never
skips) without Chromium, and fails saying so when the binary is a UI-less
build.
"""

from __future__ import annotations

import smtplib
import uuid
from email.message import EmailMessage

import pytest

from harness.sandbox.lifecycle import Sandbox
from harness.sandbox.mailpit import build_info
from tests.report.browser_check import CHROMIUM, BrowserUnavailable, _launch

pytestmark = [pytest.mark.browser, pytest.mark.sandbox]


def test_the_printed_mailpit_ui_url_shows_the_sandbox_messages(tmp_path):
    subject = f"UI check {uuid.uuid4().hex[:8]}"
    with Sandbox() as sandbox:
        info = sandbox.info()
        built = build_info(sandbox.mailpit.binary)
        if built is not None and not built.get("ui"):
            pytest.fail(f"Mailpit {sandbox.mailpit.binary} was built without its UI: {built.get('ui_problem')}")
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "alice@corp.example", "bob@corp.example", subject
        message.set_content("hello from the UI test")
        with smtplib.SMTP(*info["gateway_smtp"], timeout=10) as client:
            client.send_message(message)
        sandbox.mailbox.wait_for_messages("bob@corp.example", count=1, deadline_s=15)

        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            try:
                browser = _launch(p, CHROMIUM)
            except BrowserUnavailable as exc:
                pytest.fail(f"the browser test needs Chromium: {exc}")
            try:
                page = browser.new_page()
                failed: list[str] = []
                page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
                page.goto(info["mailpit_ui"], wait_until="networkidle")
                page.get_by_text(subject).first.wait_for(state="visible", timeout=15_000)
                screenshot = tmp_path / "mailpit-ui.png"
                page.screenshot(path=str(screenshot), full_page=True)
                title = page.title()
            finally:
                browser.close()
    assert "Mailpit" in title, title
    assert not [f for f in failed if "/dist/" in f], failed  # the UI assets are served
    assert screenshot.stat().st_size > 10_000
    print(f"screenshot: {screenshot}")
