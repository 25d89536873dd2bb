"""Reading recipients' Mail Boxes over IMAP, for targets that deliver to real test mailboxes.

Owns ``ImapMailbox``: the IMAP backend of the ``Mailbox`` interface
(harness/mailbox/backends.py), giving the observations the Mailpit client gives
(harness/mailbox/mailpit.py's ``MessageSummary`` / ``Message`` / ``Attachment`` /
``Address`` / ``WaitTimeout``): per recipient, the delivered messages with raw
headers, text and HTML parts, attachments and inline parts, oldest first.

IMAP is reached with ``imapclient`` (PyPI); the message is parsed with the
standard library's ``email`` package. How a recipient address becomes an IMAP
login is the profile's ``[mailbox]`` table (docs/vendors.md, "Observing
through IMAP"): ``user`` is a pattern (``{address}``, ``{local}``,
``{domain}``), the password is shared (``password`` or ``password_env``), or
``master_user`` logs in as a master user with the mailbox as the SASL PLAIN
authorization identity (Dovecot's master users, Cyrus and others' proxy
authorization).

Where IMAP differs from Mailpit's API, and what this module does about it:

* A mailbox holds what was delivered to its owner's envelope address: that is
  ``by="envelope"`` exactly, whatever the headers say. ``by="headers"`` keeps
  the messages of that mailbox naming the address in To/Cc/Bcc; messages in
  *other* mailboxes cannot be seen, so ``MailboxWait.delivered_elsewhere`` is
  always empty.
* Mailpit lists envelope-only recipients under Bcc; so does this module (the
  mailbox owner is added to ``bcc`` when no To/Cc/Bcc names it).
* Mailpit's text of a message without a text/plain part is its HTML turned
  to text; so is this module's (tags dropped, entities decoded).
* Ids are ``user/folder/UIDVALIDITY/UID``: unique across mailboxes, stable
  while the folder's UIDVALIDITY is.
* Waiting: IMAP IDLE where the server offers it (woken by ``EXISTS``),
  re-checking at least every second; polling NOOP with a growing interval up
  to the deadline otherwise. Never a fixed sleep.
* At most ``MAX_CONNECTIONS`` logins stay open (least recently used closed
  first): a run meets about a hundred mailboxes, and servers limit processes.
* Fetches use ``BODY.PEEK[]``: reading never sets ``\\Seen``. Nothing is
  deleted unless ``purge(address)`` is called: runs are kept apart by unique
  addresses (steps/world.py), not by emptying the server.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError, LoginError

from harness.errors import HarnessError
from harness.mailbox.imap_settings import ImapSettings
from harness.mailbox.parsing import html_to_text, parse_message  # noqa: F401  (html_to_text: public here too)
from harness.mailbox.types import MailboxWait, MatchBy, Message, MessageSummary, WaitTimeout, describe_predicate

_IDLE_SLICE_S = 1.0  # re-check the mailbox at least this often while IDLE (a missed EXISTS costs at most this)
MAX_CONNECTIONS = 24  # open logins kept (least recently used closed first): a run meets ~100 mailboxes
MAX_PARALLEL = 6  # scenarios observed at once through IMAP (each holds a few mailboxes open; servers limit them)


class ImapMailbox:
    """Read and wait on recipients' mailboxes over IMAP (one connection per mailbox, kept open)."""

    label = "IMAP"  # how Observer names the messages it read here
    max_parallel = MAX_PARALLEL  # the scenario engine runs at most this many scenarios at once

    def __init__(self, settings: ImapSettings):
        self.settings = settings
        self._clients: OrderedDict[str, IMAPClient] = OrderedDict()
        self._messages: dict[str, Message] = {}  # delivered messages never change
        self._uids: dict[str, dict[int, str]] = {}  # login -> uid -> id, in UID order
        # scenarios observe at once: the dicts above under one lock, each login's connection under its own
        # (an IMAPClient is one conversation at a time)
        self._lock = threading.RLock()
        self._logins: dict[str, threading.RLock] = {}

    def _login_lock(self, login: str) -> threading.RLock:
        with self._lock:
            return self._logins.setdefault(login, threading.RLock())

    # -- reading -----------------------------------------------------------
    def messages_to(self, address: str, *, by: MatchBy = "envelope") -> list[MessageSummary]:
        """Messages in `address`'s mailbox, oldest first (``by="headers"``: those naming it in To/Cc/Bcc)."""
        return [_summary(m) for m in self._messages_of(address, by)]

    def message(self, message_id: str) -> Message:
        if message_id not in self._messages:
            login, found, _ = message_id.rpartition(f"/{self.settings.folder}/")
            if not found or not login:
                raise HarnessError(
                    "Not an IMAP message id of this mailbox",
                    f"{message_id!r}: expected login/{self.settings.folder}/UIDVALIDITY/UID",
                )
            with self._login_lock(login):
                self._sync(login, _address_of(login))
        if message_id not in self._messages:
            raise HarnessError("IMAP message not found", f"{message_id} is not (or no longer) in its mailbox")
        return self._messages[message_id]

    def purge(self, address: str) -> int:
        """Delete every message in `address`'s mailbox folder; how many were there."""
        login = self.settings.login_for(address)
        self._call(login, lambda c: c.select_folder(self.settings.folder))
        uids = self._call(login, lambda c: c.search(["ALL"]))
        if uids:
            self._call(login, lambda c: c.delete_messages(uids))
            self._call(login, lambda c: c.expunge())
        for uid_id in self._uids.pop(login, {}).values():
            self._messages.pop(uid_id, None)
        return len(uids)

    def close(self) -> None:
        with self._lock:
            clients, self._clients = list(self._clients.values()), OrderedDict()
        for client in clients:
            try:
                client.logout()
            except (IMAPClientError, OSError):
                pass

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
        """Wait until `address`'s mailbox holds at least `count` messages (satisfying `predicate`);
        return all such, oldest first. Raises WaitTimeout after `deadline_s`."""
        last: dict[str, Any] = {"seen": [], "matched": []}

        def enough(seen: list[MessageSummary]) -> list[Message] | None:
            matched = [m for m in (self.message(s.id) for s in seen) if predicate is None or predicate(m)]
            last.update(seen=seen, matched=matched)
            return matched if len(matched) >= count else None

        found = self.watch(address, enough, deadline_s, by=by, tick_s=_IDLE_SLICE_S)
        if found is not None:
            return list(found)
        raise WaitTimeout(
            MailboxWait(
                address=address,
                expected=count,
                deadline_s=deadline_s,
                by=by,
                seen=tuple(last["seen"]),
                matching=None if predicate is None else len(last["matched"]),
                predicate=None if predicate is None else describe_predicate(predicate),
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
        """As ``MailpitClient.watch``: call ``step(summaries, oldest first)`` on every change (IMAP IDLE)
        and at least every `tick_s`, until it returns something other than None; None at the deadline."""
        if by not in ("envelope", "headers"):
            raise ValueError(f"by must be 'envelope' or 'headers', not {by!r}")
        give_up_at = time.monotonic() + deadline_s
        login = self.settings.login_for(address)
        while True:
            found = step([_summary(m) for m in self._messages_of(address, by)])
            if found is not None:
                return found
            remaining = give_up_at - time.monotonic()
            if remaining <= 0:
                return None
            if b"IDLE" in self._call(login, lambda c: c.capabilities()):
                self._idle(login, min(remaining, tick_s))
            else:  # polling to the deadline: the next _sync's SEARCH is the NOOP
                time.sleep(min(remaining, tick_s))  # polling to the deadline (no IDLE)

    # -- plumbing ----------------------------------------------------------
    def _messages_of(self, address: str, by: MatchBy) -> list[Message]:
        login = self.settings.login_for(address)
        with self._login_lock(login):
            self._sync(login, address)
        with self._lock:
            found = [self._messages[i] for i in self._uids.get(login, {}).values()]
        if by == "headers":
            wanted = address.strip().lower()
            found = [m for m in found if wanted in [a.lower() for a in (*m.to, *m.cc, *m.bcc)]]
        return found

    def _sync(self, login: str, address: str) -> None:
        """Fetch the messages of `login`'s folder not fetched yet."""
        folder = self._call(login, lambda c: c.select_folder(self.settings.folder, readonly=True))
        validity = int(folder.get(b"UIDVALIDITY", 0))
        with self._lock:
            known = self._uids.setdefault(login, {})
        uids = sorted(self._call(login, lambda c: c.search(["ALL"])))
        prefix = f"{login}/{self.settings.folder}/{validity}/"
        if any(not v.startswith(prefix) for v in known.values()):  # UIDVALIDITY changed: start over
            known.clear()
        present = set(uids)
        with self._lock:
            for gone in [u for u in known if u not in present]:  # expunged by someone else
                self._messages.pop(known.pop(gone), None)
        new = [u for u in uids if u not in known]
        if new:
            fetched = self._call(login, lambda c: c.fetch(new, ["BODY.PEEK[]"]))
            for uid in new:
                raw = (fetched.get(uid) or {}).get(b"BODY[]")
                if raw is None:  # expunged meanwhile
                    continue
                message_id = prefix + str(uid)
                parsed = parse_message(message_id, raw, address)
                with self._lock:
                    self._messages[message_id] = parsed
                    known[uid] = message_id

    def _idle(self, login: str, timeout_s: float) -> None:
        """IDLE up to `timeout_s`, back as soon as the server announces anything (EXISTS)."""

        def idle(client: IMAPClient) -> None:
            client.idle()
            try:
                client.idle_check(timeout=max(timeout_s, 0.01))
            finally:
                client.idle_done()

        self._call(login, idle)

    def _client(self, login: str) -> IMAPClient:
        with self._lock:
            if login in self._clients:
                self._clients.move_to_end(login)
                return self._clients[login]
            idle = [other for other in self._clients if self._login_lock(other).acquire(blocking=False)]
            closing: list[IMAPClient] = []
            for other in idle:  # the least recently used ones no thread is talking to
                if len(self._clients) - len(closing) < MAX_CONNECTIONS:
                    break
                closing.append(self._clients.pop(other))
            for other in idle:
                self._login_lock(other).release()
        for oldest in closing:
            try:
                oldest.logout()
            except (IMAPClientError, OSError):
                pass
        s = self.settings
        where = f"{s.host}:{s.port}"
        context = None
        if s.tls != "none":
            context = ssl.create_default_context(cafile=s.ca_file or None)
            if not s.verify_tls:
                context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        try:
            client = IMAPClient(s.host, port=s.port, ssl=s.tls == "implicit", ssl_context=context, timeout=s.timeout_s)
            if s.tls == "starttls":
                client.starttls(context)
        except (OSError, IMAPClientError, ssl.SSLError) as exc:
            raise HarnessError(
                f"IMAP unreachable at {where}",
                f"a {s.tls} IMAP server for {login}",
                observed=f"{type(exc).__name__}: {exc}",
            ) from exc
        try:
            if s.master_user:
                client.plain_login(s.master_user, s.password, authorization_identity=login)
            else:
                client.login(login, s.password)
        except (LoginError, IMAPClientError, OSError) as exc:
            how = f"as master user {s.master_user!r} for {login!r}" if s.master_user else f"as {login!r}"
            raise HarnessError(
                f"IMAP login refused at {where}", f"a login {how} (mailbox settings in the profile)", observed=str(exc)
            ) from exc
        with self._lock:
            self._clients[login] = client
        return client

    def _call(self, login: str, action: Callable[[IMAPClient], Any]) -> Any:
        """``action(client)``; a dropped connection is reopened and the action retried once."""
        with self._login_lock(login):
            return self._call_locked(login, action)

    def _call_locked(self, login: str, action: Callable[[IMAPClient], Any]) -> Any:
        for attempt in (1, 2):
            client = self._client(login)
            try:
                return action(client)
            except (OSError, IMAPClientError) as exc:
                with self._lock:
                    self._clients.pop(login, None)
                try:
                    client.shutdown()
                except (OSError, IMAPClientError):
                    pass
                if attempt == 2 or not isinstance(exc, (OSError, IMAPClientAbortError)):
                    raise HarnessError(
                        f"IMAP failed for {login}",
                        f"{self.settings.host}:{self.settings.port}",
                        observed=f"{type(exc).__name__}: {exc}",
                    ) from exc
        raise AssertionError("unreachable")


def _address_of(login: str) -> str:
    return login if "@" in login else ""


def _summary(m: Message) -> MessageSummary:
    return MessageSummary(
        id=m.id,
        message_id=m.message_id,
        from_=m.from_,
        to=m.to,
        cc=m.cc,
        bcc=m.bcc,
        subject=m.subject,
        created=m.date,
        size=m.size,
        attachment_count=len(m.attachments),
    )
