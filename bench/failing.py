"""``python -m bench.failing``: how much slower a failing run is than a passing one (target: ≤ 2).

Owns the bench row "failing run ÷ passing run": times ``smlite run`` (wall, one
fresh sandbox each, ``-q``, one at a time — never in parallel on a shared
machine) against the correct reference gateway and then against each broken
variant (default: all of ``smlite selfcheck --list``), and prints, per variant
as it finishes, its seconds and its ratio to the passing run *of this same
invocation*. ``--source DIR`` times another checkout of smlite (e.g. an older
commit exported with ``git archive``) with this interpreter, for a before/after.
Saves ``bench/results/failing-<stamp>.json``.
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

from harness.gateway.variants import VARIANTS

BENCH = Path(__file__).resolve().parent


def timed_run(source: Path, variant: str, reports: Path) -> tuple[float, int]:
    command = [sys.executable, "-m", "harness.cli.main", "run", "-q", "--reports-dir", str(reports)]
    if variant:
        command += ["--variant", variant]
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=source, capture_output=True, text=True)
    return round(time.perf_counter() - started, 2), completed.returncode


def measure(source: Path, variants: list[str], say=print) -> dict:
    """The passing run, then each variant's; ``say`` gets one line as each finishes."""
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="smlite-bench-failing-") as folder:
        passing, passing_exit = timed_run(source, "", Path(folder))
        say(f"{'(reference, passing)':<30} {passing:>7.1f}s  exit {passing_exit}")
        for variant in variants:
            seconds, code = timed_run(source, variant, Path(folder))
            ratio = seconds / passing
            rows.append({"variant": variant, "seconds": seconds, "exit": code, "ratio": round(ratio, 2)})
            mark = "ok" if ratio <= 2 else "OVER 2"
            say(f"{variant:<30} {seconds:>7.1f}s  exit {code}  ÷ passing = {ratio:.2f}  {mark}")
    worst = max(rows, key=lambda r: r["ratio"]) if rows else None
    return {"source": str(source), "passing_s": passing, "passing_exit": passing_exit, "variants": rows, "worst": worst}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.failing", description=__doc__.splitlines()[0])
    parser.add_argument("--variant", nargs="+", metavar="NAME", help="only these variants (default: all)")
    parser.add_argument(
        "--source",
        type=Path,
        default=BENCH.parent,
        metavar="DIR",
        help="the smlite checkout to time (default: this one)",
    )
    args = parser.parse_args(argv)
    result = measure(args.source, args.variant or list(VARIANTS), lambda line: print(line, flush=True))
    rows, worst = result["variants"], result["worst"]
    if worst:
        print(f"worst: {worst['variant']} {worst['ratio']:.2f}")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = BENCH / "results" / f"failing-{stamp}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"saved {out}")
    return 0 if all(r["ratio"] <= 2 and r["exit"] == 1 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
