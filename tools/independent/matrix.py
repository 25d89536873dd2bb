"""Owns: the behaviour matrix: the conformance suite against the independent gateway, correct and per behaviour.

    python -m tools.independent.matrix [--only NAME ...] [--kind deviation|alternative] [--json OUT] [--seed N]

Per run: a fresh Mailpit (harness/sandbox/mailpit.py) and a fresh independent gateway
(fresh SQLite file) with `behaviour = NAME`, a target profile written from their
ports (plus the behaviour's [classification] overrides, as its vendor would
write them), then `smlite run --target PROFILE --seed N`; the verdict and failed
scenarios come from the run's results.json. Prints one table row per run.
"""

from __future__ import annotations

import argparse
import json
import secrets
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness.sandbox import procs
from harness.sandbox.mailpit import MailpitProcess
from tools.independent import behaviours as B

REPO = Path(__file__).resolve().parents[2]
SMLITE = REPO / ".venv" / "bin" / "smlite"
DOMAINS = ["northwind.test", "northwind-eu.test"]
DEFAULT_SEED = 4242


@dataclass
class Outcome:
    name: str
    kind: str
    expected: str
    verdict: str = ""
    ok: bool = False
    failed: list[str] = field(default_factory=list)
    duration_s: float = 0.0
    report: str = ""
    error: str = ""
    contract_differences: int = 0

    @property
    def result(self) -> str:
        if self.error:
            return "ERROR"
        if self.kind == B.DEVIATION:
            return "caught" if self.ok else "MISSED"
        if self.kind == B.CONTRACT:
            if self.ok:
                return f"reported ({self.contract_differences})"
            return "WRONGLY FAILED" if not self.verdict.startswith("Conformant") else "NOT REPORTED"
        return "accepted" if self.ok else "WRONGLY FAILED"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value))  # a JSON string is a valid TOML basic string


def _toml(section: dict[str, Any]) -> str:
    return "".join(f"{key} = {_toml_value(value)}\n" for key, value in section.items())


class Running:
    """Mailpit + the independent gateway for one behaviour ('' = correct), in `run_dir`."""

    def __init__(self, run_dir: Path, behaviour: str = ""):
        self.run_dir, self.behaviour = run_dir, behaviour
        self.token = secrets.token_hex(16)
        self.mailpit = MailpitProcess(run_dir / "mailpit")
        self.gateway: procs.ChildProcess | None = None
        self.ports: dict[str, int] = {}

    def start(self) -> Running:
        self.mailpit.start()
        ready = self.run_dir / "ready.json"
        config = {
            "name": "Northwind Secure Mail",
            "internal_domains": DOMAINS,
            "database": str(self.run_dir / "northwind.sqlite3"),
            "relay_host": self.mailpit.smtp_host,
            "relay_port": self.mailpit.smtp_port,
            "admin_token": self.token,
            "test_clock": True,
            "behaviour": self.behaviour,
            "ready_file": str(ready),
        }
        config_path = self.run_dir / "northwind.toml"
        config_path.write_text(_toml(config), encoding="utf-8")
        self.gateway = procs.start_process(
            "northwind",
            [sys.executable, "-m", "tools.independent.gateway", "--config", str(config_path)],
            self.run_dir / "northwind.log",
            cwd=REPO,
        )

        def is_ready() -> bool:
            assert self.gateway is not None
            if not self.gateway.alive():
                raise RuntimeError(f"the independent gateway exited: {self.gateway.log_tail()}")
            return ready.exists()

        procs.wait_until(is_ready, 20, "the independent gateway writing its ready file")
        self.ports = json.loads(ready.read_text())
        return self

    def stop(self) -> None:
        if self.gateway is not None:
            self.gateway.stop()
        self.mailpit.stop()

    def __enter__(self) -> Running:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def write_profile(self, path: Path) -> Path:
        classification = {
            "banner_text": "NORTHWIND SECURE: this message was sent to you as a Secure Message.",
            "notification_subject": r"^\[Northwind Secure\] ",
            "portal_link": r"https?://[^\s\"'<>]+/sm-portal/m/nw-[0-9a-f]{32}",
        }
        if self.behaviour:
            classification.update(B.get(self.behaviour).classification)
        text = (
            _toml(
                {
                    "name": "Northwind Secure Mail",
                    "version": "1.0.0",
                    # Northwind's own driver (tools/independent/driver.py): the reference one plus sign-in
                    "driver": "tools.independent.driver:NorthwindDriver",
                    "internal_domains": DOMAINS,
                    "delivery_timeout_s": 10,
                    # the first six, plus the opt-in page check (Northwind serves /sm-portal/m/{token}),
                    # the SM Portal sign-in of its own driver and the whole message (parts, attachments,
                    # raw_url: docs/contract.md, "The whole message")
                    "capabilities": [
                        "smtp-submission",
                        "mpp",
                        "sm-portal",
                        "admin-console",
                        "clock",
                        "sm-portal-index",
                        "sm-portal-page",
                        "sm-portal-sign-in",
                        "sm-portal-whole-message",
                    ],
                }
            )
            + "\n[target]\n"
            + _toml(
                {
                    "http": f"http://127.0.0.1:{self.ports['http_port']}",
                    "smtp": f"127.0.0.1:{self.ports['smtp_port']}",
                    "admin_token": self.token,
                }
            )
            + "\n[mailpit]\n"
            + _toml({"api": self.mailpit.api_url, "smtp": f"{self.mailpit.smtp_host}:{self.mailpit.smtp_port}"})
            + "\n[classification]\n"
            + _toml(classification)
        )
        path.write_text(text, encoding="utf-8")
        return path


