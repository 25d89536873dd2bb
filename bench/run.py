"""``python -m bench`` (``make bench``): speed and scale of smlite, in one run.

On one sandbox (real Mailpit + the reference gateway), in this order:

1. sandbox cold start, in fresh processes (bench/coldstart.py);
2. the suite with ``-n 1`` then ``-n 2``, ``--repeat`` times, alternating
   (bench/suite.py); the first run also counts what the suite sends;
3. the floor: as many messages as the suite put into Mailpit, sent straight to
   Mailpit and each read back (bench/mail.py), ``--repeat`` times;
4. send→observed latency through the gateway and straight into Mailpit;
5. Mailpit's ingest rate and the gateway's throughput into Mailpit;
6. the load generator's capacity (bench/capacity.py): ``smlite load`` straight
   into Mailpit in one process and with a Locust master and two workers, and
   through the gateway;
7. failing run ÷ passing run for every broken variant (bench/failing.py; one
   fresh sandbox per run, after the shared sandbox is gone);
7b. pictures ÷ none: ``smlite run`` with its pictures of what the recipients saw and with
   ``--no-pictures``, alternating, best of each (bench/pictures.py; ``--no-pictures-row`` skips it);
8. a slow target: the suite against the reference delivering 0.5 s and 2 s late and with 0–1.5 s
   jitter, as latencies in series (bench/delays.py).

Mailpit is emptied before each suite run and each floor run: its search slows
down as it fills, and a real ``smlite run`` starts on an empty one.

Times are the best of ``--repeat`` (the machine is shared; every run is kept
in the JSON). Ratios are taken within this one run. Prints a table and saves
``bench/results/<stamp>.json``. It measures the code as it is: a proposal is
measured once it is a real option of the code it changes. ``--profile`` adds
pyinstrument and py-spy profiles (bench/profiling.py).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import capacity, delays, failing, mail, pictures, suite
from bench.table import render
from harness.gateway.variants import VARIANTS
from harness.profile.schema import from_sandbox
from harness.sandbox.lifecycle import Sandbox

BENCH = Path(__file__).resolve().parent


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2, help="suite and floor runs each; best is reported (2)")
    parser.add_argument("--select", metavar="EXPR", help="only these scenarios (pytest -k), e.g. for a quick check")
    parser.add_argument("--latency-samples", type=int, default=50, metavar="K", help="latency samples (50)")
    parser.add_argument("--ingest-messages", type=int, default=300, metavar="M", help="messages per rate test (300)")
    parser.add_argument("--concurrency", type=int, default=4, metavar="C", help="SMTP connections in rate tests (4)")
    parser.add_argument("--cold-starts", type=int, default=3, metavar="R", help="cold starts measured (3)")
    parser.add_argument("--profile", action="store_true", help="also profile the suite and the gateway")
    parser.add_argument(
        "--load-seconds", type=float, default=8.0, metavar="S", help="seconds of each load-capacity run (8)"
    )
    parser.add_argument(
        "--no-failing",
        action="store_true",
        help="skip failing ÷ passing (a full run per broken variant, about 2 minutes)",
    )
    parser.add_argument(
        "--failing-variant",
        nargs="+",
        metavar="NAME",
        choices=sorted(VARIANTS),
        help="failing ÷ passing for these variants only (default: all)",
    )
    parser.add_argument(
        "--delays",
        default="0.5,2,j1.5",
        metavar="LIST",
        help="the slow-target rows: delivery delays in seconds, jN for 0–N s jitter; '' skips them (bench/delays.py)",
    )
    parser.add_argument(
        "--no-pictures-row",
        action="store_true",
        help="skip pictures ÷ none (smlite run with and without pictures, --repeat times each; bench/pictures.py)",
    )
    parser.add_argument("--out", type=Path, default=BENCH / "results", help="where <stamp>.json goes")
    args = parser.parse_args(argv)
    if min(args.repeat, args.latency_samples, args.ingest_messages, args.concurrency, args.cold_starts) < 1:
        parser.error("counts must be at least 1")
    if not 1 <= args.load_seconds <= 600:
        parser.error("--load-seconds: between 1 and 600")
    return args


def say(text: str) -> None:
    print(f"bench: {text}", file=sys.stderr, flush=True)


def cold_starts(count: int, gateway_argv: list[str] | None) -> list[dict]:
    runs = []
    for _ in range(count):
        done = subprocess.run(
            [sys.executable, "-m", "bench.coldstart", json.dumps(gateway_argv)],
            cwd=BENCH.parent,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            raise SystemExit(f"bench: cold start failed:\n{done.stderr[-2000:]}")
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return runs


def best(runs: list[dict], key: str = "seconds") -> dict:
    return min(runs, key=lambda r: r[key])


def fresh_state(sandbox: Sandbox) -> None:
    """Empty Mailpit, and the gateway restarted on the same ports with a new database.

    A suite run moves the gateway's clock up to 38 years ahead (28 for the scenarios, at most 10
    exploring) and the gateway allows a thousand years in all; a fresh database keeps every run alike.
    """
    sandbox.mailbox.delete_all()
    _running(sandbox.gateway).stop()
    for suffix in ("", "-wal", "-shm"):
        (sandbox.run_dir / f"gateway.sqlite3{suffix}").unlink(missing_ok=True)
    sandbox.restart_gateway()


@contextlib.contextmanager
def _cpu(pids: dict[str, int]):
    """CPU seconds each process (and this one, the client) spent in the block."""
    spent: dict[str, float] = {}
    before = {name: suite.cpu_seconds(pid) for name, pid in pids.items()}
    client = time.process_time()
    yield spent
    spent.update({name: suite.cpu_seconds(pid) - before[name] for name, pid in pids.items()})
    spent["client"] = time.process_time() - client


def _per_message(cpu: dict[str, float], count: int) -> dict[str, float]:
    return {name: round(1000 * seconds / count, 2) for name, seconds in cpu.items()}


def _spy(args: argparse.Namespace, sandbox: Sandbox, stamp: str):
    from bench.profiling import spy

    args.out.mkdir(parents=True, exist_ok=True)
    return spy(_running(sandbox.gateway).pid, args.out / f"{stamp}-gateway-rate.pyspy.txt")


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    tag = secrets.token_hex(3)
    gateway_argv = None  # the gateway as shipped
    result: dict = {
        "stamp": stamp,
        "select": args.select,
        "repeat": args.repeat,
        "host": {
            "node": platform.node(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average": os.getloadavg(),
            "PYTHONDONTWRITEBYTECODE": os.environ.get("PYTHONDONTWRITEBYTECODE", ""),
        },
    }
    say(f"cold start ×{args.cold_starts} (fresh processes)")
    result["cold_start"] = {"runs": cold_starts(args.cold_starts, gateway_argv)}
    result["cold_start"]["best"] = best(result["cold_start"]["runs"], "total_s")
    with tempfile.TemporaryDirectory(prefix="smlite-bench-") as scratch, Sandbox(gateway_argv=gateway_argv) as sandbox:
        info = sandbox.info()
        profile_path = from_sandbox(info).save_json(Path(scratch) / "profile.json")
        reports = Path(scratch) / "reports"
        runs: dict[int, list[dict]] = {1: [], 2: []}
        for round_ in range(args.repeat):
            for workers in (1, 2):
                fresh_state(sandbox)  # every run starts, as `smlite run` does, on an empty Mailpit and gateway
                before = suite.counts(info) if round_ == 0 and workers == 1 else None
                say(f"suite -n {workers} (round {round_ + 1}/{args.repeat})")
                pids = {"gateway": _running(sandbox.gateway).pid, "mailpit": _running(sandbox.mailpit).pid}
                runs[workers].append(suite.run_suite(profile_path, workers, reports, args.select, pids))
                if before is not None:
                    after = suite.counts(info)
                    result["suite_mail"] = {
                        "deliveries": after["mailpit"] - before["mailpit"],
                        "submissions": None if after["gateway"] is None else after["gateway"] - before["gateway"],
                    }
        result["suite"] = {str(n): {"runs": r, "best": best(r)} for n, r in runs.items()}
        fresh_state(sandbox)  # a default `smlite run`: the scenarios, then exploration (default budget; --select: 2 s)
        say("suite -n 1 with exploration on top (the default of smlite run)")
        pids = {"gateway": _running(sandbox.gateway).pid, "mailpit": _running(sandbox.mailpit).pid}
        result["explored"] = suite.run_suite(profile_path, 1, reports, args.select, pids, explore=True)
        n = max(1, result["suite_mail"]["deliveries"])
        say(f"floor: {n} messages straight to Mailpit and back, ×{args.repeat}")
        floors = []
        for i in range(args.repeat):
            sandbox.mailbox.delete_all()
            floors.append(mail.floor(info, n, f"{tag}r{i}"))
        sandbox.mailbox.delete_all()
        result["floor"] = {"runs": floors, "best": best(floors)}
        say(f"latency: {args.latency_samples} messages through the gateway, then straight into Mailpit")
        result["latency"] = {
            "gateway": mail.latency(info, args.latency_samples, tag, through_gateway=True),
            "mailpit": mail.latency(info, args.latency_samples, tag, through_gateway=False),
        }
        say(f"rates: {args.ingest_messages} messages over {args.concurrency} connections, Mailpit then gateway")
        pids = {"gateway": _running(sandbox.gateway).pid, "mailpit": _running(sandbox.mailpit).pid}
        with _cpu(pids) as cpu:
            result["rates"] = {
                "mailpit": mail.ingest(info, args.ingest_messages, args.concurrency, tag, through_gateway=False)
            }
        result["rates"]["mailpit"]["cpu_ms_per_message"] = _per_message(cpu, args.ingest_messages)
        with _cpu(pids) as cpu:
            result["rates"]["gateway"] = mail.ingest(
                info, args.ingest_messages, args.concurrency, tag, through_gateway=True
            )
        result["rates"]["gateway"]["cpu_ms_per_message"] = _per_message(cpu, args.ingest_messages)
        say(
            f"load capacity: smlite load for {args.load_seconds:g} s straight into Mailpit (1 process, then "
            "a master and 2 workers), then through the gateway"
        )
        result["load"] = capacity.capacity(from_sandbox(info), profile_path, args.load_seconds)
        if args.profile:  # once more under py-spy, which slows its target: not the measured run
            with _spy(args, sandbox, stamp) as spied:
                mail.ingest(info, args.ingest_messages, args.concurrency, tag + "p", through_gateway=True)
            result["rates"]["gateway"]["profile"] = spied
        if args.profile:
            from bench.profiling import profile_suite

            say("profiling the suite (pyinstrument) and the gateway (py-spy)")
            fresh_state(sandbox)
            result["profile"] = profile_suite(profile_path, _running(sandbox.gateway).pid, args.out, stamp)
    if not args.no_failing:
        say("failing ÷ passing: smlite run against the reference, then each broken variant")
        result["failing"] = failing.measure(BENCH.parent, args.failing_variant or list(VARIANTS), say)
    if not args.no_pictures_row:
        say("pictures ÷ none: smlite run with pictures and with --no-pictures, alternating")
        result["pictures"] = pictures.measure(max(2, args.repeat), args.select, say)
    wanted = [d.strip() for d in args.delays.split(",") if d.strip()]
    if wanted:
        say(f"slow target: smlite run against the reference delivering late ({', '.join(wanted)})")
        result["delays"] = delays.measure(wanted, args.select, say)
    result["summary"] = summarise(result)
    table = render(result)
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"{stamp}.json"
    path.write_text(json.dumps(result | {"table": table}, indent=2, default=str), encoding="utf-8")
    print(f"\nsaved: {path}")
    return 0


def summarise(result: dict) -> dict:
    n1, n2 = result["suite"]["1"]["best"]["seconds"], result["suite"]["2"]["best"]["seconds"]
    floor = result["floor"]["best"]["seconds"]
    rates, lat, load = result["rates"], result["latency"], result["load"]
    mailpit = rates["mailpit"]["per_second"]
    summary = {
        "suite_s": n1,
        "floor_s": floor,
        "suite_vs_floor": n1 / floor,
        "speedup_n2": n1 / n2,
        "latency_p50_ms": lat["gateway"]["p50_ms"],
        "latency_p95_ms": lat["gateway"]["p95_ms"],
        "latency_vs_mailpit": lat["gateway"]["p50_ms"] / lat["mailpit"]["p50_ms"],
        "gateway_vs_mailpit": rates["gateway"]["per_second"] / mailpit,
        "load_one_vs_mailpit": load["into_mailpit"]["per_second"] / mailpit,
        "load_ceiling_vs_mailpit": max(load["into_mailpit"]["per_second"], load["into_mailpit_2_workers"]["per_second"])
        / mailpit,
        "load_gateway_vs_gateway": load["through_gateway"]["per_second"] / rates["gateway"]["per_second"],
        "cold_start_s": result["cold_start"]["best"]["total_s"],
    }
    if result.get("explored"):
        summary["explored_vs_suite"] = result["explored"]["seconds"] / n1
    if result.get("failing", {}).get("worst"):
        summary["failing_vs_passing"] = result["failing"]["worst"]["ratio"]
    if result.get("pictures"):
        summary["pictures_vs_none"] = result["pictures"]["ratio"]
    rows = (result.get("delays") or {}).get("delays") or []
    if rows and all(row["latencies"] is not None for row in rows):
        summary["latencies_in_series"] = max(row["latencies"] for row in rows)
        summary["slow_target_conformant"] = all(row["exit"] == 0 for row in rows)
    return summary


def _running(process: Any) -> Any:
    """A child process of the sandbox that must be running here (the bench started it)."""
    assert process is not None, "the sandbox's process is not running"
    return process


if __name__ == "__main__":
    sys.exit(main())
