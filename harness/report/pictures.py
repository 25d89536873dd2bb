"""Pictures of what a recipient saw, rendered by headless Chromium while the suite runs.

Owns ``view_page`` (an observed item as its viewer shows it, as one offline HTML page: a delivered
message as a mail client shows it — From, To, Subject, Date, then its HTML part, else its text; an MPP
item as a line of the MPP's list with its content; the SM Portal's message with its subject, recipient,
Print / Reply / Reply all as the portal allows them, expiry and content; the SM Portal's own HTML page
where a step opened it) and ``Painter`` (one background thread, one Chromium, a queue: failed
scenarios' items first; each page shot to a JPEG).

Secrets never reach a picture: every text is passed through the caller's ``mask`` (the report's
Masker: SM Portal tokens, sessions, profile secrets) before it is laid out. Chromium gets the page
with JavaScript off and every request refused: the items are a target's output, possibly hostile.

Bounds: at most ``MAX_PICTURES`` pictures per run, each a 600×420 JPEG (quality 60, taken again at
35 when over ``MAX_PICTURE_BYTES``). Without Chromium the run goes on without pictures and says why.
Chromium is driven over its DevTools pipe (harness/report/chromium_pipe.py, not Playwright: see there)
at a lower CPU priority than the suite (nice +10, inherited by the Chromium it starts), so that on a
busy machine the pictures wait, not the run.
"""

from __future__ import annotations

import email
import email.policy
import html
import json
import os
import queue
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.report.chromium_pipe import ChromiumError, ChromiumPage

MAX_PICTURES = 24
MAX_PICTURE_BYTES = 48_000
WIDTH, HEIGHT = 600, 420
CHROMIUM = os.environ.get("SMLITE_CHROMIUM", "/usr/bin/chromium")

_STYLE = """body{margin:0;font:14px/1.4 Arial,Helvetica,sans-serif;color:#1f2933;background:#fff}
.bar{background:#1d2b3a;color:#fff;padding:6px 12px;font-size:12px}.head{padding:8px 12px;border-bottom:1px solid #d5dbe3;background:#f5f7fa}
.head div{margin:1px 0}.k{color:#5f6b7a;display:inline-block;width:64px}.subject{font-weight:bold;font-size:15px}
.body{padding:10px 12px}pre{white-space:pre-wrap;font:13px/1.4 Arial,Helvetica,sans-serif;margin:0}
iframe{border:0;width:100%;height:300px}.btn{display:inline-block;border:1px solid #9aa5b1;border-radius:3px;padding:2px 8px;margin-right:6px;font-size:12px}
.off{color:#9aa5b1;border-color:#d5dbe3;text-decoration:line-through}.kind{float:right;font-size:11px;background:#e1e9f2;padding:1px 6px;border-radius:3px}"""


def _page(bar: str, head: list[tuple[str, str]], subject: str, body_html: str, text: str, extra: str = "") -> str:
    rows = "".join(f'<div><span class="k">{html.escape(k)}</span>{html.escape(v)}</div>' for k, v in head if v)
    if body_html.strip():
        content = f'<iframe sandbox="" srcdoc="{html.escape(body_html, quote=True)}"></iframe>'
    else:
        content = f"<pre>{html.escape(text)}</pre>"
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><style>{_STYLE}</style></head><body>'
        f'<div class="bar">{html.escape(bar)}</div><div class="head"><div class="subject">{html.escape(subject)}</div>'
        f'{rows}{extra}</div><div class="body">{content}</div></body></html>'
    )


def _mail(raw: bytes, mask: Callable[[str], str]) -> str:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    text, markup = "", ""
    for part in message.walk():
        if part.is_multipart() or part.get_content_disposition() == "attachment":
            continue
        try:
            content = part.get_content() if part.get_content_maintype() == "text" else ""
        except (LookupError, ValueError, AssertionError):
            content = ""
        if part.get_content_type() == "text/html" and not markup:
            markup = str(content)
        elif part.get_content_type() == "text/plain" and not text:
            text = str(content)
    head = [(name, mask(str(message.get(name, "")))) for name in ("From", "To", "Cc", "Date")]
    return _page("Mail client — inbox", head, mask(str(message.get("Subject", ""))), mask(markup), mask(text))


def _mpp(item: dict[str, Any], mask: Callable[[str], str]) -> str:
    kind = str(item.get("kind") or "").replace("_", " ")
    extra = f'<span class="kind">{html.escape(kind)}</span>' if kind else ""
    head = [("From", mask(str(item.get("from") or ""))), ("Received", str(item.get("received_at") or ""))]
    return _page(
        "Mimecast Personal Portal — message list",
        head,
        mask(str(item.get("subject") or "")),
        mask(str(item.get("html") or "")),
        mask(str(item.get("text") or "")),
        extra,
    )


