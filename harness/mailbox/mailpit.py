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
import email.utils
import json
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import requests
import websocket

from harness.errors import HarnessError, SmliteError

MatchBy = Literal["envelope", "headers"]
_MAILPIT_RECEIVED_FOR = re.compile(r"\(Mailpit\) with \S+\s+for <(.*?)>;", re.S)
_PAGE = 500
RAW_CACHE = 256  # raw messages kept (each is read once for its headers and once more when observed)


class Address(str):
    """An email address: the string is the bare address; ``.name`` the display name.

    A str so that ``"bob@x.example" in message.to`` and ``", ".join(message.to)``
    work as expected.
    """

    name: str

    def __new__(cls, address: str, name: str = "") -> "Address":
        obj = super().__new__(cls, address)
        obj.name = name
        return obj

    @property
    def address(self) -> str:
        return str.__str__(self)

    def formatted(self) -> str:
        return f"{self.name} <{self.address}>" if self.name else self.address

    def __repr__(self) -> str:
        return f"Address({self.address!r}, name={self.name!r})"


@dataclass(frozen=True)
class MessageSummary:
    id: str
    message_id: str
    from_: Address | None
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    bcc: tuple[Address, ...]
    subject: str
    created: datetime | None
    size: int
    attachment_count: int

    @property
    def sender(self) -> str:
        return self.from_ or ""

    @property
    def recipients(self) -> list[str]:
        """Every To/Cc/Bcc address, lowercased."""
        return [a.lower() for a in (*self.to, *self.cc, *self.bcc)]


@dataclass(frozen=True)
class Attachment:
    part_id: str
    filename: str
    content_type: str
    size: int
    content_id: str = ""


@dataclass(frozen=True)
class Message:
    id: str
    message_id: str
    from_: Address | None
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    bcc: tuple[Address, ...]
    reply_to: tuple[Address, ...]
    subject: str
    date: datetime | None
    text: str
    html: str
    headers: dict[str, list[str]]
    attachments: tuple[Attachment, ...]
    inline: tuple[Attachment, ...]
    size: int
    raw: bytes = field(repr=False)

    @property
    def sender(self) -> str:
        """The From address ("" if none); an Address, so ``.name`` is there too."""
        return self.from_ or ""

    def header(self, name: str) -> list[str]:
        """All values of header `name` (case-insensitive), [] if absent."""
        wanted = name.lower()
        return [v for key, values in self.headers.items() if key.lower() == wanted for v in values]


@dataclass(frozen=True)
class MailboxWait:
    """What a timed-out ``wait_for_messages`` expected and saw."""

    address: str
    expected: int
    deadline_s: float
    by: str
    seen: tuple[MessageSummary, ...]
    matching: int | None = None  # how many of `seen` satisfied the predicate, if any
    predicate: str | None = None
    # by="envelope" only: messages naming the address in To/Cc/Bcc that Mailpit
    # received for another envelope recipient
    delivered_elsewhere: tuple[MessageSummary, ...] = ()


class WaitTimeout(SmliteError, AssertionError):
    """The expected mail did not reach Mailpit in time; ``.wait`` has the details.

    Neither a harness error nor a verdict: the caller decides (a step turns it
    into a ConformanceFailure). An AssertionError so pytest shows it as one.
    """

    def __init__(self, wait: MailboxWait):
        self.wait = wait
        matching = "" if wait.predicate is None else f" matching {wait.predicate}"
        saw = f"saw {len(wait.seen)}"
        if wait.predicate is not None:
            saw += f" ({wait.matching} matching)"
        note = ""
        if wait.delivered_elsewhere:
            note = (f"{len(wait.delivered_elsewhere)} more name {wait.address} in To/Cc/Bcc but "
                    f"were received for another envelope recipient: "
                    f"{_listing(wait.delivered_elsewhere)}")
        super().__init__(
            f"expected {wait.expected} message(s) to {wait.address}{matching} "
            f"within {wait.deadline_s:g}s, {saw}",
            _listing(wait.seen),
            observed=note,
        )


def _listing(summaries: Sequence[MessageSummary]) -> str:
    return "; ".join(f"{m.id} {m.subject!r}" for m in summaries) or "(none)"


