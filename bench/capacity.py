"""The load generator's capacity: how many messages per second ``smlite load`` can push.

Owns the bench rows "load → Mailpit" and "load → gateway". Each runs the real
``smlite load`` (``python -m harness.load.run``, one Locust process) for a few
seconds at an offered rate far above what it can reach, with no sample checks,
and reads the rate it achieved from its JSON:

* straight into Mailpit — a copy of the sandbox profile whose SMTP target is
  Mailpit itself, SMTP applications only (``--apps outlook,mac``): nothing
  between the generator and the sink but Mailpit, so what it reaches is the
  generator's own ceiling (compared with Mailpit's ingest rate measured by
  bench/mail.py in the same run);
* through the gateway — the sandbox profile as it is, every application.

Past one process: Locust's master/worker mode (docs/load.md,
tests/test_load_distributed.py).
"""

from __future__ import annotations

import copy
import csv
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness.errors import HarnessError
from harness.profile.schema import TargetProfile

REPO = Path(__file__).resolve().parents[1]
OFFERED_RATE = 2000.0  # the most --rate allows: far above what one process reaches here
USERS = 100


def _profile_into_mailpit(profile: TargetProfile, folder: Path) -> Path:
    direct = copy.deepcopy(profile)
    host, port = profile.mailpit["smtp"].rsplit(":", 1) if "smtp" in profile.mailpit else (None, None)
    if host is None:
        raise HarnessError("The profile names no Mailpit SMTP address", "mailpit.smtp is needed here")
    direct.target["smtp"] = f"{host}:{port}"
    direct.name = f"{profile.name} (SMTP straight into Mailpit)"
    return direct.save_json(folder / "into-mailpit.json")


def load(profile_path: Path, seconds: float, apps: str, seed: int = 7, drain_s: float = 60) -> dict:
    """One ``smlite load`` run; its JSON, plus what the bench needs."""
    with tempfile.TemporaryDirectory(prefix="smlite-bench-load-") as folder:
        out = Path(folder) / "load.json"
        command = [
            sys.executable,
            "-m",
            "harness.load.run",
            "--profile",
            str(profile_path),
            "--seed",
            str(seed),
            "--users",
            str(USERS),
            "--rate",
            str(OFFERED_RATE),
            "--duration",
            str(seconds),
            "--max-samples",
            "0",
            "--drain-timeout",
            str(drain_s),
            "--apps",
            apps,
            "--json",
            str(out),
        ]
        started = time.perf_counter()
        done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=seconds + 300)
        if not out.exists():
            raise HarnessError("smlite load wrote no results", (done.stdout + done.stderr)[-1500:])
        result = json.loads(out.read_text(encoding="utf-8"))
    used = set(result["by_application"])
    if not used <= set(apps.split(",")):
        raise HarnessError("smlite load sent from applications it was not given", f"{used} ⊄ {apps}")
    if result["errors"] or result["refused"]:
        raise HarnessError(
            "smlite load had errors while measuring its capacity",
            "; ".join(result["failures"][:3]) or f"{result['errors']} errors, {result['refused']} refused",
        )
    return {
        "apps": apps,
        "offered_per_s": OFFERED_RATE,
        "users": USERS,
        "seconds": result["duration_s"],
        "accepted": result["accepted"],
        "per_second": result["throughput"]["accepted_per_s"],
        "deliveries_per_s": result["throughput"]["deliveries_per_s"],
        "accept_p50_ms": result["accept_latency_ms"]["p50"],
        "wall_s": round(time.perf_counter() - started, 1),
    }


def load_distributed(profile_path: Path, seconds: float, apps: str, workers: int = 2, drain_s: float = 2) -> dict:
    """The same through Locust's master and ``workers`` worker processes on loopback (docs/load.md)."""
    with tempfile.TemporaryDirectory(prefix="smlite-bench-locust-") as folder:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        env = dict(
            os.environ,
            SMLITE_LOAD_PROFILE=str(profile_path),
            SMLITE_LOAD_APPS=apps,
            SMLITE_LOAD_MAX_SAMPLES="0",
            SMLITE_LOAD_RATE_PER_USER=str(OFFERED_RATE / USERS),
            SMLITE_LOAD_MAX_MESSAGES="1000000",
            SMLITE_LOAD_DRAIN_TIMEOUT=str(drain_s),
            PYTHONPATH=str(REPO),
        )
        locust = [sys.executable, "-m", "locust", "-f", str(REPO / "harness" / "load" / "locustfile.py")]
        master = subprocess.Popen(
            [
                *locust,
                "--master",
                "--headless",
                "--expect-workers",
                str(workers),
                "-u",
                str(USERS),
                "-r",
                str(USERS),
                "-t",
                f"{seconds:g}s",
                "--master-bind-host",
                "127.0.0.1",
                "--master-bind-port",
                str(port),
                "--csv",
                str(Path(folder) / "run"),
                "--only-summary",
                "--stop-timeout",
                "20",
            ],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        procs = [
            subprocess.Popen(
                [*locust, "--worker", "--master-host", "127.0.0.1", "--master-port", str(port)],
                cwd=REPO,
                env=dict(env, SMLITE_LOAD_SEED=str(k + 1)),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for k in range(workers)
        ]
        try:
            out, _ = master.communicate(timeout=seconds + 180)
            for process in procs:
                process.wait(timeout=120)
        finally:
            children: list[subprocess.Popen] = [master, *procs]
            for child in children:
                if child.poll() is None:
                    child.kill()
        try:
            with open(Path(folder) / "run_stats.csv", newline="") as stats:
                total = next(row for row in csv.DictReader(stats) if row["Name"] == "Aggregated")
        except (OSError, StopIteration):
            raise HarnessError("Locust's master wrote no totals", out[-1500:]) from None
    if int(total["Failure Count"]):
        raise HarnessError("smlite load had failures while measuring its capacity", out[-1500:])
    return {
        "apps": apps,
        "workers": workers,
        "offered_per_s": OFFERED_RATE,
        "users": USERS,
        "accepted": int(total["Request Count"]),
        "per_second": round(float(total["Requests/s"]), 2),
        "accept_p50_ms": _number(total["50%"]),
    }


def _number(text: str) -> float | None:
    """A figure of Locust's CSV; None for its "N/A" (no request finished in the window)."""
    try:
        return float(text)
    except ValueError:
        return None


def capacity(profile: TargetProfile, profile_path: Path, seconds: float = 8.0) -> dict:
    with tempfile.TemporaryDirectory(prefix="smlite-bench-capacity-") as folder:
        direct = _profile_into_mailpit(profile, Path(folder))
        return {
            "into_mailpit": load(direct, seconds, "outlook,mac", drain_s=2),
            "into_mailpit_2_workers": load_distributed(direct, seconds, "outlook,mac"),
            "through_gateway": load(profile_path, seconds, "outlook,mac,mpp"),
        }


if __name__ == "__main__":  # python -m bench.capacity PROFILE: the two rows alone
    from harness.profile.schema import load as load_profile

    path = Path(sys.argv[1])
    print(json.dumps(capacity(load_profile(str(path)), path), indent=2))
