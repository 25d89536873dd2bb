"""``python -m bench.delays``: what a slow target costs a run — latencies in series.

Owns the bench rows "suite at delay D": ``smlite run`` (wall, ``-q``, one fresh sandbox each, never in
parallel) against the reference gateway with its delay knob (``delivery_delay_s``, ``delivery_jitter_s``,
docs/contract.md) at 0, then at each delay of ``--delays`` — ``0.5``, ``2``, and ``j1.5`` (every
delivery a random 0–1.5 s late: deliveries overtake one another) by default — and reports each as
**latencies in series**: (time − time at 0 delay) ÷ delay. A suite that waited for each delivery one
after another would pay about 115 of them; one whose waits overlap pays the longest chain of
dependent deliveries in one scenario (about 4) plus its absence proofs. For jitter the delay is the
mean (0.75 s for j1.5), the harder reading; the max is given beside it. Target: at most 10 more than
at 0 delay, each run Conformant. The runs explore nothing (``--explore-budget 0``): the latency target
is the scenarios', and exploration's default budget is a share of their time by design. Saves ``bench/results/delays-<stamp>.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness.files import toml_text
from harness.profile.schema import from_sandbox
from harness.sandbox.lifecycle import Sandbox

BENCH = Path(__file__).resolve().parent
TARGET_LATENCIES = 10


def parse_delay(text: str) -> tuple[float, float]:
    """``"2"`` → (2, 0) fixed; ``"j1.5"`` → (0, 1.5) jitter."""
    return (0.0, float(text[1:])) if text.startswith("j") else (float(text), 0.0)


def timed_run(delay_s: float, jitter_s: float, select: str | None, folder: Path) -> dict[str, Any]:
    settings = {"delivery_delay_s": delay_s, "delivery_jitter_s": jitter_s, "delivery_seed": 11}
    with Sandbox(settings=settings) as sandbox:
        profile = from_sandbox(sandbox.info())
        path = folder / f"delay-{delay_s}-{jitter_s}.toml"
        path.write_text(toml_text({k: v for k, v in profile.to_dict().items() if k != "source_path"}))
        command = [
            sys.executable,
            "-m",
            "harness.cli.main",
            "run",
            "-q",
            "--seed",
            "7",
            "--target",
            str(path),
            "--reports-dir",
            str(folder / "reports"),
            "--explore-budget",  # the scenarios' latencies: exploration's budget is a share of their time
            "0",
        ]
        if select:
            command += ["-k", select]
        started = time.perf_counter()
        done = subprocess.run(command, cwd=BENCH.parent, capture_output=True, text=True)
        seconds = time.perf_counter() - started
    verdict = next(
        (
            line.split("verdict: ", 1)[1].split("  (")[0]
            for line in done.stdout.splitlines()
            if line.startswith("verdict: ")
        ),
        "no verdict",
    )
    return {
        "delay_s": delay_s,
        "jitter_s": jitter_s,
        "seconds": round(seconds, 2),
        "exit": done.returncode,
        "verdict": verdict,
    }


def measure(delays: list[str], select: str | None = None, say=print) -> dict[str, Any]:
    """The run at 0 delay, then one per delay; ``say`` gets one line as each finishes."""
    with tempfile.TemporaryDirectory(prefix="smlite-bench-delays-") as scratch:
        zero = timed_run(0.0, 0.0, select, Path(scratch))
        say(f"{'0 s':<14} {zero['seconds']:>7.1f}s  {zero['verdict']}")
        rows = []
        for text in delays:
            delay_s, jitter_s = parse_delay(text)
            row = timed_run(delay_s, jitter_s, select, Path(scratch))
            mean = delay_s + jitter_s / 2
            row["latencies"] = round((row["seconds"] - zero["seconds"]) / mean, 1) if mean else None
            row["latencies_by_max"] = (
                round((row["seconds"] - zero["seconds"]) / (delay_s + jitter_s), 1) if jitter_s else None
            )
            row["met"] = bool(
                row["exit"] == 0 and row["latencies"] is not None and row["latencies"] <= TARGET_LATENCIES
            )
            rows.append(row)
            label = f"{delay_s:g} s" if not jitter_s else f"0–{jitter_s:g} s jitter"
            by_max = "" if row["latencies_by_max"] is None else f" ({row['latencies_by_max']} by the max)"
            say(
                f"{label:<14} {row['seconds']:>7.1f}s  {row['verdict']}, {row['latencies']} latencies in series{by_max}"
            )
    return {"zero": zero, "delays": rows, "target_latencies": TARGET_LATENCIES, "select": select}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.delays", description=__doc__.splitlines()[0])
    parser.add_argument("--delays", default="0.5,2,j1.5", help="comma-separated: seconds, or jN for 0–N s jitter")
    parser.add_argument("--select", metavar="EXPR", help="only these scenarios (pytest -k)")
    parser.add_argument("--out", type=Path, default=BENCH / "results", help="where delays-<stamp>.json goes")
    args = parser.parse_args(argv)
    result = measure([d.strip() for d in args.delays.split(",") if d.strip()], args.select)
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    (args.out / f"delays-{stamp}.json").write_text(json.dumps(result, indent=2))
    return 0 if all(row["met"] for row in result["delays"]) else 1


if __name__ == "__main__":
    sys.exit(main())
