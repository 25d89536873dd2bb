"""Faults, nothing lost: Mailpit killed mid-burst, Mailpit's SMTP chaos, the gateway SIGKILLed mid-burst,
the disk holding SQLite read-only - and sandbox faults reported as harness errors, not as verdicts.

A burst is a client submitting secure messages one after another (SMTP as
Mimecast for Outlook and the MPP API in turn), each to one internal and one
external recipient with its own marker, while the fault is injected. Every
delivery (message x recipient) the gateway acknowledged (250 / 202) must
reach Mailpit exactly once; a submission that got no acknowledgement is the
client's to retry and is not counted. Each fault also checks that it really
bit (failed delivery attempts in the gateway's log, refusals during the
read-only spell). One sandbox for the module, Mailpit started with chaos
enabled, the gateway's database in its own folder (so that folder alone can
be made read-only).
"""

from __future__ import annotations

import re
import smtplib
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests

from harness import results as R
from harness.conformance.runner import RunOptions, run
from harness.profile.schema import from_sandbox
from harness.sandbox import procs

from .support import INTERNAL, SENDER, Target, gwtest, marker

pytestmark = pytest.mark.sandbox


def _database(run_dir: Path) -> str:
    (run_dir / "db").mkdir(exist_ok=True)
    return str(run_dir / "db" / "gateway.sqlite3")


SANDBOX = {"mailpit": {"chaos": True}, "gateway": {"database": _database}}
DEADLINE_S = 60.0


class Burst:
    """A client sending secure messages until stopped; it pauses while ``up`` is clear."""

    def __init__(self, target: Target, ledger, prefix: str) -> None:
        self.target, self.ledger, self.prefix = target, ledger, prefix
        self.acked = 0
        self.unacknowledged = 0
        self.stop = threading.Event()
        self.up = threading.Event()
        self.up.set()
        self._changed = threading.Condition()
        self._session = target.mpp_session(SENDER)
        self._thread = threading.Thread(target=self._run, name="burst", daemon=True)
        self.error: BaseException | None = None

    def __enter__(self) -> Burst:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.up.set()
        self._thread.join(30)
        assert not self._thread.is_alive(), "the burst client did not stop"

    def _submit(self, number: int, tag: str, rcpts: list[str]) -> bool:
        if number % 2:
            r = requests.post(
                self.target.http + "/mpp/api/messages",
                timeout=15,
                headers={"Authorization": f"Bearer {self._session}"},
                json={"to": rcpts, "subject": f"Burst {tag}", "text": f"burst {tag}", "definition": "All"},
            )
            return r.status_code == 202
        raw = gwtest.make_message(frm=SENDER, to=rcpts, subject=f"Burst {tag}", text=f"burst {tag}\n")
        return self.target.gw.send(raw, SENDER, rcpts)[0] == 250

    def _run(self) -> None:
        number = 0
        try:
            while not self.stop.is_set():
                if not self.up.wait(0.5):
                    continue
                number += 1
                tag = f"{self.prefix}n{number:04d}"
                rcpts = [f"{tag}@{INTERNAL}", f"{tag}@ext.example"]
                try:
                    ok = self._submit(number, tag, rcpts)
                except (OSError, smtplib.SMTPException, requests.RequestException):
                    ok = False
                for rcpt in rcpts if ok else ():
                    self.ledger.ack(rcpt, tag)
                with self._changed:
                    self.acked += ok
                    self.unacknowledged += not ok
                    self._changed.notify_all()
        except BaseException as exc:  # surfaced by wait_acked
            self.error = exc

    def wait_acked(self, count: int, deadline_s: float = DEADLINE_S) -> None:
        with self._changed:
            done = self._changed.wait_for(lambda: self.acked >= count or self.error, deadline_s)
        assert self.error is None, f"the burst client crashed: {self.error!r}"
        assert done, f"only {self.acked} of {count} messages acknowledged within {deadline_s}s"


def failed_attempts(target: Target) -> int:
    return target.log().count("failed (attempt")


def wait_for_log(target: Target, what: str, predicate, deadline_s: float = DEADLINE_S) -> None:
    procs.wait_until(
        lambda: predicate(target.log()),
        deadline_s,
        f"the gateway log to show {what}",
        observe=lambda: target.log()[-2000:],
    )


