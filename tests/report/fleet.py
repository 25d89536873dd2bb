"""Many realistic runs from one: rewrite a real (or sample) results.json into a fleet of targets and releases.

For the dashboard's tests and its measurement: each run gets its own id, start
time, target name and version, and a seeded share of its source-case
scenarios turned into failures (the cell observed as the other outcome, as a
broken target would); some failures are contract-level, some runs report
scenarios that never came back (``missing``), to exercise the optional fields.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import random
from pathlib import Path
from typing import Any

OTHER = {"Notification": "Email with banner", "Email with banner": "Notification", "Yes": "No", "No": "Yes"}


def rewrite(
    base: dict[str, Any],
    i: int,
    target: str,
    version: str,
    rng: random.Random,
    start: dt.datetime,
    fail_share: float = 0.15,
) -> dict[str, Any]:
    data = copy.deepcopy(base)
    started = start + dt.timedelta(hours=6 * i)
    run = data["run"]
    run["id"] = started.strftime("%Y%m%dT%H%M%SZ") + f"-{i:04x}"
    run["started_at"] = started.isoformat()
    run["finished_at"] = (started + dt.timedelta(seconds=run.get("duration_s") or 60)).isoformat()
    run["target"] = dict(run["target"], name=target, version=version)
    run["seed"] = rng.randrange(1, 2**31)
    run["selection"] = ""
    for scenario in data["scenarios"]:
        if scenario["table"] not in ("T1", "T2", "T3") or rng.random() >= fail_share:
            continue
        changed = False
        for cell in scenario["cells"]:
            if cell["status"] == "passed" and cell.get("expected") in OTHER:
                cell["status"], cell["observed"] = "failed", OTHER[cell["expected"]]
                if rng.random() < 0.3:
                    cell["level"] = "contract"
                changed = True
                break
        if changed:
            scenario["status"] = "failed"
            scenario["message"] = "expected and observed differ (fleet rewrite)"
    if rng.random() < 0.1 and data["scenarios"]:
        gone = data["scenarios"].pop()
        data["missing"] = [{"id": gone["id"], "name": gone["name"], "reason": "worker 'gw0' crashed (fleet rewrite)"}]
    from harness.results.loading import results_from_dict

    data["summary"] = results_from_dict(data).to_dict()["summary"]  # the rewritten run's, so the file validates
    return data


def make_fleet(
    base: dict[str, Any], out: Path, runs: int, targets: tuple[str, ...], *, seed: int = 15, with_reports: bool = True
) -> list[Path]:
    """Write ``runs`` results.json (and, with_reports, each run's report) under ``out/<target>/<run-id>/``."""
    from harness.report.render import write_report
    from harness.results.loading import results_from_dict

    rng = random.Random(seed)
    start = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
    written = []
    for i in range(runs):
        target = targets[i % len(targets)]
        version = f"2.{i // (len(targets) * 3)}.{i % 3}"
        data = rewrite(base, i, target, version, rng, start)
        folder = out / target.lower().replace(" ", "-") / data["run"]["id"]
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "results.json"
        path.write_text(json.dumps(data), encoding="utf-8")
        if with_reports:
            write_report(results_from_dict(data), folder)
            path.write_text(json.dumps(data), encoding="utf-8")  # keep the optional fields write_report drops
        written.append(path)
    return written
