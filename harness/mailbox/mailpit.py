"""What landed in Mailpit: a thin client for Mailpit v1.33.1's HTTP API.

Owns reading recipients' Mail Boxes (Mailpit) for the harness:
``MailpitClient.messages_to`` / ``message`` / ``count`` / ``delete_all`` /
``wait_for_messages`` / ``watch`` / ``set_chaos``; the values they return
(``MessageSummary``, ``Message``, ``Attachment``, ``Address`` - a str); and
``WaitTimeout``, whose ``.wait`` (a ``MailboxWait``) says what was expected
and what was there. Connection failures are ``HarnessError("Mailpit
unreachable at URL")``.

Hand-written on requests rather than using PyPI's ``mailpit-api-client``
(1.0.0, July 2023, the only release): tried against a real v1.33.1, its
``get_message`` raises ``KeyError: 'read'`` and ``get_message_headers``
``KeyError: 'date'`` (it models an older API); it has no search, raw source,
chaos or event-stream call; and it pulls ruff, invoke and logging518 in as
run-time dependencies.

Mailpit facts this module relies on (checked against v1.33.1's source):

* Search terms are substring (SQL LIKE, case-insensitive) matches; ``"``
  only groups words and is stripped, so an address containing ``"`` or
  spaces cannot be searched for as such. Search here only narrows the
  candidates (``addressed:`` term, or the domain for odd addresses); the
  exact, case-insensitive recipient match is done here.
* Envelope recipients that are in no To/Cc header are added to Bcc.
* Mailpit's own ``Received:`` header names ``for <first envelope recipient>``
  and no other. So ``by="envelope"`` (the default: "what this recipient's
  Mail Box got") is exact when the sender opens one SMTP transaction per
  recipient, as a gateway with per-recipient deliveries does; a message sent
  in one transaction to several recipients counts only for the first of
  them. ``by="headers"`` counts every message naming the address in
  To/Cc/Bcc.
* ``/api/events`` is a websocket announcing each new message; waits use it
  to wake up at once, and fall back to polling if it cannot be opened.
"""

from __future__ import annotations

import dataclasses
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import requests

from harness.errors import HarnessError
from harness.mailbox.mailpit_events import EventStream
from harness.mailbox.mailpit_hub import EventHub
from harness.mailbox.mailpit_json import received_at, searchable, summary
from harness.mailbox.parsing import parse_message, raw_headers
from harness.mailbox.types import (
    MailboxWait,
    MatchBy,
    Message,
    MessageSummary,
    WaitTimeout,
    describe_predicate,
    mailbox_key,
)

_MAILPIT_RECEIVED_FOR = re.compile(r"\(Mailpit\) with \S+\s+for <(.*?)>;", re.S)
_PAGE = 500
RAW_CACHE = 256  # raw messages kept (each is read once for its headers and once more when observed)
LOOK_AGAIN_S = 1.0  # a wait looks again at least this often, in case an event was missed


