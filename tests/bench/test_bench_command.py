"""The bench command (bench/) runs end to end on a real sandbox: small counts,
every row of the table printed, the JSON written. No timing is asserted here;
speed is what the bench measures, not what a test can hold on a shared machine."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.table import ROWS, TARGETS

pytestmark = pytest.mark.sandbox
REPO = Path(__file__).resolve().parents[2]


def test_bench_prints_every_row_and_writes_json(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--repeat",
            "1",
            "--select",
            "definitions",
            "--latency-samples",
            "3",
            "--ingest-messages",
            "12",
            "--concurrency",
            "2",
            "--cold-starts",
            "1",
            "--out",
            str(tmp_path),
            "--load-seconds",
            "3",
            "--failing-variant",
            "internal-as-external",
            "--delays",
            "0.5",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    for row in ROWS:
        assert any(line.startswith(row) for line in lines), (row, done.stdout)
    saved = list(tmp_path.glob("*.json"))
    assert len(saved) == 1
    result = json.loads(saved[0].read_text())
    assert set(TARGETS) <= set(result["summary"])
    assert all(isinstance(result["summary"][key], (int, float)) for key in TARGETS)
    assert result["suite"]["1"]["best"]["exit_code"] == 0
    assert result["suite"]["1"]["best"]["verdict"].startswith("Conformant")
    assert result["suite_mail"]["deliveries"] >= 1 and result["floor"]["best"]["messages"] >= 1
    assert result["table"] in done.stdout
    assert {r["variant"] for r in result["failing"]["variants"]} == {"internal-as-external"}
    assert result["failing"]["variants"][0]["exit"] == 1, "a broken variant's run must fail"
    assert result["failing"]["passing_exit"] == 0
    for row in ("into_mailpit", "into_mailpit_2_workers", "through_gateway"):
        assert result["load"][row]["accepted"] > 0, row
