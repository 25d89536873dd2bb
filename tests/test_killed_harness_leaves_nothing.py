"""Nothing outlives a killed harness: no Mailpit, no gateway, no folder holding the admin token.

Real processes throughout: `smlite run` and `smlite sandbox up` as subprocesses
(their own TMPDIR and XDG_STATE_HOME), SIGKILLed once their sandbox runs; the
children are then polled for up to 5 s. harness/sandbox/private.py's folders
and sweep are tested on real folders owned by real (dead or living) processes.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from harness.gateway import lifeline as gateway_lifeline
from harness.sandbox import private, procs

REPO = Path(__file__).resolve().parent.parent


# -- processes ---------------------------------------------------------------------------


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        stat_line = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat_line[stat_line.rindex(")") + 2] == "Z"  # dead, not yet reaped


def descendants(pid: int) -> dict[int, str]:
    """pid -> command line of every live descendant of `pid` (read from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                line = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(line[line.rindex(")") + 2 :].split()[1])
    found, frontier = {}, [pid]
    while frontier:
        parent = frontier.pop()
        for child, ppid in parents.items():
            if ppid == parent and child not in found:
                try:
                    found[child] = (
                        Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                    )
                except OSError:
                    continue
                frontier.append(child)
    return found


def assert_all_gone_within(pids: dict[int, str], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if all(gone(pid) for pid in pids):
            return
        time.sleep(0.05)  # polling to the deadline
    alive = {pid: cmd for pid, cmd in pids.items() if not gone(pid)}
    for pid in alive:  # do not leave them running after the test
        os.kill(pid, signal.SIGKILL)
    raise AssertionError(f"expected every child gone {seconds:g}s after the SIGKILL; still alive: {alive}")


def isolated_env(tmp_path: Path) -> dict[str, str]:
    temp = tmp_path / "tmp"
    temp.mkdir(exist_ok=True)
    return dict(
        os.environ,
        TMPDIR=str(temp),
        XDG_STATE_HOME=str(tmp_path / "state"),
        PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    )


def read_until(process: subprocess.Popen, marker: str, deadline_s: float = 60.0) -> list[str]:
    lines: list[str] = []
    give_up = time.monotonic() + deadline_s
    while time.monotonic() < give_up:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if marker in line:
            return lines
    process.kill()
    raise AssertionError(f"expected {marker!r} from {process.args}; got:\n{''.join(lines)}")


def leftovers(temp: Path) -> list[Path]:
    return sorted(p for p in temp.iterdir() if p.name.startswith(private.PREFIXES))


def wait_for_children(pid: int, wanted: tuple[str, ...], deadline_s: float = 60.0) -> dict[int, str]:
    def found() -> dict[int, str] | None:
        children = descendants(pid)
        return children if all(any(w in cmd for cmd in children.values()) for w in wanted) else None

    return procs.wait_until(
        found,
        deadline_s,
        f"children {wanted} of {pid}",
        retry_on=(OSError, ValueError),
        observe=lambda: descendants(pid),
    )


# -- parent-death signal and lifeline --------------------------------------------------------


def test_tied_to_parent_kills_a_plain_subprocess_when_its_parent_is_sigkilled(tmp_path):
    script = textwrap.dedent("""
        import subprocess, sys, threading
        from harness.sandbox import procs
        child = subprocess.Popen(["sleep", "300"], **procs.tied_to_parent())
        print(child.pid, flush=True)
        threading.Event().wait()
    """)
    parent = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=REPO, env=isolated_env(tmp_path)
    )
    child = int(parent.stdout.readline())
    assert not gone(child)
    parent.kill()
    parent.wait()
    assert_all_gone_within({child: "sleep 300"})


def test_a_child_started_from_a_short_lived_thread_survives_that_thread(tmp_path):
    """The kernel's parent-death signal follows the forking thread: procs forks from a long-lived one."""
    holder: list[procs.ChildProcess] = []
    import threading

    worker = threading.Thread(
        target=lambda: holder.append(procs.start_process("sleeper", ["sleep", "300"], tmp_path / "sleep.log"))
    )
    worker.start()
    worker.join()
    child = holder[0]
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            child.popen.wait(timeout=0.5)  # it would have been SIGTERMed when the worker thread ended
        assert child.alive()
    finally:
        child.stop()


WRAPPED_GATEWAY = """\
import sys
from pathlib import Path
from harness.sandbox.lifecycle import Sandbox
# a wrapper that does not exec: the gateway is a grandchild, out of the parent-death signal's reach
sandbox = Sandbox(Path(sys.argv[1]), gateway_argv=["sh", "-c", '"$@"; exit $?', "wrapper",
                                                   sys.executable, "-m", "harness.gateway"]).start()
print("ready", flush=True)
import threading; threading.Event().wait()
"""


def test_a_gateway_behind_a_wrapper_stops_when_the_harness_is_sigkilled(tmp_path):
    harness = subprocess.Popen(
        [sys.executable, "-c", WRAPPED_GATEWAY, str(tmp_path / "run")],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=isolated_env(tmp_path),
    )
    try:
        read_until(harness, "ready")
        children = wait_for_children(harness.pid, ("mailpit", "-m harness.gateway"))
        gateway = json.loads((tmp_path / "run" / "gateway.ready.json").read_text())["pid"]
        assert gateway in children and not gone(gateway)
        assert Path(f"/proc/{gateway}/stat").read_text().split()[3] != str(harness.pid), "a grandchild"
    finally:
        harness.kill()
        harness.wait()
    assert_all_gone_within(children)
    assert "gateway stopped" in (tmp_path / "run" / "gateway.log").read_text(), "a clean shutdown"


def test_the_harness_and_the_gateway_name_the_same_lifeline_variable():
    from harness.sandbox import lifeline

    assert lifeline.ENV == gateway_lifeline.ENV


def test_lifeline_watch_without_a_lifeline_does_nothing():
    assert gateway_lifeline.watch(env={}) is False
    assert gateway_lifeline.watch(env={gateway_lifeline.ENV: "not-a-number"}) is False
    assert gateway_lifeline.watch(env={gateway_lifeline.ENV: "987"}) is False  # not open here


# -- the CLI, killed -----------------------------------------------------------------------

# harness/sandbox/lifecycle.py and harness/conformance/runner.py make their temp folders with
# harness/sandbox/private.py, so the next start's sweep recognises what a killed run left.


def smlite(env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "harness.cli.main", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def kill_sandbox_up(env: dict[str, str]) -> dict[int, str]:
    """Start `smlite sandbox up`, SIGKILL it once it serves; its children, as they were."""
    up = smlite(env, "sandbox", "up")
    try:
        read_until(up, "Ctrl-C to stop")
        state = json.loads((Path(env["XDG_STATE_HOME"]) / "smlite" / "sandbox.json").read_text())
        children = descendants(up.pid)
        assert {state["pids"]["mailpit"], state["pids"]["gateway"]} <= set(children), children
    finally:
        up.kill()  # the SIGKILL under test (and, should an assertion fail, no process left running)
        up.wait()
    return children


def kill_run(env: dict[str, str], reports: Path) -> dict[int, str]:
    """Start `smlite run` (embedded sandbox), SIGKILL it while the suite runs; its children, as they were."""
    run = smlite(env, "run", "--reports-dir", str(reports), "-k", "T1")
    try:
        read_until(run, "sandbox ready")
        children = wait_for_children(run.pid, ("mailpit", "-m harness.gateway", "-m pytest"))
    finally:
        run.kill()
        run.wait()
    return children


def test_sigkilled_sandbox_up_leaves_no_process(tmp_path):
    assert_all_gone_within(kill_sandbox_up(isolated_env(tmp_path)))


def test_sigkilled_run_leaves_no_process(tmp_path):
    assert_all_gone_within(kill_run(isolated_env(tmp_path), tmp_path / "reports"))


def test_sigkilled_sandbox_up_folder_is_swept_at_the_next_start(tmp_path):
    env = isolated_env(tmp_path)
    temp, state = Path(env["TMPDIR"]), tmp_path / "state" / "smlite" / "sandbox.json"
    assert_all_gone_within(kill_sandbox_up(env))
    left = leftovers(temp)
    assert left and state.exists(), "the killed sandbox's run folder and state file stay until the next start"
    admin_token = json.loads(state.read_text())["admin_token"]
    assert any(admin_token in p.read_text() for p in left[0].glob("gateway.toml"))
    assert stat.S_IMODE((left[0] / "gateway.toml").stat().st_mode) == 0o600
    assert stat.S_IMODE(state.stat().st_mode) == 0o600

    second = smlite(env, "sandbox", "up")  # the next start
    try:
        read_until(second, "Ctrl-C to stop")
        assert json.loads(state.read_text())["admin_token"] != admin_token
        for folder in left:
            assert not folder.exists(), f"{folder} (run folder of the killed sandbox) swept at the next start"
    finally:
        second.send_signal(signal.SIGTERM)
        code = second.wait(timeout=30)
    assert code == 0
    assert leftovers(temp) == [] and not state.exists()


def test_sigkilled_run_secrets_are_swept_at_the_next_start(tmp_path):
    env = isolated_env(tmp_path)
    temp = Path(env["TMPDIR"])
    assert_all_gone_within(kill_run(env, tmp_path / "reports"))
    profile = next(temp.glob("smlite-run-*/profile.json"))
    assert stat.S_IMODE(profile.stat().st_mode) == 0o600
    assert stat.S_IMODE(profile.parent.stat().st_mode) == 0o700
    assert {p.name.split("-")[1] for p in leftovers(temp)} == {"run", "sandbox"}

    # the next start: any smlite process making its private folder in this TMPDIR
    sweeper = subprocess.run(
        [
            sys.executable,
            "-c",
            "from harness.sandbox import private\nwith private.private_tempdir() as folder: print(folder)",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert sweeper.returncode == 0, sweeper.stderr
    assert leftovers(temp) == [], "the killed run's profile and sandbox folders are swept"


# -- private folders and the sweep -----------------------------------------------------------

DEAD_OWNER = """\
import os, sys
from harness.sandbox import private
folder = private.make_private_dir("smlite-run-", sys.argv[1])
private.write_private(folder / "profile.json", '{"admin_token": "s3cret"}')
print(folder, flush=True)
os._exit(0)  # no cleanup, as after a SIGKILL
"""


def test_private_folder_and_files_are_for_the_owner_only(tmp_path):
    with private.private_tempdir("smlite-run-", tmp_path) as folder:
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        owner = json.loads((folder / private.OWNER_FILE).read_text())
        assert owner["pid"] == os.getpid() and owner["start_time"] == private.process_start_time(os.getpid())
        secret = private.write_private(folder / "profile.json", "{}")
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600
        nested = private.write_private(tmp_path / "state" / "smlite" / "sandbox.json", "{}")
        assert stat.S_IMODE(nested.stat().st_mode) == 0o600
        assert stat.S_IMODE(nested.parent.stat().st_mode) == 0o700
    assert not folder.exists()


def test_sweep_removes_only_what_dead_owners_left(tmp_path):
    living = private.make_private_dir("smlite-sandbox-", tmp_path)
    reused = private.make_private_dir("smlite-run-", tmp_path)
    dead = Path(
        subprocess.run(
            [sys.executable, "-c", DEAD_OWNER, str(tmp_path)], cwd=REPO, check=True, capture_output=True, text=True
        ).stdout.strip()
    )
    assert (dead / "profile.json").exists()
    # our pid, but another process's start time: the pid was reused
    (reused / private.OWNER_FILE).write_text(json.dumps({"pid": os.getpid(), "start_time": 1}))
    unowned = tmp_path / "smlite-run-older"  # no owner file: an older smlite, or one being made now
    unowned.mkdir()
    other = tmp_path / "unrelated-dir"
    other.mkdir()
    (other / private.OWNER_FILE).write_text(json.dumps({"pid": 999999999}))
    link = tmp_path / "smlite-run-link"
    link.symlink_to(dead)
    state = tmp_path / "sandbox.json"
    state.write_text(json.dumps({"owner_pid": 999999999, "admin_token": "x"}))
    live_state = tmp_path / "live.json"
    live_state.write_text(json.dumps({"owner_pid": os.getpid()}))

    removed = private.sweep_stale(tmp_path, state_files=[state, live_state])

    assert sorted(removed) == sorted([dead, reused, state])
    assert not dead.exists() and not reused.exists() and not state.exists()
    assert living.exists() and unowned.exists() and other.exists() and live_state.exists()
    assert link.is_symlink()
