"""Feeding the pictures while the suite runs: the hand-over file read as it grows, each deciding item sent to
the painter (harness/report/pictures.py), and the pictures named in the results afterwards.

Owns ``Feed`` (a thread that reads the hand-over file's new lines as the suite's process writes them, and for
each scenario submits the observed items — delivered message, MPP item, SM Portal answer — of the columns
that decide a cell: stated or derived, not the ones the source leaves blank. A failed scenario's items go
first, up to the painter's bound; of the others, one per column and value seen — a Mail Box's Notification,
its Email with banner, the MPP's, the SM Portal's message: each look once, which keeps a passing run's
pictures few and their cost within the bench's bound; and the SM Portal's own HTML page where a step opened
it) and ``name_pictures`` (each picture as
``evidence.data["picture"]``, a path relative to the run's folder, on the evidence its cell cites).
"""

from __future__ import annotations

import base64
import json
import threading
from pathlib import Path
from typing import Any

from harness import results as R
from harness.report.pictures import Painter

PORTAL_PAGE = "SM Portal page"  # the evidence title of the portal's own HTML page (steps/portal_steps.py)
POLL_S = 0.2  # how often the growing hand-over file is read again (it is written by another process)


def deciding_items(entry: dict[str, Any]) -> list[tuple[str, str, bytes, tuple]]:
    """(key, column, raw, variety) of every item that decides a cell in one hand-over line."""
    scenario = entry.get("scenario") or {}
    payload = entry.get("observations") or {}
    messages = payload.get("messages") or {}
    cells = scenario.get("cells") or []
    items = []
    for record in payload.get("records") or []:
        start, count = int(record.get("first_cell", 0)), int(record.get("cell_count", 0))
        for column, seen in (record.get("observed") or {}).items():
            expected = (record.get("cells") or {}).get(column) or {}
            if not seen or not seen.get("raw_sha256") or expected.get("standing") == "not-specified":
                continue
            cell = next(
                (c for c in cells[start : start + count] if c.get("column") == column and c.get("evidence")), None
            )
            encoded = messages.get(seen["raw_sha256"])
            if cell is None or encoded is None:
                continue
            variety = (column, seen.get("value"))
            items.append((f"{scenario.get('id')}#{cell['evidence'][0]}", column, base64.b64decode(encoded), variety))
    for evidence in scenario.get("evidence") or []:  # the SM Portal's own page, where a step opened it
        data = evidence.get("data") or {}
        if str(evidence.get("title", "")).startswith(PORTAL_PAGE) and data.get("status") == 200 and data.get("html"):
            key = f"{scenario.get('id')}#{evidence.get('id')}"
            items.append((key, PORTAL_PAGE, str(data["html"]).encode("utf-8"), (PORTAL_PAGE, None)))
    return items


class Feed(threading.Thread):
    def __init__(self, handover: Path, painter: Painter):
        super().__init__(name="smlite-pictures-feed", daemon=True)
        self.handover, self.painter = handover, painter
        self.done = threading.Event()
        self._seen: set[tuple] = set()

    def run(self) -> None:
        offset, rest = 0, b""
        while True:
            finished = self.done.is_set()  # read once more after the suite ended
            try:
                with self.handover.open("rb") as stream:
                    stream.seek(offset)
                    chunk = stream.read()
            except OSError:
                chunk = b""
            offset += len(chunk)
            lines = (rest + chunk).split(b"\n")
            rest = lines.pop()
            for line in lines:
                self._take(line)
            if finished:
                return
            self.done.wait(POLL_S)

    def _take(self, line: bytes) -> None:
        try:
            entry = json.loads(line)
        except ValueError:
            return
        if not isinstance(entry, dict) or "scenario" not in entry:
            return
        urgent = (entry["scenario"] or {}).get("status") in (R.FAILED, R.HARNESS_ERROR)
        for key, column, raw, variety in deciding_items(entry):
            if not urgent and variety in self._seen:
                continue
            self._seen.add(variety)
            self.painter.submit(key, column, raw, urgent=urgent)

    def finish(self) -> dict[str, Path]:
        self.done.set()
        self.join(60)
        return self.painter.finish()


def name_pictures(results: R.RunResults, pictures: dict[str, Path], run_dir: Path) -> int:
    """Name each picture on the evidence it shows (``data["picture"]``, relative to ``run_dir``); how many."""
    named = 0
    for scenario in results.scenarios:
        for evidence in scenario.evidence:
            path = pictures.get(f"{scenario.id}#{evidence.id}")
            if path is not None and path.is_file():
                evidence.data["picture"] = path.relative_to(run_dir).as_posix()
                named += 1
    return named


def start(handover: Path, run_dir: Path, profile: Any, reveal_secrets: bool) -> Feed:
    """A painter and its feed, started before the suite's process: pictures go to ``run_dir/pictures``."""
    from harness.results.masking import Masker

    mask = (lambda text: text) if reveal_secrets else Masker.from_profile(profile).text
    feed = Feed(handover, Painter(run_dir / "pictures", mask))
    feed.start()
    return feed