class MailpitClient:
    """Read and wait on a running Mailpit at `api_url` (e.g. http://127.0.0.1:8025)."""

    def __init__(self, api_url: str, *, timeout_s: float = 5.0):
        self.api_url = api_url.rstrip("/")
        self.timeout_s = timeout_s
        self._http = requests.Session()
        self._messages: dict[str, Message] = {}  # Mailpit messages never change
        self._envelope: dict[str, str | None] = {}
        self._headers: dict[str, dict[str, list[str]]] = {}
        self._raws: OrderedDict[str, bytes] = OrderedDict()  # the latest RAW_CACHE raw messages

    # -- reading -----------------------------------------------------------
    def messages_to(self, address: str, *, by: MatchBy = "envelope") -> list[MessageSummary]:
        """Messages delivered to `address`, oldest first (see module docstring for `by`)."""
        if by not in ("envelope", "headers"):
            raise ValueError(f"by must be 'envelope' or 'headers', not {by!r}")
        wanted = address.strip().lower()
        term = wanted if _searchable(wanted) else wanted.rpartition("@")[2]
        candidates = self._search(f'addressed:"{term}"' if _searchable(term) else None)
        found = [s for s in candidates if wanted in s.recipients]
        if by == "envelope":
            found = [s for s in found if self._envelope_recipient(s.id) == wanted]
        return found

    def message(self, message_id: str) -> Message:
        """The full message with Mailpit database id `message_id`, parsed from its raw bytes (one request,
        shared with envelope matching; harness/mailbox/parsing.py gives the fields Mailpit's JSON would)."""
        if message_id not in self._messages:
            from harness.mailbox.parsing import parse_message  # it imports this module's dataclasses

            message = parse_message(message_id, self._raw(message_id), self._envelope_recipient(message_id) or "")
            if message.date is None:  # as Mailpit's own JSON: the time it received a message without a Date
                message = dataclasses.replace(message, date=_received_at(message.headers))
            self._messages[message_id] = message
        return self._messages[message_id]

    def count(self) -> int:
        return int(self._get("/api/v1/messages", params={"limit": 1}).json()["total"])

    def delete_all(self) -> None:
        self._request("DELETE", "/api/v1/messages")
        self._messages.clear()
        self._envelope.clear()
        self._headers.clear()
        self._raws.clear()

    def set_chaos(self, *, sender: tuple[int, int] = (451, 0), recipient: tuple[int, int] = (451, 0),
                  authentication: tuple[int, int] = (535, 0)) -> dict[str, Any]:
        """Set Mailpit's SMTP chaos triggers as (error code, probability %).

        Needs Mailpit started with chaos enabled (MailpitProcess(chaos=True)).
        """
        body = {name: {"ErrorCode": code, "Probability": chance} for name, (code, chance) in
                (("Sender", sender), ("Recipient", recipient), ("Authentication", authentication))}
        return self._request("PUT", "/api/v1/chaos", json=body).json()

    # -- waiting -----------------------------------------------------------
    def wait_for_messages(self, address: str, count: int = 1, deadline_s: float = 10,
                          predicate: Callable[[Message], bool] | None = None, *,
                          by: MatchBy = "envelope") -> list[Message]:
        """Wait until at least `count` messages to `address` (satisfying
        `predicate`, if given) are in Mailpit; return all such, oldest first.

        Raises WaitTimeout after `deadline_s`.
        """
        give_up_at = time.monotonic() + deadline_s
        events = EventStream.open(self.api_url)  # before the first look: no missed event
        poll_interval = 0.01
        try:
            while True:
                seen = self.messages_to(address, by=by)
                full = [self.message(s.id) for s in seen]
                matched = [m for m in full if predicate is None or predicate(m)]
                if len(matched) >= count:
                    return matched
                remaining = give_up_at - time.monotonic()
                if remaining <= 0:
                    raise WaitTimeout(MailboxWait(
                        address=address, expected=count, deadline_s=deadline_s, by=by,
                        seen=tuple(seen),
                        matching=None if predicate is None else len(matched),
                        predicate=None if predicate is None else _describe(predicate),
                        delivered_elsewhere=self._delivered_elsewhere(address, seen, by)))
                if events is not None and events.wait(min(remaining, 0.5)):
                    continue
                events = None if events is not None and events.broken else events
                if events is None:
                    time.sleep(min(poll_interval, remaining))
                    poll_interval = min(poll_interval * 1.6, 0.25)
        finally:
            if events is not None:
                events.close()

    def watch(self, address: str, step: Callable[[list[MessageSummary]], Any], deadline_s: float, *,
              by: MatchBy = "envelope", tick_s: float = 0.25) -> Any:
        """Call ``step(messages to address, oldest first)`` whenever Mailpit announces a message
        (event stream) and at least every `tick_s`, until it returns something other than None;
        return that, or None once `deadline_s` has passed.

        The caller's ``step`` decides what it is waiting for (any new message, a barrier, …) and
        may act on the time passed (send a barrier, print progress): unlike ``wait_for_messages``
        this wait ends when the *answer* is known, not when an expected count is reached.
        """
        give_up_at = time.monotonic() + deadline_s
        events = EventStream.open(self.api_url)  # before the first look: no missed event
        try:
            while True:
                found = step(self.messages_to(address, by=by))
                if found is not None:
                    return found
                remaining = give_up_at - time.monotonic()
                if remaining <= 0:
                    return None
                pause = min(remaining, tick_s)
                if events is not None:
                    events.wait(pause)
                    events = None if events.broken else events
                else:
                    time.sleep(pause)  # polling to the deadline (no event stream)
        finally:
            if events is not None:
                events.close()

    # -- plumbing ----------------------------------------------------------
    def _delivered_elsewhere(self, address: str, seen: Sequence[MessageSummary],
                             by: MatchBy) -> tuple[MessageSummary, ...]:
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
            raise HarnessError("Mailpit answered a search without a count", "messages_count in /api/v1/search",
                               observed=str(answer)[:300]) from None

    def events(self) -> "EventStream | None":
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
                by_id.setdefault(item["ID"], _summary(item))
            start += len(batch)
            if len(batch) < _PAGE:
                return list(by_id.values())[::-1]  # Mailpit answers newest first

    def _envelope_recipient(self, message_id: str) -> str | None:
        if message_id not in self._envelope:
            match = next((m for value in self._headers_of(message_id).get("Received", [])
                          if (m := _MAILPIT_RECEIVED_FOR.search(value))), None)
            self._envelope[message_id] = match.group(1).lower() if match else None
        return self._envelope[message_id]

    def _headers_of(self, message_id: str) -> dict[str, list[str]]:
        """The message's header fields, from its raw bytes (fetched once, shared with ``message``)."""
        if message_id not in self._headers:
            from harness.mailbox.parsing import raw_headers  # it imports this module's dataclasses

            self._headers[message_id] = raw_headers(self._raw(message_id))
        return self._headers[message_id]

    def _raw(self, message_id: str) -> bytes:
        if message_id in self._raws:
            self._raws.move_to_end(message_id)
            return self._raws[message_id]
        raw = self._raws[message_id] = self._get(f"/api/v1/message/{message_id}/raw").content
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
            raise HarnessError(f"Mailpit unreachable at {self.api_url}",
                               f"{method} {path} got no answer",
                               observed=f"{type(exc).__name__}: {exc}") from exc
        if response.status_code >= 400:
            raise HarnessError(f"Mailpit refused {method} {path}",
                               f"expected a 2xx answer from {self.api_url}",
                               observed=f"{response.status_code} {response.text[:300]}")
        return response


