"""tools/hardening/soak.py: a small real soak (``--quick``) counts every attack and measures the gateway;
the targets are judged met or MISSED from the figures, and nothing else.

The full soak (``make soak``: 10,000 idle connections, 2 x 100 bodies of 20 MB, a 9.5 MB fan-out to 100)
takes minutes and is not run here; its figures are in docs/hardening.md.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tools.hardening import soak
from tools.hardening.gauges import MB, Gauges, Reading

REPO = Path(__file__).resolve().parents[2]


def test_a_quick_soak_counts_every_attack_and_judges_every_target(tmp_path):
    figures_path = tmp_path / "soak.json"
    done = subprocess.run(
        [sys.executable, "-m", "tools.hardening.soak", "--quick", "--json", str(figures_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode in (0, 1), done.stdout[-3000:] + done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    figures = json.loads(figures_path.read_text(encoding="utf-8"))
    result, gauges, scale = figures["result"], figures["gauges"], figures["scale"]
    fan = result["fan_out"]
    assert fan["accepted"] and fan["delivered"] == scale["recipients"], fan
    assert fan["bytes"] > 0.9 * scale["fanout_mb"] * MB
    assert sum(sum(storm["counts"].values()) for storm in result["body_storms"]) == scale["bodies"]
    idle = result["idle"]["counts"]
    assert sum(n for how, n in idle.items() if how.startswith(("greeted", "not connected"))) == scale["idle"]
    assert sum(result["slow"]["counts"].values()) == scale["slow"]
    assert result["auth_guessing"]["attempts"] > 0 and "answered 235" not in result["auth_guessing"]["counts"]
    assert result["runs"] and all(run["verdict"] == "Conformant" for run in result["runs"]), result["runs"]
    assert result["runs"][-1]["ended_s"] >= result["phases_s"]["attacks done"]  # a run went on throughout
    assert gauges["rss_peak_mb"] >= gauges["rss_baseline_mb"] > 0 and gauges["fds_peak"] >= gauges["fds_baseline"]
    assert result["fan_out_disk"]["peak"] > result["fan_out_disk"]["before"]  # the message was stored
    table = done.stdout
    for measure in figures["measures"]:
        row = next(line for line in table.splitlines() if line.startswith(measure["measure"]))
        assert row.rstrip().endswith("met" if measure["met"] else "MISSED"), row
    assert done.returncode == (0 if all(m["met"] for m in figures["measures"]) else 1)


def _judged(**overrides) -> dict[str, bool]:
    gauges = Gauges(pid=0, run_dir=Path("."))
    gauges.rss = Reading(peak=overrides.get("rss_mb", 100) * MB)
    gauges.fds = Reading(peak=overrides.get("fds", 50))
    accepted = overrides.get("accepted", 10 * MB)
    result = {
        "fan_out": {"accepted": accepted > 0, "bytes": accepted},
        "fan_out_disk": {"before": 1 * MB, "peak": 1 * MB + overrides.get("disk_growth", 12 * MB)},
        "auth_guessing": {
            "per_second": overrides.get("auth", 2.0),
            "real_login_after": overrides.get("login", "accepted"),
        },
        "runs": [{"verdict": v} for v in overrides.get("verdicts", ["Conformant"])],
    }
    return {name: met for name, _value, _target, met in soak.measures(result, gauges)}


def test_the_targets_are_judged_on_their_bounds():
    assert all(_judged().values())
    assert not _judged(rss_mb=300)["peak gateway RSS"] and _judged(rss_mb=299)["peak gateway RSS"]
    assert not _judged(disk_growth=31 * MB)["disk growth per accepted MB"]
    assert _judged(disk_growth=30 * MB)["disk growth per accepted MB"]
    assert not _judged(accepted=0)["disk growth per accepted MB"]  # nothing accepted: nothing to praise
    assert not _judged(fds=1025)["peak open descriptors"] and _judged(fds=1024)["peak open descriptors"]
    assert not _judged(auth=10.1)["AUTH attempts per second"]
    assert not _judged(login="refused (SMTPAuthenticationError)")["AUTH attempts per second"]
    assert not _judged(verdicts=["Conformant", "Incomplete"])["the runs' verdict"]
    assert not _judged(verdicts=[])["the runs' verdict"]
