"""Locust's master/worker mode, the way a user goes past one process or machine (docs/load.md):
a master and two workers as separate processes on loopback, against a real sandbox. The
workers' own counts (one summary line each) must add up to the master's aggregated statistics,
and each worker must have lost nothing and found its sample conforming."""

from __future__ import annotations

import csv
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
LOCUSTFILE = REPO / "harness" / "load" / "locustfile.py"
LINE = re.compile(
    r"smlite load \[(?P<tag>[^,]+), pid (?P<pid>\d+)\]: (?P<accepted>\d+) accepted, (?P<refused>\d+) "
    r"refused, (?P<errors>\d+) errors; deliveries expected (?P<expected>\d+), in Mailpit (?P<found>\d+), "
    r"lost (?P<lost>\d+); .*→ (?P<verdict>conforming|NOT CONFORMING)"
)

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_master_and_two_workers_add_up(tmp_path):
    from harness.profile.schema import from_sandbox
    from harness.sandbox.lifecycle import Sandbox

    port = free_port()
    with Sandbox() as sandbox:
        profile = from_sandbox(sandbox.info()).save_json(tmp_path / "profile.json")
        env = dict(
            os.environ,
            SMLITE_LOAD_PROFILE=str(profile),
            SMLITE_LOAD_RATE_PER_USER="2",
            SMLITE_LOAD_SAMPLE_EVERY="5",
            PYTHONPATH=str(REPO),
        )
        locust = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE)]
        master = subprocess.Popen(
            [
                *locust,
                "--master",
                "--headless",
                "--expect-workers",
                "2",
                "-u",
                "6",
                "-r",
                "6",
                "-t",
                "6s",
                "--master-bind-host",
                "127.0.0.1",
                "--master-bind-port",
                str(port),
                "--csv",
                str(tmp_path / "run"),
                "--only-summary",
                "--stop-timeout",
                "20",
            ],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        workers = [
            subprocess.Popen(
                [*locust, "--worker", "--master-host", "127.0.0.1", "--master-port", str(port)],
                cwd=REPO,
                env=dict(env, SMLITE_LOAD_SEED=str(seed)),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for seed in (1, 2)
        ]
        try:
            master_out, _ = master.communicate(timeout=180)
            outputs = [worker.communicate(timeout=120)[0] for worker in workers]
        finally:
            for process in (master, *workers):
                if process.poll() is None:
                    process.kill()
    lines = [LINE.search(out) for out in outputs]
    assert all(lines), "a worker printed no summary line:\n" + "\n---\n".join(outputs)
    assert len({m["pid"] for m in lines}) == 2 and len({m["tag"] for m in lines}) == 2
    with open(tmp_path / "run_stats.csv", newline="") as stats:
        total = next(row for row in csv.DictReader(stats) if row["Name"] == "Aggregated")
    sent = sum(int(m["accepted"]) + int(m["refused"]) + int(m["errors"]) for m in lines)
    assert sent > 0 and int(total["Request Count"]) == sent, (total, [m.group(0) for m in lines], master_out[-2000:])
    assert all(m["lost"] == "0" and m["verdict"] == "conforming" and m["errors"] == "0" for m in lines), [
        m.group(0) for m in lines
    ]