class EventStream:
    """Mailpit's /api/events websocket: a wake-up signal for waits, and ``next()`` for who reads events."""

    def __init__(self, ws: websocket.WebSocket):
        self._ws = ws
        self.broken = False

    @classmethod
    def open(cls, api_url: str) -> "EventStream | None":
        try:
            return cls(websocket.create_connection(
                "ws" + api_url.removeprefix("http") + "/api/events", timeout=2))
        except (OSError, websocket.WebSocketException):
            return None

    def next(self, timeout_s: float) -> dict[str, Any] | None:
        """The next event (``{"Type": ..., "Data": ...}``) within `timeout_s`, or None; see ``broken``."""
        try:
            self._ws.settimeout(max(timeout_s, 0.001))
            return json.loads(self._ws.recv())
        except websocket.WebSocketTimeoutException:
            return None
        except (OSError, websocket.WebSocketException, ValueError):
            self.broken = True
            self.close()
            return None

    def wait(self, timeout_s: float) -> bool:
        """True if an event arrived within `timeout_s`."""
        try:
            self._ws.settimeout(max(timeout_s, 0.001))
            self._ws.recv()
            return True
        except websocket.WebSocketTimeoutException:
            return False
        except (OSError, websocket.WebSocketException):
            self.broken = True
            self.close()
            return False

    def close(self) -> None:
        try:
            self._ws.close()
        except (OSError, websocket.WebSocketException):
            pass


def _searchable(term: str) -> bool:
    """Whether Mailpit's search can hold `term` as one word ('"' is stripped, spaces split)."""
    return bool(term) and not re.search(r'["\\\s]', term)


def _describe(predicate: Callable[..., Any]) -> str:
    doc = (getattr(predicate, "__doc__", None) or "").strip()
    return doc.splitlines()[0] if doc else getattr(predicate, "__name__", repr(predicate))


def _address(item: dict[str, Any] | None) -> Address | None:
    return Address(item.get("Address") or "", item.get("Name") or "") if item else None


def _addresses(items: Sequence[dict[str, Any]] | None) -> tuple[Address, ...]:
    return tuple(Address(i.get("Address") or "", i.get("Name") or "") for i in items or ())


def _received_at(headers: dict[str, list[str]]) -> datetime | None:
    """When Mailpit received the message: the date of its own (first) Received field."""
    for value in headers.get("Received", [])[:1]:
        try:
            return email.utils.parsedate_to_datetime(value.rpartition(";")[2].strip())
        except (TypeError, ValueError, IndexError):
            return None
    return None


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _summary(item: dict[str, Any]) -> MessageSummary:
    return MessageSummary(
        id=item["ID"], message_id=item.get("MessageID") or "", from_=_address(item.get("From")),
        to=_addresses(item.get("To")), cc=_addresses(item.get("Cc")),
        bcc=_addresses(item.get("Bcc")), subject=item.get("Subject") or "",
        created=_when(item.get("Created")), size=int(item.get("Size") or 0),
        attachment_count=int(item.get("Attachments") or 0))
