"""A headless Chromium driven over its DevTools pipe: one page, HTML in, JPEG out.

Owns ``ChromiumPage`` (start Debian's Chromium with ``--remote-debugging-pipe``, one page of a fixed size
with scripts off and the network offline; ``shoot(html, quality)``; ``close``). Every answer is awaited with
a deadline; a Chromium that will not start, dies or stalls is a ``ChromiumError``, never a hang.

Hand-written rather than through Playwright: Playwright's driver is a Node process whose start costs about
1.5 s of a busy 2-core machine per run, more than the pictures' whole budget (≤ 20 % of a ~8 s run;
docs/bench.md); the pipe needs no port and no dependency, and three DevTools commands are all the
pictures use (``Page.setDocumentContent``, ``Page.captureScreenshot``, with the page set up once).
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-extensions",
    "--mute-audio",
    "--remote-debugging-pipe",
]
DEADLINE_S = 20.0


class ChromiumError(Exception):
    pass


class ChromiumPage:
    def __init__(self, executable: str, width: int, height: int, folder: Path | None = None):
        # its profile in ``folder`` (the run's own, private) when given: a killed run leaves it there, not in /tmp
        self.profile = tempfile.mkdtemp(prefix=".chromium-", dir=folder)
        ours_in, theirs_out = os.pipe()  # Chromium writes its answers on fd 4
        theirs_in, ours_out = os.pipe()  # and reads our commands on fd 3

        def fds() -> None:  # in the child: the pipe ends at 3 and 4, where Chromium looks for them
            high_in, high_out = fcntl.fcntl(theirs_in, fcntl.F_DUPFD, 100), fcntl.fcntl(theirs_out, fcntl.F_DUPFD, 100)
            os.dup2(high_in, 3)
            os.dup2(high_out, 4)

        try:
            self.process = subprocess.Popen(
                [executable, *ARGS, f"--user-data-dir={self.profile}", "about:blank"],
                pass_fds=(3, 4),  # kept open in the child once ``fds`` put the pipe there
                preexec_fn=fds,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # its own process group: ``_lower`` reaches every process of it
            )
        except OSError as exc:
            shutil.rmtree(self.profile, ignore_errors=True)
            raise ChromiumError(f"Chromium at {executable} would not start: {exc.strerror or exc}") from None
        finally:
            os.close(theirs_in)
            os.close(theirs_out)
        self._in, self._out, self._buffer, self._id = ours_in, ours_out, b"", 0
        self._lower()
        try:
            target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            self.send(
                "Emulation.setDeviceMetricsOverride",
                {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
                self.session,
            )
            self.send("Emulation.setScriptExecutionDisabled", {"value": True}, self.session)
            self.send("Network.enable", {}, self.session)
            offline = {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
            self.send("Network.emulateNetworkConditions", offline, self.session)
            self.frame = self.send("Page.getFrameTree", {}, self.session)["frameTree"]["frame"]["id"]
        except ChromiumError:
            self.close()
            raise

    def send(self, method: str, params: dict[str, Any], session: str | None = None) -> dict[str, Any]:
        self._id += 1
        message: dict[str, Any] = {"id": self._id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        try:
            os.write(self._out, json.dumps(message).encode("utf-8") + b"\0")
        except OSError as exc:
            raise ChromiumError(f"Chromium went away: {exc.strerror or exc}") from None
        deadline = time.monotonic() + DEADLINE_S
        while True:
            while b"\0" not in self._buffer:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([self._in], [], [], left)[0]:
                    raise ChromiumError(f"Chromium did not answer {method} within {DEADLINE_S:g}s")
                chunk = os.read(self._in, 1 << 16)
                if not chunk:
                    raise ChromiumError("Chromium closed its DevTools pipe")
                self._buffer += chunk
            line, _, self._buffer = self._buffer.partition(b"\0")
            answer = json.loads(line)
            if answer.get("id") == self._id:
                if "error" in answer:
                    raise ChromiumError(f"{method}: {answer['error'].get('message')}")
                return dict(answer.get("result") or {})

    def _lower(self) -> None:
        """Every process of this Chromium at the lowest CPU priority. Chromium raises its own browser and GPU
        processes (to nice -8 where it may, as root), above the suite it is meant to give way to; asked again
        before each picture, for the processes it started since."""
        try:
            os.setpriority(os.PRIO_PGRP, self.process.pid, 19)
        except OSError:
            pass

    def shoot(self, html: str, quality: int) -> bytes:
        """The page showing ``html``, as a JPEG."""
        self._lower()
        self.send("Page.setDocumentContent", {"frameId": self.frame, "html": html}, self.session)
        shot = self.send(
            "Page.captureScreenshot", {"format": "jpeg", "quality": quality, "optimizeForSpeed": True}, self.session
        )
        return base64.b64decode(shot["data"])

    def close(self) -> None:
        try:
            self.send("Browser.close", {})
        except (ChromiumError, ValueError):
            pass
        for descriptor in (self._in, self._out):
            try:
                os.close(descriptor)
            except OSError:
                pass
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        shutil.rmtree(self.profile, ignore_errors=True)
