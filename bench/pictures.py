"""``python -m bench.pictures``: what the pictures of what the recipients saw cost a run (target: ≤ 1.2×).

Owns the bench row "pictures ÷ none": ``smlite run -q`` against the embedded reference (a fresh sandbox
each, one at a time), with pictures (the default) and with ``--no-pictures``, alternating, ``--repeat``
times each; the best wall time of each, and their ratio. Also the pictures' count and bytes, and
index.html's size with and without them, from the last run of each.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _run(reports: Path, pictures: bool, select: str | None) -> dict:
    command = [sys.executable, "-m", "harness.cli.main", "run", "-q", "--seed", "7", "--reports-dir", str(reports)]
    command += [] if pictures else ["--no-pictures"]
    command += ["-k", select] if select else []
    started = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    seconds = round(time.perf_counter() - started, 2)
    report = next((line.split("report:", 1)[1].strip() for line in done.stdout.splitlines() if "report:" in line), "")
    index = Path(report) if report else None
    folder = index.parent / "pictures" if index else None
    shots = sorted(folder.glob("*.jpg")) if folder and folder.is_dir() else []
    return {
        "pictures_on": pictures,
        "seconds": seconds,
        "exit": done.returncode,
        "index_bytes": index.stat().st_size if index and index.is_file() else 0,
        "pictures": len(shots),
        "picture_bytes": sum(p.stat().st_size for p in shots),
    }


def measure(repeat: int = 3, select: str | None = None, say=print) -> dict:
    runs: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="smlite-bench-pictures-") as folder:
        for round_ in range(repeat):
            for pictures in (False, True):
                run = _run(Path(folder), pictures, select)
                runs.append(run)
                say(
                    f"round {round_ + 1}/{repeat} {'pictures' if pictures else 'no pictures':<12} {run['seconds']:>6.1f}s"
                )
    on = min((r for r in runs if r["pictures_on"]), key=lambda r: r["seconds"])
    off = min((r for r in runs if not r["pictures_on"]), key=lambda r: r["seconds"])
    return {"runs": runs, "with": on, "without": off, "ratio": round(on["seconds"] / off["seconds"], 3)}


def line(result: dict) -> str:
    on, off = result["with"], result["without"]
    return (
        f"with {on['seconds']:.1f} s, without {off['seconds']:.1f} s; {on['pictures']} pictures "
        f"{on['picture_bytes'] / 1024:.0f} KB; index.html {on['index_bytes'] / 1e6:.2f} MB vs {off['index_bytes'] / 1e6:.2f} MB"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.pictures", description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each kind; the best is taken (3)")
    parser.add_argument("--select", metavar="EXPR", help="only these scenarios (pytest -k)")
    args = parser.parse_args(argv)
    result = measure(args.repeat, args.select)
    print(f"pictures ÷ none: {result['ratio']:.2f}  ({line(result)})")
    out = REPO / "bench" / "results" / f"pictures-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"saved {out}")
    return 0 if result["ratio"] <= 1.2 and all(r["exit"] == 0 for r in result["runs"]) else 1


if __name__ == "__main__":
    sys.exit(main())
