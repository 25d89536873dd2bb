"""The hardening table (tests/hardening/__main__.py): merging per-worker counters, the table, and the bar it checks."""

from __future__ import annotations

import json

from tools.hardening.tally import merge, problems, report


def counters(kinds: int = 31, lost: int = 0, refused_all: bool = True, fault_ok: bool = True) -> dict:
    return {
        "bad_inputs": {f"k{i}": {"channel": "smtp" if i % 2 else "http", "handled": True} for i in range(kinds)},
        "faults": {"mailpit-killed": {"survived": fault_ok}, "ro-disk": {"survived": True}},
        "messages": {"acknowledged": 10, "delivered": 10 - lost, "lost": lost, "duplicated": 0},
        "intrusions": {"guessed token": {"attempts": 5, "refused": 5 if refused_all else 4}},
        "properties": {"policy": 15},
    }


def test_a_good_run_meets_the_bar_and_shows_its_counts():
    text, ok = report(counters())
    assert ok and "hardened:" in text and "NOT" not in text
    line = next(item for item in text.splitlines() if item.startswith("bad inputs"))
    assert line.split()[-3:] == ["31", "31", "0"]
    assert next(item for item in text.splitlines() if item.startswith("messages")).split()[-3:] == ["10", "10", "0"]
    assert "  smtp" in text and "  guessed token" in text


def test_each_shortfall_is_named():
    assert problems(counters(kinds=29)) == ["only 29 bad-input kinds handled (at least 30 wanted)"]
    assert problems(counters(lost=1)) == ["1 acknowledged deliveries lost"]
    assert problems(counters(refused_all=False)) == ["intrusions succeeded: {'guessed token': 1}"]
    assert problems(counters(fault_ok=False)) == ["fault mailpit-killed: not survived"]
    text, ok = report(counters(lost=2))
    assert not ok and "NOT hardened" in text


def test_counters_of_several_workers_are_merged(tmp_path):
    one, two = counters(kinds=3), counters(kinds=0)
    two["bad_inputs"] = {"z": {"channel": "cli", "handled": True}}
    (tmp_path / "counters-gw0.json").write_text(json.dumps(one))
    (tmp_path / "counters-gw1.json").write_text(json.dumps(two))
    merged = merge(tmp_path)
    assert len(merged["bad_inputs"]) == 4
    assert merged["messages"]["acknowledged"] == 20
    assert merged["intrusions"]["guessed token"] == {"attempts": 10, "refused": 10, "varieties": ["guessed token"]}
    assert merge(tmp_path / "nothing-here") is None


def test_kinds_are_counted_apart_from_attempts_and_the_untried_is_named(tmp_path):
    one, two = counters(), counters()
    one["intrusions"]["guessed token"]["varieties"] = ["random", "truncated"]
    two["intrusions"]["guessed token"]["varieties"] = ["random", "one character changed"]
    (tmp_path / "counters-gw0.json").write_text(json.dumps(one))
    (tmp_path / "counters-gw1.json").write_text(json.dumps(two))
    text, ok = report(merge(tmp_path))
    assert ok
    assert "(10 attempts of 3 kinds)" in next(item for item in text.splitlines() if item.startswith("intrusions"))
    assert "  guessed token (10 attempts of 3 kinds)" in text
    assert "not tried:" in text and "timing side channels" in text