def run_one(behaviour: str, seed: int, reports_dir: Path, select: str | None = None) -> Outcome:
    entry = B.get(behaviour) if behaviour else None
    outcome = Outcome(
        behaviour or "(correct)", entry.kind if entry else "correct", entry.expected if entry else "Conformant"
    )
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="nw-matrix-") as tmp:
        run_dir = Path(tmp)
        try:
            with Running(run_dir, behaviour) as running:
                profile = running.write_profile(run_dir / "profile.toml")
                command = [
                    str(SMLITE),
                    "run",
                    "--target",
                    str(profile),
                    "--seed",
                    str(seed),
                    "-q",
                    "--reports-dir",
                    str(reports_dir),
                ]
                if select:
                    command += ["-k", select]
                done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=1800)
                report = next(
                    (
                        line.split("report:", 1)[1].strip()
                        for line in done.stdout.splitlines()
                        if line.startswith("report:")
                    ),
                    "",
                )
                results_path = _results_path(report, reports_dir)
                if results_path is None:
                    outcome.error = (
                        f"no results.json (exit {done.returncode}): {(done.stdout + done.stderr).strip()[-500:]}"
                    )
                else:
                    data = json.loads(results_path.read_text(encoding="utf-8"))
                    outcome.report = str(results_path)
                    outcome.verdict = _verdict(data)
                    outcome.failed = [s["name"] for s in data["scenarios"] if s["status"] == "failed"]
                    outcome.contract_differences = int((data.get("summary") or {}).get("contract_differences") or 0)
                    harness_errors = [s["name"] for s in data["scenarios"] if s["status"] == "harness_error"]
                    if harness_errors and not outcome.failed:
                        outcome.error = f"harness errors: {harness_errors[:3]}"
        except Exception as exc:
            outcome.error = f"{type(exc).__name__}: {exc}"
    outcome.duration_s = round(time.monotonic() - started, 1)
    if outcome.kind == B.DEVIATION:
        outcome.ok = outcome.verdict == "Not conformant"
    elif outcome.kind == B.CONTRACT:
        outcome.ok = outcome.verdict.startswith("Conformant") and outcome.contract_differences > 0
    else:
        outcome.ok = outcome.verdict.startswith("Conformant")
    return outcome


