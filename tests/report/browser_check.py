"""Open a written report in headless Chromium and check it the way a reader would.

``check_report_in_browser(index_path)`` loads index.html from file://, records
every request, reads the verdict, finds the failed source cells, clicks the
first one and checks that its scenario opens and shows its evidence (the
delivered email's subject), checks that no injected script ran (``window.__xss``
stays 0, no dialog opened) and saves ``screenshot.png`` next to the report.
It returns what it saw plus ``problems`` (empty when all is well); it raises
``BrowserUnavailable`` when Chromium cannot be started. Usable on the report
of a real run as well as in the tests.

``print_report`` prints a page to an A4 PDF and counts its pages (pypdf);
``overflow_at`` opens a page at a phone's width and lists what sticks out.

Needs the playwright Python package and a Chromium binary (Debian's
``/usr/bin/chromium``, or ``$SMLITE_CHROMIUM``; never ``playwright install``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CHROMIUM = os.environ.get("SMLITE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_SCHEMES = ("file:", "data:", "about:")


class BrowserUnavailable(RuntimeError):
    """Chromium or playwright is missing or would not start."""


def _launch(playwright: Any, executable: str) -> Any:
    if not Path(executable).exists() and not shutil.which(executable):
        raise BrowserUnavailable(
            f"no Chromium at {executable}: install it with "
            "`apt-get update && apt-get install -y chromium` (never `playwright install`)"
        )
    try:
        return playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
    except Exception as exc:  # playwright raises its own Error types
        raise BrowserUnavailable(f"Chromium at {executable} would not start: {exc}") from exc


def check_report_in_browser(
    index_path: Path, *, expect_subject: str | None = None, executable: str = CHROMIUM, screenshot: Path | None = None
) -> dict[str, Any]:
    """Check a report in Chromium; see the module docstring. ``expect_subject``: a subject the failed
    cell's evidence must show (default: whatever subject the failed scenario's first email has)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise BrowserUnavailable("the playwright Python package is not installed") from exc
    index_path = Path(index_path).resolve()
    screenshot = Path(screenshot) if screenshot else index_path.parent / "screenshot.png"
    seen: dict[str, Any] = {"requests": [], "dialogs": [], "console_errors": [], "page_errors": [], "problems": []}
    problems: list[str] = seen["problems"]
    with sync_playwright() as p:
        browser = _launch(p, executable)
        try:
            page = browser.new_page(viewport={"width": 1360, "height": 900})
            page.add_init_script("window.__xss = 0;")
            page.on("request", lambda request: seen["requests"].append(request.url))
            page.on("dialog", lambda dialog: (seen["dialogs"].append(dialog.message), dialog.dismiss()))
            page.on("console", lambda msg: msg.type == "error" and seen["console_errors"].append(msg.text))
            page.on("pageerror", lambda error: seen["page_errors"].append(str(error)))
            page.goto(index_path.as_uri(), wait_until="load")
            page.wait_for_timeout(300)
            seen["title"] = page.title()
            seen["verdict"] = page.locator("#verdict").inner_text().strip()
            seen["certification_banner"] = page.locator("#certification").count() > 0
            seen["screenshot"] = str(screenshot)
            page.screenshot(path=str(screenshot), full_page=True)
            failed = page.locator("td.cell.st-failed")
            seen["failed_cells"] = [
                f"{failed.nth(i).get_attribute('data-ref')} / {failed.nth(i).get_attribute('data-column')}"
                for i in range(failed.count())
            ]
            if seen["failed_cells"]:
                cell = failed.first
                seen["failed_cell_background"] = cell.evaluate("el => getComputedStyle(el).backgroundColor")
                link = cell.locator("a.cell-main")
                anchor = (link.get_attribute("href") or "").lstrip("#")
                seen["failed_cell_target"] = anchor
                detail = page.locator(f"[id='{anchor}']")
                seen["detail_open_before_click"] = bool(detail.evaluate("el => el.open === true"))
                link.click()
                page.wait_for_timeout(200)
                seen["detail_open"] = bool(detail.evaluate("el => el.open === true"))
                seen["detail_visible"] = detail.locator(".sbody").is_visible()
                subjects = detail.locator(".evidence dd.f-subject")
                seen["evidence_subjects"] = [subjects.nth(i).inner_text() for i in range(subjects.count())]
                visible = [subjects.nth(i).is_visible() for i in range(subjects.count())]
                wanted = (
                    expect_subject
                    if expect_subject is not None
                    else (seen["evidence_subjects"][0] if seen["evidence_subjects"] else None)
                )
                seen["subject_visible"] = wanted is not None and any(
                    text == wanted and shown for text, shown in zip(seen["evidence_subjects"], visible)
                )
                if not seen["detail_open"] or not seen["detail_visible"]:
                    problems.append(f"clicking the failed cell did not open scenario {anchor!r}")
                if not seen["subject_visible"]:
                    problems.append(
                        f"the failed scenario does not show the email subject {wanted!r}; "
                        f"it shows {seen['evidence_subjects']!r}"
                    )
                previews = detail.locator("details.ev-part:has(> iframe.html-body) > summary")
                for i in range(previews.count()):  # render the HTML bodies: their scripts must not run
                    previews.nth(i).click()
                page.wait_for_timeout(300)
                seen["html_previews_opened"] = previews.count()
                seen["html_previews_loaded"] = detail.locator("iframe.html-body[srcdoc]").count()
                if "st-failed" not in (cell.get_attribute("class") or ""):
                    problems.append("the failed cell lacks the st-failed class")
            page.wait_for_timeout(200)
            seen["xss"] = page.evaluate("window.__xss")
        finally:
            browser.close()
    remote = [url for url in seen["requests"] if not url.startswith(LOCAL_SCHEMES)]
    seen["non_local_requests"] = remote
    if remote:
        problems.append(f"the report made non-local requests: {remote}")
    if seen["xss"] not in (0, None):
        problems.append(f"injected script ran: window.__xss = {seen['xss']!r}")
    if seen["dialogs"]:
        problems.append(f"dialogs opened: {seen['dialogs']}")
    if seen["page_errors"]:
        problems.append(f"script errors on the page: {seen['page_errors']}")
    if not seen["verdict"]:
        problems.append("no verdict shown")
    seen["ok"] = not problems
    return seen


