"""harness/sandbox/procs.py and harness/sandbox/lifecycle.py: real processes, real Mailpit, the
real gateway (skipped only while harness/gateway/__main__.py is missing), and
no process left behind."""

from __future__ import annotations

import json
import os
import signal
import smtplib
import subprocess
import sys
import tomllib
from email.message import EmailMessage
from pathlib import Path
from types import SimpleNamespace

import pytest

from harness.cli.sandbox import probe
from harness.cli.sandbox import status as cmd_status
from harness.cli.sandbox import up as cmd_up
from harness.errors import HarnessError, UsageError
from harness.files import toml_text
from harness.sandbox import procs
from harness.sandbox.lifecycle import GatewaySettings, Sandbox
from harness.sandbox.state import read_state, state_file_path

REPO = Path(__file__).resolve().parent.parent


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"  # dead, not yet reaped


def wait_gone(pid: int) -> None:
    procs.wait_until(lambda: gone(pid), 10, f"process {pid} to be gone")


# -- procs ------------------------------------------------------------------------


def test_wait_until_returns_the_first_truthy_value():
    answers = iter([None, 0, ConnectionRefusedError("not yet"), "ready"])

    def predicate():
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert procs.wait_until(predicate, 5, "an answer") == "ready"


def test_wait_until_timeout_says_expected_and_seen():
    with pytest.raises(HarnessError) as caught:
        procs.wait_until(list, 0.2, "the queue to fill", observe=lambda: "queue: 0 items")
    assert caught.value.title == "Timed out after 0.2s"
    assert caught.value.message == "expected the queue to fill"
    assert caught.value.observed == "queue: 0 items"

    def refused():
        raise ConnectionRefusedError("connection refused")

    with pytest.raises(HarnessError) as caught:
        procs.wait_until(refused, 0.1, "a listener")
    assert "ConnectionRefusedError: connection refused" in caught.value.observed


def test_wait_until_lets_other_errors_through_at_once():
    with pytest.raises(KeyError):
        procs.wait_until(lambda: {}["missing"], 30, "never")


def test_free_ports_are_distinct_and_unused():
    ports = procs.free_ports(5)
    assert len(set(ports)) == 5
    for port in ports:
        with pytest.raises(OSError):
            procs.smtp_greeting("127.0.0.1", port, 0.5)


def test_stop_kills_the_whole_process_group(tmp_path):
    pid_file = tmp_path / "grandchild.pid"
    child = procs.start_process("sh", ["sh", "-c", f"sleep 300 & echo $! > {pid_file}; wait"], tmp_path / "sh.log")
    procs.wait_until(lambda: pid_file.read_text().strip(), 5, "the grandchild's pid")
    grandchild = int(pid_file.read_text())
    child.stop()
    assert gone(child.pid)
    wait_gone(grandchild)
    assert child not in procs.live_children()


def test_stop_escalates_to_sigkill_after_the_deadline(tmp_path):
    ready = tmp_path / "ready"
    child = procs.start_process(
        "stubborn", ["sh", "-c", f"trap '' TERM; touch {ready}; sleep 300 & wait"], tmp_path / "stubborn.log"
    )
    procs.wait_until(ready.exists, 5, "the trap to be set")
    assert child.stop(deadline_s=0.3) == -signal.SIGKILL
    assert gone(child.pid)


def test_log_tail_keeps_early_error_lines(tmp_path):
    log = tmp_path / "x.log"
    log.write_text("Error: unknown flag --x\n" + "".join(f"usage line {n}\n" for n in range(100)))
    child = procs.ChildProcess("x", ["x"], log, popen=subprocess.Popen(["true"]))
    child.popen.wait()
    tail = child.log_tail(5)
    assert tail.splitlines()[0] == "Error: unknown flag --x" and tail.endswith("usage line 99")


CHILD_SCRIPT = """\
import sys, threading
from pathlib import Path
from harness.sandbox import procs
child = procs.start_process("sleeper", ["sleep", "300"], Path(sys.argv[1]))
print(child.pid, flush=True)
if sys.argv[2] == "block":
    threading.Event().wait()
"""


