"""The `smlite` command line as a user meets it: help, clear errors with exit 2, simulate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def smlite(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli.main", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, **(env or {})),
    )


def test_help_answers_the_usual_questions():
    done = smlite("--help")
    assert done.returncode == 0
    for word in ("run", "sandbox", "simulate", "selfcheck", "report", "target", "exit codes"):
        assert word in done.stdout
    assert "--seed" in smlite("run", "--help").stdout


def test_no_command_prints_help_and_exits_2():
    done = smlite()
    assert done.returncode == 2 and "COMMAND" in done.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["simulate", "--app", "thunderbird", "--definition", "All", "--from", "a@corp.example", "--to", "b@x.org"],
            "unknown application 'thunderbird'",
        ),
        (
            ["simulate", "--app", "mpp", "--definition", "Secret", "--from", "a@corp.example", "--to", "b@x.org"],
            "unknown definition 'Secret'",
        ),
        (["run", "--target", "/nonexistent/profile.toml"], "Cannot read target profile"),
        (["report", "/nonexistent/results.json"], "No such results file"),
        (["selfcheck", "--variant", "no-such-variant"], "Unknown variant"),
    ],
)
def test_bad_input_is_one_clear_line_and_exit_2(args, message):
    done = smlite(*args)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr


def test_simulate_without_a_running_sandbox_says_how_to_get_one(tmp_path):
    done = smlite(
        "simulate",
        "--app",
        "mpp",
        "--definition",
        "All",
        "--from",
        "a@corp.example",
        "--to",
        "b@corp.example",
        env={"XDG_STATE_HOME": str(tmp_path)},
    )
    assert done.returncode == 2 and "smlite sandbox up" in done.stderr and "--ephemeral" in done.stderr


@pytest.mark.sandbox
def test_simulate_mpp_all_between_internal_users_is_table_3_row_3():
    done = smlite(
        "simulate",
        "--ephemeral",
        "--app",
        "mpp",
        "--definition",
        "All",
        "--from",
        "a@corp.example",
        "--to",
        "b@corp.example",
    )
    assert done.returncode == 0, done.stderr
    assert "matches the source, T3-r3" in done.stdout
    lines = [line.split() for line in done.stdout.splitlines() if line.startswith("  ")]
    assert [line[-1] for line in lines] == ["matches", "matches", "matches"]
    assert "Notification" in lines[0] and "Notification" in lines[1] and "Yes" in lines[2]


@pytest.mark.sandbox
def test_simulate_outlook_external_to_an_external_address_as_json():
    done = smlite(
        "simulate",
        "--ephemeral",
        "--json",
        "--app",
        "outlook",
        "--definition",
        "External",
        "--from",
        "a@corp.example",
        "--to",
        "x@example.net",
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    recipient = report["recipients"][0]
    assert recipient["source_row"] == "T1-r1" and recipient["matches"]
    assert recipient["columns"][0]["observed"] == "Notification"


@pytest.mark.sandbox
def test_simulate_refused_message_exits_1_and_says_why():
    done = smlite(
        "simulate",
        "--ephemeral",
        "--app",
        "outlook",
        "--definition",
        "All",
        "--from",
        "a@corp.example",
        "--to",
        "not-an-address",
    )
    assert done.returncode == 1
    assert "refused by the target" in done.stdout
