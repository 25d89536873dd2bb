"""Helpers of the hardening tests: the counters, the sandbox as the tests see it, the delivery ledger.

* ``Tally`` / ``TALLY``: what was tried and how it ended - bad-input kinds,
  faults, messages (acknowledged / delivered exactly once / lost / duplicated,
  counted per message x recipient), intrusion attempts, property examples.
  ``write_counters(dir)`` saves them for ``python -m tools.hardening``.
* ``Target``: one module's ``harness.sandbox.lifecycle.Sandbox`` (the real Mailpit and
  gateway processes) seen through ``gwtest.Gateway``'s client helpers
  (tests/gateway/gwtest.py: admin, MPP, SMTP send - its process methods are
  not used here), ``harness.mailbox.mailpit.MailpitClient`` and the gateway's database
  (read-only: how many deliveries are still queued).
* ``Ledger``: acknowledged deliveries (message x recipient), each with its own
  marker in the subject, settled by counting them in Mailpit once the
  gateway's outbound queue is empty.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "gateway"))
import gwtest

from harness.errors import HarnessError
from harness.mailbox.mailpit import MailpitClient
from harness.sandbox import procs
from harness.sandbox.lifecycle import Sandbox

INTERNAL = gwtest.INTERNAL  # corp.example
SENDER = f"alice@{INTERNAL}"
DELIVERY_DEADLINE_S = 30.0
COUNTERS_ENV = "SMLITE_HARDENING_DIR"


# -- counters ------------------------------------------------------------------------------------


class Tally:
    """The hardening counters of one pytest session (see the module docstring)."""

    def __init__(self) -> None:
        self.bad_inputs: dict[str, dict] = {}
        self.faults: dict[str, dict] = {}
        self.messages = {"acknowledged": 0, "delivered": 0, "lost": 0, "duplicated": 0}
        self.intrusions: dict[str, dict] = {}
        self.properties: dict[str, int] = {}

    @contextmanager
    def _outcome(self, table: dict, key: str, flag: str, **fields) -> Iterator[dict]:
        entry = {**fields, flag: False}
        table[key] = entry
        try:
            yield entry
        except pytest.skip.Exception as exc:
            entry["skipped"] = str(exc)
            raise
        entry[flag] = True

    def bad_input(self, case_id: str, channel: str):
        """``with tally.bad_input(id, channel):`` - handled only if the block finishes."""
        return self._outcome(self.bad_inputs, case_id, "handled", channel=channel)

    def fault(self, name: str):
        """``with tally.fault(name):`` - survived only if the block finishes."""
        return self._outcome(self.faults, name, "survived")

    def deliveries(self, acknowledged: int, delivered: int, lost: int, duplicated: int) -> None:
        for key, value in (
            ("acknowledged", acknowledged),
            ("delivered", delivered),
            ("lost", lost),
            ("duplicated", duplicated),
        ):
            self.messages[key] += value

    def intrusion(self, kind: str, refused: bool, variety: str | None = None) -> None:
        """One attempt of `kind`; `variety` names what makes it different in kind from the others (not a
        mere re-spelling: e.g. method, credential and how the server answered) - the table counts kinds
        apart from attempts. Without one, the attempt is of the kind's single variety."""
        entry = self.intrusions.setdefault(kind, {"attempts": 0, "refused": 0, "varieties": []})
        entry["attempts"] += 1
        entry["refused"] += int(refused)
        variety = variety or kind
        if variety not in entry["varieties"]:
            entry["varieties"].append(variety)

    def examples(self, name: str, count: int = 1) -> None:
        self.properties[name] = self.properties.get(name, 0) + count

    def as_dict(self) -> dict:
        return {
            "bad_inputs": self.bad_inputs,
            "faults": self.faults,
            "messages": self.messages,
            "intrusions": self.intrusions,
            "properties": self.properties,
        }


TALLY = Tally()