@pytest.mark.parametrize("how", ["normal exit", "SIGTERM", "SIGINT"])
def test_children_die_with_the_harness(tmp_path, how):
    harness = subprocess.Popen(
        [
            sys.executable,
            "-c",
            CHILD_SCRIPT,
            str(tmp_path / "sleeper.log"),
            "exit" if how == "normal exit" else "block",
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    child_pid = int(harness.stdout.readline())
    if how != "normal exit":
        harness.send_signal(signal.SIGTERM if how == "SIGTERM" else signal.SIGINT)
    harness.wait(timeout=15)
    wait_gone(child_pid)


# -- gateway config ------------------------------------------------------------------


def test_toml_round_trips_what_the_gateway_config_needs():
    values = {
        "name": 'quote " back \\ slash\nnew line\ttab é 🎉 \x7f \x01',
        "n": 0,
        "big": 10485760,
        "yes": True,
        "no": False,
        "domains": ["corp.example", "b.example"],
        "empty": [],
    }
    assert tomllib.loads(toml_text(values)) == values


def test_gateway_settings_defaults_and_mapping():
    settings = GatewaySettings()
    assert settings.internal_domains == ["corp.example"] and settings.test_clock is True
    assert settings.variant == "" and len(settings.admin_token) >= 32
    assert GatewaySettings().admin_token != settings.admin_token
    custom = GatewaySettings.from_mapping({"internal_domains": ["a.example"], "banner_text": "B"})
    assert custom.internal_domains == ["a.example"] and custom.extra == {"banner_text": "B"}


# -- Sandbox, Mailpit half -----------------------------------------------------------


def test_mailpit_only_sandbox_and_its_state_file(tmp_path):
    state_path = tmp_path / "state" / "sandbox.json"
    with Sandbox(with_gateway=False, state_path=state_path) as sandbox:
        run_dir, info = sandbox.run_dir, sandbox.info()
        assert info["gateway_http"] is None and info["gateway_smtp"] is None
        assert info["mailpit_smtp"] == ("127.0.0.1", sandbox.mailpit.smtp_port)
        state = read_state(state_path)
        assert state["mailpit_api"] == info["mailpit_api"] and state["owner_pid"] == os.getpid()
        assert [name for name, ok, _ in probe(state) if ok] == ["mailpit_api", "mailpit_smtp"]
        assert sandbox.mailbox.count() == 0
        mailpit_pid = sandbox.mailpit.pid
    assert gone(mailpit_pid)
    assert not state_path.exists(), "removed on stop"
    assert not run_dir.exists(), "a temporary run dir is removed"


def test_given_run_dir_is_kept(tmp_path):
    with Sandbox(tmp_path / "run", with_gateway=False):
        pass
    assert (tmp_path / "run" / "mailpit.log").exists()


def test_gateway_that_dies_early_shows_its_log(tmp_path):
    stub = tmp_path / "dying_gateway.py"
    stub.write_text("import sys\nprint('config error: relay_port is wrong', file=sys.stderr)\nsys.exit(2)\n")
    sandbox = Sandbox(tmp_path / "run", gateway_argv=[sys.executable, str(stub)])
    with pytest.raises(HarnessError) as caught:
        sandbox.start()
    assert "gateway exited during startup" in caught.value.title
    assert "relay_port is wrong" in caught.value.observed
    assert gone(sandbox.mailpit.pid), "Mailpit stopped too"


def test_gateway_that_never_gets_ready_times_out_with_its_log(tmp_path):
    stub = tmp_path / "silent_gateway.py"
    stub.write_text("import threading\nprint('listening soon', flush=True)\nthreading.Event().wait()\n")
    sandbox = Sandbox(tmp_path / "run", gateway_argv=[sys.executable, str(stub)], ready_deadline_s=0.5)
    with pytest.raises(HarnessError) as caught:
        sandbox.start()
    assert "gateway.ready.json" in caught.value.message and "listening soon" in caught.value.observed
    assert gone(sandbox.gateway.pid) and gone(sandbox.mailpit.pid)
    config = tomllib.loads((tmp_path / "run" / "gateway.toml").read_text())
    assert config["relay_port"] == sandbox.mailpit.smtp_port and config["test_clock"] is True
    assert config["smtp_port"] == 0 and config["http_port"] == 0


def test_status_without_a_sandbox(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert state_file_path() == tmp_path / "smlite" / "sandbox.json"
    assert cmd_status(SimpleNamespace()) == 2
    assert "not running" in capsys.readouterr().out
    state_file_path().parent.mkdir(parents=True)
    state_file_path().write_text(json.dumps({"owner_pid": 2**22 + 12345, "mailpit_api": "x"}))
    assert read_state() is None and read_state(include_stale=True)["mailpit_api"] == "x"
    assert cmd_status(SimpleNamespace()) == 2
    assert "stale" in capsys.readouterr().out


# -- Sandbox with the real gateway ---------------------------------------------------------


def submit(host_port, sender, recipient, subject):
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, recipient, subject
    message.set_content("body")
    with smtplib.SMTP(*host_port, timeout=10) as smtp:
        smtp.send_message(message)


@pytest.mark.sandbox
def test_sandbox_up_relays_through_the_gateway_to_mailpit(tmp_path):
    state_path = tmp_path / "sandbox.json"
    with Sandbox(state_path=state_path, internal_domains=["corp.example", "two.example"]) as sandbox:
        info = sandbox.info()
        assert sandbox.startup_seconds < 20
        assert info["internal_domains"] == ["corp.example", "two.example"]
        assert info["mpp_url"] == info["gateway_http"] + "/mpp"
        assert info["admin_url"] == info["gateway_http"] + "/admin"
        assert info["sm_portal_url"] == info["gateway_http"] + "/sm-portal"
        assert all(ok for _, ok, _ in probe(read_state(state_path))), probe(info)
        submit(info["gateway_smtp"], "alice@corp.example", "bob@ext.example", "plain through the gateway")
        [got] = sandbox.mailbox.wait_for_messages("bob@ext.example", deadline_s=10)
        assert got.subject == "plain through the gateway"
        pids = info["pids"]
    assert gone(pids["mailpit"]) and gone(pids["gateway"]) and not state_path.exists()


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox() as running:
        yield running


@pytest.mark.sandbox
def test_restart_gateway_keeps_ports_and_applies_the_variant(sandbox):
    before = sandbox.info()
    try:
        sandbox.restart_gateway(variant="print-allowed")
        after = sandbox.info()
        assert gone(before["pids"]["gateway"]) and after["pids"]["gateway"] != before["pids"]["gateway"]
        assert (after["gateway_http"], after["gateway_smtp"]) == (before["gateway_http"], before["gateway_smtp"])
        assert after["variant"] == "print-allowed"
        assert tomllib.loads((sandbox.run_dir / "gateway.toml").read_text())["variant"] == "print-allowed"
        assert "variant print-allowed" in sandbox.gateway.log_tail(3)
        assert procs.http_status(after["gateway_http"] + "/healthz") == 200
    finally:
        sandbox.restart_gateway(variant="")
    assert "variant none" in sandbox.gateway.log_tail(3)


@pytest.mark.sandbox
def test_mail_queued_while_mailpit_is_down_arrives_when_it_is_back(sandbox):
    sandbox.stop_mailpit()
    try:
        submit(sandbox.info()["gateway_smtp"], "alice@corp.example", "carol@ext.example", "queued")
    finally:
        sandbox.start_mailpit()
    [got] = sandbox.mailbox.wait_for_messages("carol@ext.example", deadline_s=15)
    assert got.subject == "queued"


UP_SCRIPT = """\
import sys
from types import SimpleNamespace
from harness.cli.sandbox import up
sys.exit(up(SimpleNamespace(domains=["corp.example", "b.example"], variant="", run_dir=None)))
"""


@pytest.mark.sandbox
def test_cmd_up_serves_until_sigterm_and_status_sees_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    up = subprocess.Popen(
        [sys.executable, "-c", UP_SCRIPT],
        cwd=REPO,
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        state = procs.wait_until(lambda: read_state(), 30, "smlite sandbox up to write its state file")
        assert state["owner_pid"] == up.pid and state["internal_domains"] == ["corp.example", "b.example"]
        assert cmd_status(SimpleNamespace()) == 0
        assert capsys.readouterr().out.count("up  ") == 7
        with pytest.raises(UsageError, match="already running"):
            cmd_up(SimpleNamespace(domains=None, variant="", run_dir=None))
    finally:
        up.send_signal(signal.SIGTERM)
        out, err = up.communicate(timeout=30)
    assert up.returncode == 0, err
    for label in (
        "Mailpit web UI",
        "Mailpit API",
        "Mailpit SMTP",
        "gateway SMTP",
        "MPP",
        "SM Portal",
        "Admin Console",
        "user: admin",
        "admin token",
        "internal domains",
    ):
        assert label in out
    assert "[" not in out and "{" not in out and "None" not in out, "Python reprs in the output"
    assert "corp.example, b.example" in out
    assert out.rstrip().endswith("sandbox stopped")
    assert gone(state["pids"]["mailpit"]) and gone(state["pids"]["gateway"])
    assert not state_file_path().exists()
    assert cmd_status(SimpleNamespace()) == 2


def test_variant_from_the_environment_is_adopted_and_reported(monkeypatch):
    monkeypatch.setenv("SMLITE_GATEWAY_VARIANT", "print-allowed")
    assert Sandbox().settings.variant == "print-allowed"
    assert Sandbox(variant="no-reply-all").settings.variant == "no-reply-all", "an explicit variant wins"