def _count_pdf_pages(data: bytes) -> int:
    try:
        import io

        from pypdf import PdfReader
    except ImportError as exc:  # pypdf is a dev dependency
        raise BrowserUnavailable("the pypdf Python package is not installed (pip install -e '.[dev]')") from exc
    return len(PdfReader(io.BytesIO(data)).pages)


@contextlib.contextmanager
def _browser(browser: Any, executable: str) -> Iterator[Any]:
    """The caller's browser, or one of our own for the duration."""
    if browser is not None:
        yield browser
        return
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise BrowserUnavailable("the playwright Python package is not installed") from exc
    with sync_playwright() as p:
        own = _launch(p, executable)
        try:
            yield own
        finally:
            own.close()


def print_report(
    page_path: Path, *, appendix: bool = False, pdf: Path | None = None, executable: str = CHROMIUM, browser: Any = None
) -> dict[str, Any]:
    """Print a page to A4 the way Chromium's print dialog would (print media, backgrounds on).

    ``appendix`` ticks the report's "Print evidence appendix" toggle first.
    Returns {"pages": n, "pdf": path or None, "requests": [...]}."""
    page_path = Path(page_path).resolve()
    seen: dict[str, Any] = {"requests": []}
    with _browser(browser, executable) as chromium:
        page = chromium.new_page()
        try:
            page.on("request", lambda request: seen["requests"].append(request.url))
            page.goto(page_path.as_uri(), wait_until="load")
            if appendix:
                page.locator("#print-appendix").check()
            page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
            page.emulate_media(media="print")
            data = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
        finally:
            page.close()
    if pdf:
        Path(pdf).write_bytes(data)
    seen["pdf"] = str(pdf) if pdf else None
    seen["pages"] = _count_pdf_pages(data)
    return seen


def overflow_at(
    page_path: Path,
    width: int = 390,
    *,
    screenshot: Path | None = None,
    executable: str = CHROMIUM,
    browser: Any = None,
) -> dict[str, Any]:
    """Open a page at a phone's width: {"scroll_width", "width", "overflowing": [elements wider than the page]}.

    An element counts as overflowing when it sticks out of the viewport, or its content spills out of
    it (clipped text), and no ancestor of it scrolls horizontally (a table inside its own scroll box is fine)."""
    page_path = Path(page_path).resolve()
    with _browser(browser, executable) as chromium:
        page = chromium.new_page(viewport={"width": width, "height": 844}, device_scale_factor=1)
        try:
            page.goto(page_path.as_uri(), wait_until="load")
            found = page.evaluate(
                """(width) => {
              const out = [];
              const scrolls = el => { for (let p = el.parentElement; p; p = p.parentElement) {
                const o = getComputedStyle(p).overflowX; if (o === 'auto' || o === 'scroll') return true; }
                return false; };  // overflow hidden clips: that is the bug, not a way out of it
              for (const el of document.body.querySelectorAll('*')) {
                const r = el.getBoundingClientRect();
                const spills = el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1
                  && getComputedStyle(el).overflowX === 'visible' && el.tagName !== 'PRE';
                if (((r.width && r.right > width + 0.5) || spills) && !scrolls(el)) {
                  const cls = typeof el.className === 'string' && el.className ? '.' + el.className.split(' ').join('.') : '';
                  out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + cls + ' right=' + Math.round(r.right));
                }
              }
              return {scroll_width: document.documentElement.scrollWidth, overflowing: out.slice(0, 20)};
            }""",
                width,
            )
            if screenshot:
                page.screenshot(path=str(screenshot), full_page=False)
        finally:
            page.close()
    found["width"] = width
    return found