def write_counters(directory: str) -> Path:
    """Write this process's counters as counters-<worker>.json in `directory` (xdist: one file per worker)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    path = Path(directory) / f"counters-{worker}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(TALLY.as_dict(), indent=2, sort_keys=True), encoding="utf-8")
    return path


# -- the sandbox, as the tests see it ----------------------------------------------------------------


def marker(prefix: str = "hx") -> str:
    """A unique word to put in a subject (Mailpit finds it; nothing else contains it)."""
    return f"{prefix}{uuid.uuid4().hex[:12]}"


class Target:
    """One module's sandbox: the gateway's client (gwtest.Gateway), Mailpit's client, the database."""

    def __init__(self, sandbox: Sandbox, tally: Tally) -> None:
        self.sb = sandbox
        self.tally = tally
        info = sandbox.info()
        self.http = info["gateway_http"]
        self.mailpit_api = info["mailpit_api"]
        self.gw = gwtest.Gateway(sandbox.run_dir / "client", relay_port=info["mailpit_smtp"][1])
        self.gw.smtp_port = info["gateway_smtp"][1]
        self.gw.http_port = int(self.http.rsplit(":", 1)[1])
        self.mailbox = MailpitClient(self.mailpit_api)

    @property
    def database(self) -> Path:
        return Path(self.sb.gateway_config()["database"])

    def pending_deliveries(self) -> int:
        """Outbound rows the gateway has not yet recorded as delivered or bounced (read from its database)."""
        conn = sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=10)
        try:
            cols = {r[1] for r in conn.execute("PRAGMA table_info(outbound)")}
            bounced = " AND bounced_at IS NULL" if "bounced_at" in cols else ""
            return conn.execute(f"SELECT COUNT(*) FROM outbound WHERE delivered_at IS NULL{bounced}").fetchone()[0]
        finally:
            conn.close()

    def log(self) -> str:
        return (self.sb.run_dir / "gateway.log").read_text(errors="replace")

    def ledger(self) -> Ledger:
        return Ledger(self)

    def mpp_session(self, address: str) -> str:
        return self.gw.mpp_session(address)

    def roundtrip(self) -> None:
        """A normal secure message end to end: SMTP in, notification in Mailpit, the portal link opens it."""
        tag = marker("ok")
        rcpt = f"{tag}@ext.example"
        raw = gwtest.make_message(frm=SENDER, to=[rcpt], subject=f"Normal {tag}", text=f"normal body {tag}\n")
        code, text = self.gw.send(raw, SENDER, [rcpt])
        assert code == 250, f"the gateway no longer accepts a normal message: {code} {text!r}"
        ledger = self.ledger()
        ledger.ack(rcpt, tag)
        [note] = ledger.settle()[rcpt, tag]
        token = gwtest.portal_token(gwtest.parse(note.raw))
        r = self.gw.get(f"/sm-portal/api/messages/{token}")
        assert r.status_code == 200 and tag in r.json()["text"], f"portal after a normal message: {r.status_code}"


class Ledger:
    """Acknowledged deliveries (message x recipient) and their count in Mailpit.

    ``ack(address, marker)`` once per recipient of a message the gateway
    acknowledged (250 / 202); ``settle()`` waits until each is in Mailpit and
    the gateway's queue is empty, counts every pair (exactly once, lost,
    duplicated), adds the counts to the tally and asserts nothing was lost and
    nothing duplicated (``max_duplicated`` allows the one delivery a SIGKILL
    can catch between the relay's 250 and the gateway's commit - SMTP's
    at-least-once window, docs/hardening.md). A submission that got no
    acknowledgement is not acked here: delivered or not, it is the client's to
    retry.
    """

    def __init__(self, target: Target) -> None:
        self.target = target
        self.expected: list[tuple[str, str]] = []

    def ack(self, address: str, tag: str) -> None:
        self.expected.append((address.lower(), tag))

    def found(self, address: str, tag: str) -> list:
        mailbox = self.target.mailbox
        return [mailbox.message(s.id) for s in mailbox.messages_to(address) if tag in s.subject]

    def settle(
        self,
        deadline_s: float = DELIVERY_DEADLINE_S,
        *,
        max_duplicated: int = 0,
    ) -> dict[tuple[str, str], list]:
        give_up = time.monotonic() + deadline_s
        mailbox = self.target.mailbox
        for address, tag in self.expected:
            remaining = max(give_up - time.monotonic(), 0.5)
            try:
                mailbox.wait_for_messages(address, 1, remaining, predicate=_subject_has(tag))
            except AssertionError:
                break  # counted as lost below
        try:
            procs.wait_until(
                lambda: self.target.pending_deliveries() == 0,
                max(give_up - time.monotonic(), 1.0),
                "the gateway's outbound queue to drain",
                retry_on=(sqlite3.Error,),
            )
        except HarnessError:
            pass  # whatever is still queued shows up as lost or duplicated below
        found = {pair: self.found(*pair) for pair in self.expected}
        counts = [len(v) for v in found.values()]
        lost = [pair for pair, v in found.items() if not v]
        duplicated = [pair for pair, v in found.items() if len(v) > 1]
        self.target.tally.deliveries(
            acknowledged=len(counts),
            delivered=sum(1 for n in counts if n == 1),
            lost=len(lost),
            duplicated=len(duplicated),
        )
        assert not lost, f"{len(lost)} of {len(counts)} acknowledged deliveries never reached Mailpit: {lost[:10]}"
        assert len(duplicated) <= max_duplicated, (
            f"{len(duplicated)} deliveries arrived more than once (at most {max_duplicated} allowed): {duplicated[:10]}"
        )
        return found


def _subject_has(tag: str):
    def predicate(message) -> bool:
        return tag in message.subject

    predicate.__doc__ = f"subject contains {tag!r}"
    return predicate
