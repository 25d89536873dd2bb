"""One reader of Mailpit's event stream for every wait of a client: waits wake only for their recipient.

Owns ``EventHub``: a daemon thread reads ``/api/events`` and counts, per address, the new messages that
name it (From, To, Cc, Bcc — Mailpit adds envelope recipients that are in no header to Bcc, so every
delivery to an address is counted under it). A wait takes a ``mark`` of its address, looks, and then
sleeps until the count moves past the mark, or its tick passes. So a hundred scenarios waiting at
once cost one websocket and one search per delivery that concerns them — not a search per event per
wait. When the stream cannot be opened or breaks, ``usable`` turns false and waits poll, as before.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from harness.mailbox.mailpit_events import EventStream


class EventHub:
    def __init__(self, api_url: str) -> None:
        self.api_url = api_url
        self._changed = threading.Condition()
        self._counts: Counter[str] = Counter()
        self._stream: EventStream | None = None
        self._thread: threading.Thread | None = None
        self._stopped = False
        self.usable = False

    def start(self) -> bool:
        """Open the stream and start reading (once); whether it is usable."""
        with self._changed:
            if self._thread is not None or self._stopped:
                return self.usable
            self._stream = EventStream.open(self.api_url)
            self.usable = self._stream is not None
            if self.usable:
                self._thread = threading.Thread(target=self._read, name="mailpit-events", daemon=True)
                self._thread.start()
            return self.usable

    def mark(self, address: str) -> int:
        """How many new messages named ``address`` so far (take it before looking, so nothing is missed)."""
        with self._changed:
            return self._counts[address.lower()]

    def wait(self, address: str, mark: int, timeout_s: float) -> bool:
        """Until a new message names ``address`` after ``mark``, the stream breaks, or ``timeout_s``;
        whether something may have changed (a new message, or a broken stream: look again)."""
        key = address.lower()
        with self._changed:
            return self._changed.wait_for(
                lambda: self._counts[key] != mark or not self.usable or self._stopped, max(0.0, timeout_s)
            )

    def close(self) -> None:
        with self._changed:
            self._stopped = True
            self._changed.notify_all()
        if self._stream is not None:
            self._stream.close()

    def _read(self) -> None:
        stream = self._stream
        assert stream is not None
        while not self._stopped:
            event = stream.next(0.5)
            if stream.broken:
                with self._changed:
                    self.usable = False
                    self._changed.notify_all()
                return
            if not event or event.get("Type") != "new":
                continue
            named = _addresses(event.get("Data") or {})
            with self._changed:
                for address in named:
                    self._counts[address] += 1
                self._changed.notify_all()


def _addresses(summary: dict[str, Any]) -> set[str]:
    found = set()
    for field in ("From", "To", "Cc", "Bcc", "ReplyTo"):
        value = summary.get(field)
        for item in value if isinstance(value, list) else [value] if isinstance(value, dict) else []:
            address = (item or {}).get("Address") if isinstance(item, dict) else None
            if address:
                found.add(str(address).lower())
    return found
