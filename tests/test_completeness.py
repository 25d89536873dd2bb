"""A verdict covers every selected scenario: runs that lose scenarios are Incomplete.

Each test drives a real `smlite run` (embedded sandbox: real Mailpit, real gateway) as a
user would, and breaks it from outside: a killed pytest-xdist worker, a reader that closes
the output pipe, a -k that matches nothing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SMLITE = [sys.executable, "-m", "harness.cli.main"]

pytestmark = pytest.mark.sandbox


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def latest_target(reports: Path) -> str | None:
    link = reports / "latest"
    return os.readlink(link) if link.is_symlink() else None


def run_dirs(reports: Path) -> list[Path]:
    return sorted(p for p in reports.iterdir() if p.is_dir() and not p.is_symlink()) if reports.exists() else []


def scenario_count(select: str = "") -> int:
    """How many scenarios the suite has, or match -k ``select`` (pytest's own collection, no target needed)."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "steps/test_conformance.py",
            "-p",
            "harness.conformance.plugin",
            *(["-k", select] if select else []),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return int(done.stdout.strip().splitlines()[-1].split()[0].split("/")[0])  # "20/62 tests collected"


@pytest.fixture
def reports(tmp_path: Path) -> Path:
    """A reports folder whose `latest` already points at an earlier complete run."""
    folder = tmp_path / "reports"
    done = subprocess.run(
        [*SMLITE, "run", "-q", "-k", "T2", "--reports-dir", str(folder)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert latest_target(folder) is not None
    return folder


def test_a_killed_worker_makes_the_run_incomplete_and_names_the_lost_scenario(reports):
    before = latest_target(reports)
    process = subprocess.Popen(
        [*SMLITE, "run", "-n", "2", "--reports-dir", str(reports)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    watchdog = threading.Timer(300, process.kill)
    watchdog.start()
    killed: list[int] = []
    try:
        reported = 0
        for line in process.stderr:
            if line.startswith("["):
                reported += 1
                # a worker killed between two scenarios loses nothing (xdist hands its queue to
                # another): kill one at three moments, so at least one dies inside a scenario
                if reported in (3, 6, 9):
                    suite = next(p for p in children(process.pid) if "pytest" in cmdline(p))
                    workers = [p for p in children(suite) if "python" in cmdline(p) and p not in killed]
                    if workers:
                        killed.append(workers[0])
                        os.kill(workers[0], signal.SIGKILL)
        stdout, _ = process.communicate(timeout=300)
    finally:
        watchdog.cancel()
    assert killed, "the run ended before a worker could be killed"
    assert process.returncode == 2, stdout
    assert "verdict: Incomplete" in stdout
    assert "never reported" in stdout and "crashed" in stdout
    assert latest_target(reports) == before, "latest moved to an incomplete run"
    newest = run_dirs(reports)[-1]
    data = json.loads((newest / "results.json").read_text())
    assert data["summary"]["verdict"] == "Incomplete" and data["summary"]["exit_code"] == 2
    assert data["missing"] and all(m["id"] and m["reason"] for m in data["missing"])
    assert any("crashed" in m["reason"] for m in data["missing"])
    reported_ids = {s["id"] for s in data["scenarios"]}
    assert not reported_ids & {m["id"] for m in data["missing"]}
    assert len(reported_ids) + len(data["missing"]) == scenario_count()


def test_a_closed_output_pipe_neither_stops_the_run_nor_changes_its_verdict(reports):
    before = set(run_dirs(reports))
    shell = f'{" ".join(SMLITE)} run --reports-dir {reports} 2>&1 | head -n 6; echo "exit=${{PIPESTATUS[0]}}" >&2'
    done = subprocess.run(["bash", "-c", shell], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert len(done.stdout.splitlines()) == 6
    assert "exit=0" in done.stderr, done.stderr
    (run,) = set(run_dirs(reports)) - before
    data = json.loads((run / "results.json").read_text())
    assert data["summary"]["verdict"] == "Conformant" and not data["missing"]
    assert len(data["scenarios"]) == scenario_count()
    assert latest_target(reports) == run.name


def test_a_selection_that_matches_nothing_says_so_and_writes_no_report(reports):
    before, latest = run_dirs(reports), latest_target(reports)
    done = subprocess.run(
        [*SMLITE, "run", "-k", "NOMATCH_xyz", "--reports-dir", str(reports)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("smlite:")]
    assert len(errors) == 1 and "NOMATCH_xyz" in errors[0] and "Traceback" not in done.stderr
    assert run_dirs(reports) == before and latest_target(reports) == latest


def test_progress_counts_the_selection(reports):
    done = subprocess.run(
        [*SMLITE, "run", "-k", "T3", "--reports-dir", str(reports)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    progress = [line for line in done.stderr.splitlines() if line.startswith("[")]
    selected = scenario_count("T3")
    assert 0 < selected < scenario_count() and done.returncode == 0 and len(progress) == selected
    assert progress[0].startswith(f"[  1/{selected}]") and progress[-1].startswith(f"[{selected:>3}/{selected}]")


def test_a_mail_sandbox_refusing_every_delivery_is_a_harness_error_within_seconds(tmp_path):
    """Mailpit in chaos (451 at RCPT for every message): the harness's control message fails, so
    every scenario is a harness error and the run Incomplete — not minutes of timeouts blamed on the target."""
    import time

    from harness import results as R
    from harness.files import toml_text
    from harness.profile.schema import from_sandbox
    from harness.sandbox.lifecycle import Sandbox

    with Sandbox(mailpit_options={"chaos": True}) as sandbox:
        profile = from_sandbox(sandbox.info())
        path = tmp_path / "target.toml"
        path.write_text(toml_text({k: v for k, v in profile.to_dict().items() if k != "source_path"}))
        sandbox.mailbox.set_chaos(recipient=(451, 100))
        started = time.monotonic()
        done = subprocess.run(
            [*SMLITE, "run", "--target", str(path), "--reports-dir", str(tmp_path / "r")],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=300,
        )
        elapsed = time.monotonic() - started
    assert done.returncode == 2, done.stdout + done.stderr
    assert elapsed < 30, f"took {elapsed:.0f}s"
    (run,) = [p for p in (tmp_path / "r").iterdir() if p.is_dir() and not p.is_symlink()]
    results = R.RunResults.load(run / "results.json")
    assert results.verdict() == "Incomplete" and results.counts()[R.FAILED] == 0
    errors = [s for s in results.scenarios if s.status == R.HARNESS_ERROR]
    assert errors and all("mail sandbox is not working" in s.message for s in errors)
