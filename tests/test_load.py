"""`smlite load` (harness/load/command.py, load_run.py, load_user.py, load_check.py).

A short, slow load against the embedded sandbox (real Mailpit, real gateway)
must report a conforming sample and no lost message; the argument bounds and
the loopback rule are checked without sending anything.
"""

from __future__ import annotations

import argparse
import json

import pytest

from harness.errors import UsageError
from harness.load import command as load
from harness.profile.schema import TargetProfile


def arguments(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    load.add_arguments(parser)
    return parser.parse_args(list(argv))


@pytest.mark.sandbox
def test_short_load_conforms_and_loses_nothing(tmp_path, capfd):
    output = tmp_path / "load.json"
    code = load.main(
        arguments(
            "--users",
            "3",
            "--rate",
            "4",
            "--duration",
            "5",
            "--seed",
            "5",
            "--sample-every",
            "4",
            "--json",
            str(output),
        )
    )
    printed = capfd.readouterr().out
    result = json.loads(output.read_text())
    assert code == 0, printed
    assert result["accepted"] > 0 and result["errors"] == 0 and result["refused"] == 0
    assert result["deliveries"]["lost"] == 0
    assert result["deliveries"]["found"] == result["deliveries"]["expected"] >= result["accepted"]
    assert result["sample"]["conforming"] and result["sample"]["messages"] >= 1
    assert result["sample"]["passed"] > 0 and result["sample"]["failed"] == 0
    assert set(result["by_application"]) <= {"outlook", "mac", "mpp"}
    for line in ("throughput", "accept ", "delivery ", "lost 0", "conforming", "verdict: PASS"):
        assert line in printed


@pytest.mark.parametrize(
    "argv, what",
    [
        (("--users", "0"), "--users"),
        (("--users", "501"), "--users"),
        (("--rate", "0"), "--rate"),
        (("--duration", "7200"), "--duration"),
        (("--sample-every", "0"), "sampling"),
        (("--rate", "2001"), "--rate"),
        (("--apps", "fax"), "--apps"),
        (("--apps", " , "), "--apps"),
        (("--apps", "outlook,pager"), "--apps"),
    ],
)
def test_bounds_are_enforced(argv, what):
    with pytest.raises(UsageError, match=what if what.startswith("--") else "(?i)sampling"):
        load.check_arguments(arguments(*argv))


def test_only_loopback_targets(monkeypatch):
    monkeypatch.delenv(load.ALLOW_REMOTE_ENV, raising=False)
    local = TargetProfile(
        name="t",
        target={"smtp": "127.0.0.1:2525", "http": "http://localhost:8080", "admin_token": "x"},
        mailpit={"api": "http://[::1]:8025"},
    )
    load.require_loopback(local)
    remote = TargetProfile(
        name="t",
        target={"smtp": "192.0.2.10:25", "http": "http://127.0.0.1:1"},
        mailpit={"api": "http://127.0.0.1:8025"},
    )
    with pytest.raises(UsageError, match="loopback only"):
        load.require_loopback(remote)
    with pytest.raises(UsageError, match="mailpit"):
        load.require_loopback(TargetProfile(name="t", target={"smtp": "127.0.0.1:25"}))