# -- Mailpit ----------------------------------------------------------------------------------------


def test_mailpit_killed_mid_burst_and_restarted(target, tally):
    with tally.fault("mailpit-killed-mid-burst"):
        ledger = target.ledger()
        failed_before = failed_attempts(target)
        with Burst(target, ledger, marker("mk")) as burst:
            burst.wait_acked(8)
            first = ledger.expected[0]
            target.mailbox.wait_for_messages(first[0], 1, DEADLINE_S)  # deliveries are flowing
            target.sb.mailpit.kill()  # SIGKILL, whatever it was doing
            burst.wait_acked(burst.acked + 12)  # the gateway keeps accepting with its relay dead
            wait_for_log(target, "failed delivery attempts", lambda log: log.count("failed (attempt") > failed_before)
            target.sb.start_mailpit()  # same ports, same database
            burst.wait_acked(burst.acked + 8)
        assert burst.acked >= 28
        ledger.settle(DEADLINE_S)


def test_mailpit_smtp_chaos(target, tally):
    with tally.fault("mailpit-smtp-chaos"):
        ledger = target.ledger()
        failed_before = failed_attempts(target)
        # temporary refusals only: a 5xx is permanent and ends in a bounce
        # (tests/gateway/test_gw_promise.py::test_a_relay_5xx_bounces_and_the_queue_flows)
        target.mailbox.set_chaos(sender=(451, 30), recipient=(452, 30))
        try:
            with Burst(target, ledger, marker("ch")) as burst:
                burst.wait_acked(20)
            ledger.settle(DEADLINE_S)  # delivered through the chaos, retried by the gateway
        finally:
            target.mailbox.set_chaos()
        faults = failed_attempts(target) - failed_before
        assert faults > 0, "the chaos never refused a delivery: the fault did not bite"
        log = target.log()
        assert "451" in log and "452" in log, "both chaos triggers (MAIL FROM 451, RCPT TO 452) should have fired"


# -- the gateway ------------------------------------------------------------------------------------


def test_gateway_sigkilled_mid_burst_and_restarted(target, tally):
    """Two kills mid-burst. While the relay refuses every delivery (chaos at MAIL FROM, 100%), no message
    can be half-delivered, so each acknowledged one must arrive exactly once. While deliveries flow
    freely, the one delivery in flight may already sit in Mailpit when the kill lands before the
    gateway's commit; it is sent again after the restart (never lost), so at most one duplicate."""
    with tally.fault("gateway-sigkill-mid-burst"):
        held, flowing = target.ledger(), target.ledger()
        failed_before = failed_attempts(target)
        with Burst(target, held, marker("gh")) as burst:
            burst.wait_acked(4)
            target.mailbox.set_chaos(sender=(451, 100))
            try:
                burst.wait_acked(burst.acked + 6)
                wait_for_log(target, "refused deliveries", lambda log: log.count("failed (attempt") > failed_before)
                kill_and_restart(target, burst)
                burst.wait_acked(burst.acked + 6)
            finally:
                target.mailbox.set_chaos()
        held.settle(DEADLINE_S)
        with Burst(target, flowing, marker("gf")) as burst:
            burst.wait_acked(8)
            target.mailbox.wait_for_messages(flowing.expected[0][0], 1, DEADLINE_S)  # deliveries are flowing
            kill_and_restart(target, burst)
            burst.wait_acked(burst.acked + 8)
        flowing.settle(DEADLINE_S, max_duplicated=1)
        pending_at_start = [int(n) for n in re.findall(r"(\d+) pending deliveries", target.log())]
        assert pending_at_start[-2] > 0, f"the held restart should have found deliveries to resume: {pending_at_start}"


def kill_and_restart(target: Target, burst: Burst) -> None:
    burst.up.clear()
    target.sb.gateway.kill()  # SIGKILL: no clean shutdown; a submission may be cut mid-way
    target.sb.restart_gateway()  # same ports, same database
    burst.up.set()


# -- the disk ---------------------------------------------------------------------------------------


def _send(target: Target, tag: str, rcpt: str) -> tuple[int, bytes]:
    return target.gw.send(gwtest.make_message(frm=SENDER, to=[rcpt], subject=f"Disk {tag}"), SENDER, [rcpt])