def _results_path(report: str, reports_dir: Path) -> Path | None:
    if report:
        candidate = Path(report)
        candidate = candidate if candidate.is_absolute() else REPO / candidate
        results = candidate.parent / "results.json" if candidate.suffix else candidate / "results.json"
        if results.exists():
            return results
    runs = sorted((p for p in reports_dir.glob("*/results.json")), key=lambda p: p.stat().st_mtime)
    return runs[-1] if runs else None


def _verdict(data: dict[str, Any]) -> str:
    summary = data.get("summary") or {}
    if summary.get("verdict"):
        return str(summary["verdict"])
    statuses = [s["status"] for s in data["scenarios"]]
    if "failed" in statuses:
        return "Not conformant"
    if "harness_error" in statuses or not statuses:
        return "Incomplete"
    return "Conformant"


def print_row(o: Outcome) -> None:
    caught_by = "; ".join(o.failed[:2]) + (f" (+{len(o.failed) - 2})" if len(o.failed) > 2 else "")
    print(
        f"{o.name:40} {o.kind:11} {o.expected:15} {o.verdict or o.error[:40]:30} {o.result:15} "
        f"{o.duration_s:6.1f}s  {caught_by}",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.independent.matrix", description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="+", metavar="NAME", help="only these behaviours ('correct' for none)")
    parser.add_argument("--kind", choices=[B.DEVIATION, B.ALTERNATIVE, B.CONTRACT])
    parser.add_argument("--no-correct", action="store_true", help="skip the run of the correct implementation")
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write the outcomes as JSON (after each run)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("-k", dest="select", help="only scenarios matching EXPR (passed to smlite run -k)")
    parser.add_argument("--list", action="store_true", help="list the catalogue and exit")
    args = parser.parse_args(argv)
    if args.list:
        for b in B.CATALOGUE:
            print(f"{b.name:40} {b.kind:11} {b.ref:45} {b.description}")
        print(
            f"{len(B.deviations())} deviations, {len(B.alternatives())} alternatives, "
            f"{len(B.contract_differences())} contract differences"
        )
        return 0
    names: list[str] = []
    if args.only:
        for name in args.only:
            if name != "correct":
                try:
                    B.get(name)
                except KeyError as exc:
                    print(f"matrix: {exc.args[0]}", file=sys.stderr)
                    return 2
            names.append("" if name == "correct" else name)
    else:
        names = ([] if args.no_correct else [""]) + [
            b.name for b in B.CATALOGUE if not args.kind or b.kind == args.kind
        ]
    reports_dir = Path(tempfile.mkdtemp(prefix="nw-matrix-reports-"))
    print(f"matrix: {len(names)} run(s), seed {args.seed}, reports in {reports_dir}", flush=True)
    print(
        f"{'name':40} {'kind':11} {'expected':15} {'verdict':30} {'result':15} {'time':>7}  caught by / failed",
        flush=True,
    )
    outcomes = []
    for name in names:
        outcome = run_one(name, args.seed, reports_dir, args.select)
        outcomes.append(outcome)
        print_row(outcome)
        if args.json:
            args.json.write_text(json.dumps([asdict(o) | {"result": o.result} for o in outcomes], indent=2))
    deviations = [o for o in outcomes if o.kind == B.DEVIATION]
    alternatives = [o for o in outcomes if o.kind == B.ALTERNATIVE]
    contract = [o for o in outcomes if o.kind == B.CONTRACT]
    print(
        f"\ndeviations caught: {sum(o.ok for o in deviations)}/{len(deviations)}; "
        f"alternatives accepted: {sum(o.ok for o in alternatives)}/{len(alternatives)}; "
        f"contract differences reported (and Conformant): {sum(o.ok for o in contract)}/{len(contract)}; "
        f"correct: {', '.join(o.verdict for o in outcomes if o.kind == 'correct') or 'not run'}"
    )
    return 0 if all(o.ok for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