def _portal(answer: dict[str, Any], mask: Callable[[str], str]) -> str:
    permissions = answer.get("permissions")
    allowed: dict[str, Any] = permissions if isinstance(permissions, dict) else {}
    buttons = "".join(
        f'<span class="btn{"" if allowed.get(key) else " off"}">{label}</span>'
        for key, label in (("print", "Print"), ("reply", "Reply"), ("reply_all", "Reply all"))
    )
    head = [
        ("From", mask(str(answer.get("from") or answer.get("sender") or ""))),
        ("To", mask(str(answer.get("recipient") or ""))),
        ("Expires", str(answer.get("expires_at") or "never")),
    ]
    return _page(
        "Secure Messaging Portal",
        head,
        mask(str(answer.get("subject") or "")),
        mask(str(answer.get("html") or "")),
        mask(str(answer.get("text") or "")),
        f"<div>{buttons}</div>",
    )


def view_page(column: str, raw: bytes, mask: Callable[[str], str]) -> str:
    """The page a recipient sees for ``column``'s observed item ``raw`` (see the module's docstring)."""
    if column == "Mail Box":
        return _mail(raw, mask)
    if column == "SM Portal page":  # the portal's own page, as its HTML came: in a sandboxed frame
        page = html.escape(mask(raw.decode("utf-8", "replace")), quote=True)
        return (
            f'<!DOCTYPE html><html><head><meta charset="utf-8"><style>{_STYLE}</style></head><body>'
            '<div class="bar">Secure Messaging Portal — the page</div>'
            f'<iframe sandbox="" style="height:{HEIGHT - 28}px" srcdoc="{page}"></iframe></body></html>'
        )
    data = json.loads(raw.decode("utf-8"))
    data = data if isinstance(data, dict) else {}
    return _mpp(data, mask) if column == "MPP" else _portal(data, mask)


def _yield_to_the_suite() -> None:
    """This thread, and the driver and Chromium it starts (they inherit it), at a lower CPU priority than the
    suite: on Linux a thread's nice value is its own. The pictures take what the suite leaves."""
    try:
        thread = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, thread, min(19, os.getpriority(os.PRIO_PROCESS, thread) + 10))
    except (AttributeError, OSError):  # not Linux, or not allowed: same priority
        pass


class Painter:
    """One thread with one Chromium: ``submit`` items while the run goes on, ``finish`` for the pictures."""

    def __init__(self, out_dir: Path, mask: Callable[[str], str], executable: str = CHROMIUM):
        self.out_dir, self.mask, self.executable = out_dir, mask, executable
        self.pictures: dict[str, Path] = {}
        self.problem = ""
        self.skipped = 0
        self._queue: queue.PriorityQueue[tuple[int, int, str, str, bytes]] = queue.PriorityQueue()
        self._count = 0
        # started by the first item, not before: the suite's start-up (on the run's critical path) goes first
        self._thread = threading.Thread(target=self._work, name="smlite-pictures", daemon=True)

    def submit(self, key: str, column: str, raw: bytes, *, urgent: bool = False) -> None:
        if self._count >= MAX_PICTURES * 3:  # enough queued: the bound decides which are kept
            self.skipped += 1
            return
        self._count += 1
        self._queue.put((0 if urgent else 1, self._count, key, column, raw))
        if not self._thread.is_alive() and self._count == 1:
            self._thread.start()

    def finish(self, timeout_s: float = 120.0) -> dict[str, Path]:
        if self._count == 0:
            return {}
        self._queue.put((9, 1 << 30, "", "", b""))  # after everything queued
        self._thread.join(timeout_s)
        return dict(self.pictures)

    def _work(self) -> None:
        _yield_to_the_suite()
        if not Path(self.executable).exists():
            self.problem = f"no Chromium at {self.executable}"
            return self._drain()
        self.out_dir.mkdir(parents=True, exist_ok=True)
        try:
            page = ChromiumPage(self.executable, WIDTH, HEIGHT, self.out_dir)
        except ChromiumError as exc:
            self.problem = str(exc)
            return self._drain()
        try:
            while True:
                _, number, key, column, raw = self._queue.get()
                if not key:
                    break
                if len(self.pictures) >= MAX_PICTURES:
                    self.skipped += 1
                    continue
                try:
                    shown = view_page(column, raw, self.mask)
                    shot = page.shoot(shown, 60)
                    if len(shot) > MAX_PICTURE_BYTES:
                        shot = page.shoot(shown, 35)
                except (ChromiumError, ValueError, LookupError) as exc:  # this item costs its picture only
                    self.skipped += 1
                    if isinstance(exc, ChromiumError) and page.process.poll() is not None:
                        self.problem = f"Chromium ended: {exc}"
                        return self._drain()
                    continue
                path = self.out_dir / f"p{number:04d}.jpg"
                path.write_bytes(shot)
                self.pictures[key] = path
        finally:
            page.close()
        return None

    def _drain(self) -> None:
        while self._queue.get()[2]:
            self.skipped += 1