def test_database_disk_read_only_refuses_then_recovers(target, tally):
    with tally.fault("sqlite-disk-read-only"):
        ledger = target.ledger()
        before, queued, during, after = (marker(p) for p in ("d0", "d1", "d2", "d3"))
        assert _send(target, before, f"{before}@ext.example")[0] == 250
        ledger.ack(f"{before}@ext.example", before)
        token = gwtest.portal_token(gwtest.parse(ledger.settle()[f"{before}@ext.example", before][0].raw))
        target.sb.stop_mailpit()  # so that an acknowledged message waits in the queue during the spell
        assert _send(target, queued, f"{queued}@{INTERNAL}")[0] == 250
        ledger.ack(f"{queued}@{INTERNAL}", queued)
        session = target.mpp_session(SENDER)
        with gwtest.read_only(target.database.parent):
            code, text = _send(target, during, f"{during}@ext.example")
            assert (code, text) == (451, b"4.3.0 Storage unavailable, message not accepted; try again later")
            r = target.gw.mpp_send(
                session, to=[f"{during}@ext.example"], subject=f"Disk {during}", text="x", definition="All"
            )
            assert r.status_code == 503 and r.json()["error"] == "storage_unavailable", r.text
            r = target.gw.post(f"/sm-portal/api/messages/{token}/reply", json={"text": "a reply"})
            assert r.status_code == 503 and r.json()["error"] == "storage_unavailable", r.text
            r = target.gw.admin("POST", "/admin/api/mpp-sessions", json={"address": f"{during}@{INTERNAL}"})
            assert r.status_code == 503, r.text
            assert target.gw.get(f"/sm-portal/api/messages/{token}").status_code == 200, "reads keep working"
            target.sb.start_mailpit()
            # the relay takes the queued message; the store cannot record it; it must not be sent again
            target.mailbox.wait_for_messages(f"{queued}@{INTERNAL}", 1, DEADLINE_S)
            wait_for_log(
                target,
                "the worker retrying to record a delivery",
                lambda log: log.count("(1 sent, not yet recorded)") >= 2,
            )
            assert len(ledger.found(f"{queued}@{INTERNAL}", queued)) == 1, "re-sent while the disk was read-only"
        code, _ = _send(target, after, f"{after}@ext.example")
        assert code == 250, "the gateway must take mail again once the disk is writable"
        ledger.ack(f"{after}@ext.example", after)
        ledger.settle(DEADLINE_S)
        assert target.pending_deliveries() == 0
        assert target.mailbox.messages_to(f"{during}@ext.example") == []


# -- sandbox faults are harness errors ---------------------------------------------------------------


def test_unreachable_mailpit_is_a_harness_error_not_a_verdict(target, tally, tmp_path):
    with tally.fault("sandbox-mailpit-unreachable"):
        profile = from_sandbox(target.sb.info())
        profile.mailpit["api"] = f"http://127.0.0.1:{procs.free_port()}"  # nobody listens there
        path = profile.save_json(tmp_path / "profile.json")
        code, results, _ = run(
            RunOptions(
                target=str(path), select="T1-r1 and outlook", quiet=True, reports_dir=tmp_path / "reports", report=False
            )
        )
        assert results is not None and results.scenarios
        statuses = {s.status for s in results.scenarios}
        assert statuses == {R.HARNESS_ERROR}, [(s.name, s.status, s.message[:200]) for s in results.scenarios]
        assert all("Mailpit unreachable" in s.message for s in results.scenarios), results.scenarios[0].message
        assert code == 2 and results.verdict() == "Incomplete"


def test_unreachable_gateway_is_a_harness_error_exit_2(target, tally, tmp_path):
    with tally.fault("sandbox-gateway-unreachable"):
        profile = from_sandbox(target.sb.info())
        port = procs.free_port()
        profile.target.update(http=f"http://127.0.0.1:{port}", smtp=f"127.0.0.1:{port}")
        path = profile.save_json(tmp_path / "profile.json")
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "harness.cli.main",
                "run",
                "--target",
                str(path),
                "-q",
                "--reports-dir",
                str(tmp_path / "reports"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=Path(__file__).resolve().parents[2],
        )
        said = done.stdout + done.stderr
        assert done.returncode == 2 and "harness error" in said and "Traceback" not in said, said[-800:]
        assert not list((tmp_path / "reports").glob("*/results.json")), "no verdict may be written"
