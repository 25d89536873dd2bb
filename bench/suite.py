"""The conformance suite as the bench runs it: ``harness.conformance.runner.run`` against
the bench's own sandbox, timed, with its phases and its mail counted.

* ``run_suite``: one ``smlite run`` equivalent (``RunOptions(target=profile,
  workers=n)``, report written to a scratch folder), split by bench/timing.py
  into start-up (runner, pytest process, plugins, until pytest is
  configured), collection and xdist workers (until the first scenario
  starts), the scenarios, and what follows (report rendering); plus the sum
  of the scenarios' own durations per xdist worker.
  It also takes the CPU time each process spent (the suite's own processes,
  the gateway, Mailpit): on 2 cores, ``cores_busy`` near 1 with ``-n 1``
  says the suite is CPU-bound in aggregate, and ``-n 2`` cannot do better
  than about ``cpu total / 2``.
* ``counts``: how many messages Mailpit holds and how many the gateway
  accepted (read-only from the gateway's SQLite in the sandbox's run dir), so
  the bench can count what one suite run sends.
"""

from __future__ import annotations

import collections
import json
import os
import resource
import sqlite3
import time
from pathlib import Path

from harness.conformance.runner import RunOptions, run
from harness.mailbox.mailpit import MailpitClient

SEED = 7  # the same people in every bench run


def counts(info: dict) -> dict:
    """{"mailpit": messages in Mailpit, "gateway": messages the gateway accepted (or None)}."""
    accepted = None
    database = Path(info["run_dir"]) / "gateway.sqlite3"
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as connection:
            accepted = connection.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
    except sqlite3.Error:
        accepted = None  # another target's layout: the Mailpit count still stands
    return {"mailpit": MailpitClient(info["mailpit_api"]).count(), "gateway": accepted}


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time of a live process (Linux /proc), 0 if unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except (OSError, TypeError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_suite(
    profile_path: Path,
    workers: int,
    reports_dir: Path,
    select: str | None = None,
    pids: dict[str, int] | None = None,
    explore: bool = False,
) -> dict:
    """Run the suite once; wall time, phases, verdict, and the CPU every process spent
    (``pids``: the gateway's and Mailpit's; the suite's processes are this one's children). ``explore``:
    as a default ``smlite run`` does, explore after the scenarios with the default budget
    (harness/exploration/); otherwise the scenarios only."""
    from harness.exploration.product import explore_in_run

    reports_dir.mkdir(parents=True, exist_ok=True)
    pids = pids or {}
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    own_before, children_before = time.process_time(), _children_cpu()
    timing = reports_dir / f"timing-{workers}-{time.time_ns()}.json"
    saved = {k: os.environ.get(k) for k in ("PYTEST_ADDOPTS", "SMLITE_BENCH_TIMING")}
    os.environ["PYTEST_ADDOPTS"] = f"{saved['PYTEST_ADDOPTS'] or ''} -p bench.timing".strip()
    os.environ["SMLITE_BENCH_TIMING"] = str(timing)
    wall_start = time.time()
    started = time.perf_counter()
    try:
        code, results, _index = run(
            RunOptions(
                target=str(profile_path),
                workers=workers,
                select=select,
                seed=SEED,
                quiet=True,
                reports_dir=reports_dir,
                explorer=explore_in_run if explore else None,
                explore_budget=2.0 if explore and select else None,  # -k: a short budget, for a quick check
            )
        )
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    wall = time.perf_counter() - started
    cpu = {name: cpu_seconds(pid) - before[name] for name, pid in pids.items()}
    cpu["suite"] = (time.process_time() - own_before) + (_children_cpu() - children_before)
    cpu["total"] = sum(cpu.values())
    phases = {}
    if timing.exists():
        marks = json.loads(timing.read_text(encoding="utf-8"))
        first = marks.get("first_test", marks["finished"])
        phases = {
            "startup_s": marks["configured"] - wall_start,
            "workers_s": first - marks["configured"],
            "scenarios_s": marks["finished"] - first,
            "after_s": wall_start + wall - marks["finished"],
        }
        timing.unlink()
    per_worker: dict[str, float] = collections.defaultdict(float)
    for scenario in results.scenarios if results else []:
        per_worker[scenario.worker or "main"] += scenario.duration_s
    explored = results.explorations[0] if results and results.explorations else None
    return {
        "workers": workers,
        "seconds": wall,
        **(
            {"explored_s": explored.elapsed_s, "exchanges": explored.exchanges, "budget_s": explored.budget_s}
            if explored
            else {}
        ),
        "exit_code": code,
        "cpu_s": cpu,
        "cores_busy": cpu["total"] / wall,
        "verdict": results.verdict() if results else "no results",
        "scenarios": len(results.scenarios) if results else 0,
        "scenario_seconds_per_worker": dict(per_worker),
        **phases,
    }