class MailpitClient:
    """Read and wait on a running Mailpit at `api_url` (e.g. http://127.0.0.1:8025)."""

    def __init__(self, api_url: str, *, timeout_s: float = 5.0):
        self.api_url = api_url.rstrip("/")
        self.timeout_s = timeout_s
        # one HTTP session per thread (scenarios wait at once; requests does not promise a shared Session
        # is thread-safe), all closed with the client
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.RLock()  # the caches below, shared by every thread
        self._messages: dict[str, Message] = {}  # Mailpit messages never change
        self._envelope: dict[str, str | None] = {}
        self._headers: dict[str, dict[str, list[str]]] = {}
        self._raws: OrderedDict[str, bytes] = OrderedDict()  # the latest RAW_CACHE raw messages
        self._hub: EventHub | None = None

    # -- reading -----------------------------------------------------------
    def close(self) -> None:
        """Release the HTTP connections and the event stream."""
        with self._lock:
            sessions, self._sessions = self._sessions, []
            hub, self._hub = self._hub, None
        for session in sessions:
            session.close()
        if hub is not None:
            hub.close()

    @property
    def _http(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            with self._lock:
                self._sessions.append(session)
        return session

    def _events(self) -> EventHub:
        with self._lock:
            if self._hub is None:
                self._hub = EventHub(self.api_url)
            hub = self._hub
        hub.start()
        return hub

    def messages_to(self, address: str, *, by: MatchBy = "envelope") -> list[MessageSummary]:
        """Messages delivered to `address`, oldest first (see module docstring for `by`)."""
        if by not in ("envelope", "headers"):
            raise ValueError(f"by must be 'envelope' or 'headers', not {by!r}")
        wanted = mailbox_key(address)
        term = wanted if searchable(wanted) else wanted.rpartition("@")[2]
        candidates = self._search(f'addressed:"{term}"' if searchable(term) else None)
        found = [s for s in candidates if wanted in {mailbox_key(r) for r in s.recipients}]
        if by == "envelope":
            found = [s for s in found if mailbox_key(self._envelope_recipient(s.id) or "") == wanted]
        return found

    def message(self, message_id: str) -> Message:
        """The full message with Mailpit database id `message_id`, parsed from its raw bytes (one request,
        shared with envelope matching; harness/mailbox/parsing.py gives the fields Mailpit's JSON would)."""
        with self._lock:
            known = self._messages.get(message_id)
        if known is not None:
            return known
        message = parse_message(message_id, self._raw(message_id), self._envelope_recipient(message_id) or "")
        if message.date is None:  # as Mailpit's own JSON: the time it received a message without a Date
            message = dataclasses.replace(message, date=received_at(message.headers))
        with self._lock:
            return self._messages.setdefault(message_id, message)

    def count(self) -> int:
        return int(self._get("/api/v1/messages", params={"limit": 1}).json()["total"])

    def delete_all(self) -> None:
        self._request("DELETE", "/api/v1/messages")
        with self._lock:
            self._messages.clear()
            self._envelope.clear()
            self._headers.clear()
            self._raws.clear()

    def set_chaos(
        self,
        *,
        sender: tuple[int, int] = (451, 0),
        recipient: tuple[int, int] = (451, 0),
        authentication: tuple[int, int] = (535, 0),
    ) -> dict[str, Any]:
        """Set Mailpit's SMTP chaos triggers as (error code, probability %).

        Needs Mailpit started with chaos enabled (MailpitProcess(chaos=True)).
        """
        body = {
            name: {"ErrorCode": code, "Probability": chance}
            for name, (code, chance) in (
                ("Sender", sender),
                ("Recipient", recipient),
                ("Authentication", authentication),
            )
        }
        return self._request("PUT", "/api/v1/chaos", json=body).json()

    # -- waiting -----------------------------------------------------------
    def wait_for_messages(
        self,
        address: str,
        count: int = 1,
        deadline_s: float = 10,
        predicate: Callable[[Message], bool] | None = None,
        *,
        by: MatchBy = "envelope",
    ) -> list[Message]:
        """Wait until at least `count` messages to `address` (satisfying `predicate`, if given) are in
        Mailpit; return all such, oldest first. Raises WaitTimeout after `deadline_s`."""
        last: dict[str, Any] = {"seen": [], "matched": []}

        def enough(seen: list[MessageSummary]) -> list[Message] | None:
            matched = [m for m in (self.message(s.id) for s in seen) if predicate is None or predicate(m)]
            last.update(seen=seen, matched=matched)
            return matched if len(matched) >= count else None

        found = self.watch(address, enough, deadline_s, by=by, tick_s=0.25)
        if found is not None:
            return list(found)
        seen = last["seen"]
        raise WaitTimeout(
            MailboxWait(
                address=address,
                expected=count,
                deadline_s=deadline_s,
                by=by,
                seen=tuple(seen),
                matching=None if predicate is None else len(last["matched"]),
                predicate=None if predicate is None else describe_predicate(predicate),
                delivered_elsewhere=self._delivered_elsewhere(address, seen, by),
            )
        )

    def watch(
        self,
        address: str,
        step: Callable[[list[MessageSummary]], Any],
        deadline_s: float,
        *,
        by: MatchBy = "envelope",
        tick_s: float = 0.25,
    ) -> Any:
        """Call ``step(messages to address, oldest first)`` at least every `tick_s` and at once when a new
        message names the address (harness/mailbox/mailpit_hub.py), until it returns something other than
        None; return that, or None once `deadline_s` has passed.

        The list is looked up again only when a new message named the address, and at least every
        ``LOOK_AGAIN_S`` in case an event was missed (every tick when there is no event stream): between
        two looks ``step`` sees the same list and may act on the time passed (send a barrier, decide that
        nothing came). Unlike ``wait_for_messages`` this wait ends when the *answer* is known.
        """
        give_up_at = time.monotonic() + deadline_s
        hub = self._events()
        mark = hub.mark(address)  # before the first look: no missed event
        summaries = self.messages_to(address, by=by)
        looked_at = time.monotonic()
        while True:
            found = step(summaries)
            if found is not None:
                return found
            remaining = give_up_at - time.monotonic()
            if remaining <= 0:
                return None
            pause = min(remaining, tick_s)
            if hub.usable:
                changed = hub.wait(address, mark, pause)
            else:
                time.sleep(pause)  # polling to the deadline (no event stream)
                changed = True
            if changed or time.monotonic() - looked_at >= LOOK_AGAIN_S:
                mark = hub.mark(address)
                summaries = self.messages_to(address, by=by)
                looked_at = time.monotonic()

    # -- plumbing ----------------------------------------------------------
    def _delivered_elsewhere(
        self, address: str, seen: Sequence[MessageSummary], by: MatchBy
    ) -> tuple[MessageSummary, ...]:
        if by != "envelope":
            return ()
        seen_ids = {s.id for s in seen}
        return tuple(s for s in self.messages_to(address, by="headers") if s.id not in seen_ids)

    def search(self, query: str) -> list[MessageSummary]:
        """Every message matching Mailpit's search ``query``, oldest first."""
        return self._search(query)

    def search_count(self, query: str) -> int:
        """How many messages match ``query`` (one request, whatever the count)."""
        answer = self._get("/api/v1/search", params={"query": query, "limit": 1}).json()
        try:
            return int(answer["messages_count"])
        except (KeyError, TypeError, ValueError):
            raise HarnessError(
                "Mailpit answered a search without a count",
                "messages_count in /api/v1/search",
                observed=str(answer)[:300],
            ) from None

    def events(self) -> EventStream | None:
        """Mailpit's event stream (new messages as they arrive), or None when it cannot be opened."""
        return EventStream.open(self.api_url)

    def _search(self, query: str | None) -> list[MessageSummary]:
        """Every message matching `query` (None: every message), oldest first."""
        path, params = ("/api/v1/search", {"query": query}) if query else ("/api/v1/messages", {})
        by_id: dict[str, MessageSummary] = {}
        start = 0
        while True:
            page = self._get(path, params={**params, "limit": _PAGE, "start": start})
            batch = page.json().get("messages") or []
            for item in batch:
                by_id.setdefault(item["ID"], summary(item))
            start += len(batch)
            if len(batch) < _PAGE:
                return list(by_id.values())[::-1]  # Mailpit answers newest first

    def _envelope_recipient(self, message_id: str) -> str | None:
        with self._lock:
            if message_id in self._envelope:
                return self._envelope[message_id]
        match = next(
            (
                m
                for value in self._headers_of(message_id).get("Received", [])
                if (m := _MAILPIT_RECEIVED_FOR.search(value))
            ),
            None,
        )
        recipient = match.group(1).lower() if match else None
        with self._lock:
            self._envelope[message_id] = recipient
        return recipient

    def _headers_of(self, message_id: str) -> dict[str, list[str]]:
        """The message's header fields, from its raw bytes (fetched once, shared with ``message``)."""
        with self._lock:
            known = self._headers.get(message_id)
        if known is None:
            known = raw_headers(self._raw(message_id))
            with self._lock:
                self._headers[message_id] = known
        return known

    def _raw(self, message_id: str) -> bytes:
        with self._lock:
            if message_id in self._raws:
                self._raws.move_to_end(message_id)
                return self._raws[message_id]
        raw = self._get(f"/api/v1/message/{message_id}/raw").content
        with self._lock:
            self._raws[message_id] = raw
            while len(self._raws) > RAW_CACHE:
                self._raws.popitem(last=False)
        return raw

    def _get(self, path: str, **kwargs: Any) -> requests.Response:
        return self._request("GET", path, **kwargs)

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        url = self.api_url + path
        try:
            response = self._http.request(method, url, timeout=self.timeout_s, **kwargs)
        except requests.RequestException as exc:
            raise HarnessError(
                f"Mailpit unreachable at {self.api_url}",
                f"{method} {path} got no answer",
                observed=f"{type(exc).__name__}: {exc}",
            ) from exc
        if response.status_code >= 400:
            raise HarnessError(
                f"Mailpit refused {method} {path}",
                f"expected a 2xx answer from {self.api_url}",
                observed=f"{response.status_code} {response.text[:300]}",
            )
        return response
