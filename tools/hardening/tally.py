"""`make hardening` / `python -m tools.hardening`: run tests/hardening and print what was tried, counted.

Runs pytest over tests/hardening (extra arguments go to pytest) with
``SMLITE_HARDENING_DIR`` pointing at a temporary folder; the tests' session
writes its counters there (tests/hardening/support.py, one
``counters-<worker>.json`` per pytest process). This module merges them and
prints the table: bad inputs tried / handled (per channel), faults injected /
survived, messages acknowledged / delivered exactly once / lost (and
duplicated), intrusion attempts / refused per category with the number of
distinct kinds apart from the attempts ("743 attempts of 12 kinds"), property
examples, and what the run does not try (``NOT_TRIED``) - then
checks the bar (docs/hardening.md): at least 30 bad-input kinds
handled, every fault survived, 0 messages lost, 0 intrusions succeeded.

Exit code: 0 when the tests passed and the bar is met; 1 when a test failed or
the bar is missed; 2 when no counters were written (the tests did not run).
``--counters DIR`` prints the table of counters written earlier, without running.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
COUNTERS_ENV = "SMLITE_HARDENING_DIR"
MIN_BAD_INPUT_KINDS = 30


def merge(directory: Path) -> dict[str, Any] | None:
    """The counters of every ``counters-*.json`` in `directory`, merged; None if there is none."""
    files = sorted(Path(directory).glob("counters-*.json"))
    if not files:
        return None
    merged: dict[str, Any] = {
        "bad_inputs": {},
        "faults": {},
        "intrusions": {},
        "properties": {},
        "messages": {"acknowledged": 0, "delivered": 0, "lost": 0, "duplicated": 0},
    }
    for path in files:
        data = json.loads(path.read_text(encoding="utf-8"))
        merged["bad_inputs"].update(data.get("bad_inputs", {}))
        merged["faults"].update(data.get("faults", {}))
        for key, value in data.get("messages", {}).items():
            merged["messages"][key] = merged["messages"].get(key, 0) + value
        for kind, entry in data.get("intrusions", {}).items():
            total = merged["intrusions"].setdefault(kind, {"attempts": 0, "refused": 0, "varieties": []})
            total["attempts"] += entry["attempts"]
            total["refused"] += entry["refused"]
            for variety in entry.get("varieties") or [kind]:
                if variety not in total["varieties"]:
                    total["varieties"].append(variety)
        for name, count in data.get("properties", {}).items():
            merged["properties"][name] = merged["properties"].get(name, 0) + count
    return merged


def problems(counters: dict[str, Any]) -> list[str]:
    """What keeps the counters from meeting the bar; [] when they meet it."""
    out = []
    handled = [k for k, e in counters["bad_inputs"].items() if e.get("handled")]
    if len(handled) < MIN_BAD_INPUT_KINDS:
        out.append(f"only {len(handled)} bad-input kinds handled (at least {MIN_BAD_INPUT_KINDS} wanted)")
    unhandled = sorted(k for k, e in counters["bad_inputs"].items() if not e.get("handled"))
    if unhandled:
        out.append(f"bad inputs not handled: {', '.join(unhandled)}")
    if not counters["faults"]:
        out.append("no fault was injected")
    for name, entry in sorted(counters["faults"].items()):
        if not entry.get("survived"):
            why = f"not injected ({entry['skipped']})" if entry.get("skipped") else "not survived"
            out.append(f"fault {name}: {why}")
    messages = counters["messages"]
    if not messages["acknowledged"]:
        out.append("no acknowledged message was counted")
    if messages["lost"]:
        out.append(f"{messages['lost']} acknowledged deliveries lost")
    succeeded = {
        k: e["attempts"] - e["refused"] for k, e in counters["intrusions"].items() if e["attempts"] > e["refused"]
    }
    if succeeded:
        out.append(f"intrusions succeeded: {succeeded}")
    if not counters["intrusions"]:
        out.append("no intrusion was attempted")
    return out


def table(counters: dict[str, Any]) -> str:
    """The hardening table (see the module docstring)."""
    rows: list[tuple[str, Any, Any, Any]] = []
    bad = counters["bad_inputs"]
    ok = sum(1 for e in bad.values() if e.get("handled"))
    rows.append(("bad inputs (kinds)        tried / handled", len(bad), ok, len(bad) - ok))
    for channel in sorted({e.get("channel", "?") for e in bad.values()}):
        of = [e for e in bad.values() if e.get("channel") == channel]
        done = sum(1 for e in of if e.get("handled"))
        rows.append((f"  {channel}", len(of), done, len(of) - done))
    faults = counters["faults"]
    survived = sum(1 for e in faults.values() if e.get("survived"))
    rows.append(("faults              injected / survived", len(faults), survived, len(faults) - survived))
    for name, entry in sorted(faults.items()):
        state = 1 if entry.get("survived") else 0
        rows.append((f"  {name}" + (" (skipped)" if entry.get("skipped") else ""), 1, state, 1 - state))
    m = counters["messages"]
    rows.append(("messages  acknowledged / delivered / lost", m["acknowledged"], m["delivered"], m["lost"]))
    rows.append(("  duplicated (SMTP at-least-once window)", m["duplicated"], "", ""))
    intrusions = counters["intrusions"]
    attempts = sum(e["attempts"] for e in intrusions.values())
    refused = sum(e["refused"] for e in intrusions.values())
    kinds = sum(_kinds(e) for e in intrusions.values())
    rows.append(
        (
            f"intrusions  attempts / refused ({attempts} attempts of {kinds} kinds)",
            attempts,
            refused,
            attempts - refused,
        )
    )
    for kind, entry in sorted(intrusions.items()):
        rows.append(
            (
                f"  {kind} ({entry['attempts']} attempts of {_kinds(entry)} kinds)",
                entry["attempts"],
                entry["refused"],
                entry["attempts"] - entry["refused"],
            )
        )
    if counters["properties"]:
        rows.append(("property examples", sum(counters["properties"].values()), "", ""))
        for name, count in sorted(counters["properties"].items()):
            rows.append((f"  {name}", count, "", ""))
    width = max(len(r[0]) for r in rows) + 2
    lines = [f"{'':<{width}}{'tried':>8}{'ok':>8}{'not ok':>8}"]
    for label, tried, good, bad_count in rows:
        lines.append(f"{label:<{width}}{tried!s:>8}{good!s:>8}{bad_count!s:>8}")
    return "\n".join(lines)


def _kinds(entry: dict) -> int:
    """Distinct kinds of an intrusion category (its varieties; 1 for counters written without them)."""
    return len(entry.get("varieties") or [None])


# What the hardening run does NOT try, printed under the table so that nobody reads more into it.
NOT_TRIED = (
    "TLS and SMTP AUTH (neither is served by the reference gateway in this run)",
    "timing side channels (token and credential comparison times)",
    "denial of service by connection or request floods here (`make soak` tries them: docs/hardening.md, Soak)",
    "SMTP smuggling, pipelining desync and BDAT/CHUNKING",
    "SMTPUTF8 end to end (the gateway refuses non-ASCII local parts where they enter)",
    "browser attacks other than script injection and login CSRF (clickjacking, cache poisoning, CORS)",
    "the host itself beyond file modes (other local users' processes, a hostile Mailpit)",
)


def report(counters: dict[str, Any]) -> tuple[str, bool]:
    """The table, what is not tried, and the verdict line; True when the bar is met."""
    missing = problems(counters)
    verdict = (
        "hardened: >= 30 bad-input kinds handled, every fault survived, 0 lost, 0 intrusions succeeded"
        if not missing
        else "NOT hardened:\n  " + "\n  ".join(missing)
    )
    untried = "not tried:\n" + "\n".join(f"  - {line}" for line in NOT_TRIED)
    return table(counters) + "\n\n" + untried + "\n\n" + verdict, not missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.hardening",
        description=__doc__.split("\n\n")[0],
        epilog="any other argument goes to pytest, e.g. -k faults -x",
    )
    parser.add_argument("--counters", type=Path, metavar="DIR", help="print the table of counters written earlier")
    args, pytest_args = parser.parse_known_args(argv)
    if args.counters:
        counters = merge(args.counters)
        if counters is None:
            print(f"smlite hardening: no counters-*.json in {args.counters}", file=sys.stderr)
            return 2
        text, ok = report(counters)
        print(text)
        return 0 if ok else 1
    with tempfile.TemporaryDirectory(prefix="smlite-hardening-") as out:
        env = dict(os.environ, **{COUNTERS_ENV: out})
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        command = [
            sys.executable,
            "-m",
            "pytest",
            str(REPO / "tests" / "hardening"),
            "-q",
            "-p",
            "no:cacheprovider",
            *pytest_args,
        ]
        started = time.monotonic()
        tests = subprocess.run(command, cwd=REPO, env=env)
        elapsed = time.monotonic() - started
        counters = merge(Path(out))
    if counters is None:
        print(f"smlite hardening: the tests wrote no counters (pytest exited {tests.returncode})", file=sys.stderr)
        return 2
    text, ok = report(counters)
    outcome = "passed" if tests.returncode == 0 else f"FAILED (pytest exit {tests.returncode})"
    print(f"\nsmlite hardening: tests/hardening {outcome} in {elapsed:.1f}s\n")
    print(text)
    return 0 if ok and tests.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
