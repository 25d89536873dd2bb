"""The bench's table: one row per measurement, its ratio, its target.

``ROWS`` names every row; ``render(result)`` writes them from the JSON the
bench collected (bench/run.py). Targets are in docs/bench.md; a row without a target is there for reference.
"""

from __future__ import annotations

from bench.pictures import line as pictures_line

ROWS = (
    "floor",
    "suite -n 1",
    "suite -n 2",
    "exploration on top",
    "latency via gateway",
    "latency into Mailpit",
    "Mailpit ingest",
    "gateway throughput",
    "load → Mailpit",
    "load → Mailpit ×2",
    "load → gateway",
    "failing ÷ passing",
    "pictures ÷ none",
    "slow target",
    "cold start",
)

TARGETS = {  # summary key: (comparison, bound, how it reads)
    "suite_vs_floor": ("<=", 2.5, "≤ 2.5× floor"),
    "speedup_n2": (">=", 1.6, "≥ 1.6× (7)"),
    "explored_vs_suite": ("<=", 1.5, "≤ 1.5× suite"),
    "latency_vs_mailpit": ("<=", 3.0, "≤ 3× Mailpit"),
    "gateway_vs_mailpit": (">=", 0.6, "≥ 0.6× Mailpit"),
    "load_ceiling_vs_mailpit": (">=", 1.0, "≥ 1× Mailpit"),
    "failing_vs_passing": ("<=", 2.0, "≤ 2 (worst)"),
    "pictures_vs_none": ("<=", 1.2, "≤ 1.2 (25)"),
    "cold_start_s": ("<=", 2.0, "≤ 2 s (7)"),
    "latencies_in_series": ("<=", 10.0, "≤ 10 latencies"),
}


def verdict(summary: dict, key: str) -> str:
    op, bound, _ = TARGETS[key]
    value = summary.get(key)
    if value is None:
        return "not measured"
    ok = value <= bound if op == "<=" else value >= bound
    return "met" if ok else "MISSED"


def _cpu(rate: dict) -> str:
    cpu = rate.get("cpu_ms_per_message")
    if not cpu:
        return ""
    return "; CPU ms/msg " + ", ".join(f"{name} {ms:.1f}" for name, ms in cpu.items())


def render(result: dict) -> str:
    s = result["summary"]
    floor, mail = result["floor"]["best"], result["suite_mail"]
    n1, n2 = result["suite"]["1"]["best"], result["suite"]["2"]["best"]
    lat, rates, cold = result["latency"], result["rates"], result["cold_start"]["best"]
    load, failing = result["load"], result.get("failing")

    def phases(run: dict) -> str:
        if "startup_s" not in run:
            return ""
        return (
            f" (start-up {run['startup_s']:.2f} + collect/workers {run['workers_s']:.2f}"
            f" + scenarios {run['scenarios_s']:.2f} + report {run['after_s']:.2f})"
        )

    rows = [
        (
            "floor",
            f"{floor['messages']} msgs straight to Mailpit and read back: {floor['seconds']:.2f} s "
            f"({floor['per_message_ms']:.1f} ms/msg); the suite sent {mail['submissions']}, "
            f"Mailpit got {mail['deliveries']}",
            "",
            "",
        ),
        (
            "suite -n 1",
            f"{n1['seconds']:.2f} s{phases(n1)}, {n1['verdict']}",
            f"{s['suite_vs_floor']:.2f}× floor",
            "suite_vs_floor",
        ),
        (
            "suite -n 2",
            f"{n2['seconds']:.2f} s{phases(n2)}, {n2['verdict']}",
            f"speed-up {s['speedup_n2']:.2f}×",
            "speedup_n2",
        ),
        (
            "exploration on top",
            _explored(result.get("explored")),
            "" if "explored_vs_suite" not in s else f"{s['explored_vs_suite']:.2f}× suite -n 1",
            "explored_vs_suite",
        ),
        (
            "latency via gateway",
            f"p50 {lat['gateway']['p50_ms']:.1f} ms, p95 {lat['gateway']['p95_ms']:.1f} ms "
            f"(SMTP accepted at p50 {lat['gateway']['accept_p50_ms']:.1f} ms; "
            f"{lat['gateway']['samples']} samples)",
            f"{s['latency_vs_mailpit']:.2f}× Mailpit",
            "latency_vs_mailpit",
        ),
        (
            "latency into Mailpit",
            f"p50 {lat['mailpit']['p50_ms']:.1f} ms, p95 {lat['mailpit']['p95_ms']:.1f} ms (no gateway, for reference)",
            "",
            "",
        ),
        (
            "Mailpit ingest",
            f"{rates['mailpit']['per_second']:.0f} msg/s ({rates['mailpit']['messages']} msgs, "
            f"{rates['mailpit']['concurrency']} connections{_cpu(rates['mailpit'])})",
            "",
            "",
        ),
        (
            "gateway throughput",
            f"{rates['gateway']['per_second']:.0f} msg/s (secure, into Mailpit{_cpu(rates['gateway'])})",
            f"{s['gateway_vs_mailpit']:.2f}× Mailpit",
            "gateway_vs_mailpit",
        ),
        (
            "load → Mailpit",
            f"smlite load, 1 process, SMTP only: {load['into_mailpit']['per_second']:.0f} msg/s "
            f"({load['into_mailpit']['accepted']} msgs in {load['into_mailpit']['seconds']:.1f} s, "
            f"{load['into_mailpit']['offered_per_s']:.0f} offered)",
            f"{s['load_one_vs_mailpit']:.2f}× Mailpit",
            "",
        ),
        (
            "load → Mailpit ×2",
            f"Locust master + 2 workers: {load['into_mailpit_2_workers']['per_second']:.0f} msg/s "
            f"({load['into_mailpit_2_workers']['accepted']} msgs)",
            f"{s['load_ceiling_vs_mailpit']:.2f}× Mailpit",
            "load_ceiling_vs_mailpit",
        ),
        (
            "load → gateway",
            f"smlite load, 1 process, every application: {load['through_gateway']['per_second']:.0f} "
            f"msg/s accepted, {load['through_gateway']['deliveries_per_s']:.0f} deliveries/s",
            f"{s['load_gateway_vs_gateway']:.2f}× gateway",
            "",
        ),
        (
            "failing ÷ passing",
            "not measured (--no-failing)"
            if not failing
            else f"passing {failing['passing_s']:.1f} s; worst {failing['worst']['variant']} "
            f"{failing['worst']['seconds']:.1f} s of {len(failing['variants'])} variants",
            "" if not failing else f"{s['failing_vs_passing']:.2f}×",
            "failing_vs_passing",
        ),
        (
            "pictures ÷ none",
            "not measured (--no-pictures-row)" if not result.get("pictures") else pictures_line(result["pictures"]),
            "" if not result.get("pictures") else f"{s['pictures_vs_none']:.2f}×",
            "pictures_vs_none",
        ),
        (
            "slow target",
            _delays(result.get("delays")),
            "" if "latencies_in_series" not in s else f"worst {s['latencies_in_series']:.1f} lat.",
            "latencies_in_series",
        ),
        (
            "cold start",
            f"{cold['total_s']:.2f} s (find Mailpit {cold['find_mailpit_s']:.2f}, Mailpit "
            f"{cold['mailpit_s']:.2f}, gateway {cold['gateway_s']:.2f})",
            "",
            "cold_start_s",
        ),
    ]
    assert tuple(r[0] for r in rows) == ROWS
    lines = [f"{'measure':<22} {'result':<92} {'ratio':<16} {'target':<16} status", "-" * 156]
    for name, value, ratio, key in rows:
        target = TARGETS[key][2] if key else ""
        status = verdict(s, key) if key else ""
        lines.append(f"{name:<22} {value:<92} {ratio:<16} {target:<16} {status}")
    return "\n".join(lines)


def _explored(run: dict | None) -> str:
    if not run:
        return "not measured"
    if "explored_s" not in run:
        return f"{run['seconds']:.2f} s, {run['verdict']} (no exploration ran)"
    return (
        f"{run['seconds']:.2f} s: the scenarios, then {run['exchanges']} exchanges explored in "
        f"{run['explored_s']:.1f} s (budget {run['budget_s']:g} s), {run['verdict']}"
    )


def _delays(measured: dict | None) -> str:
    """The slow-target rows in one line: each delay's time, verdict and latencies in series."""
    if not measured:
        return "not measured (--delays '')"
    parts = [f"0 s {measured['zero']['seconds']:.1f} s"]
    for row in measured["delays"]:
        label = f"{row['delay_s']:g} s" if not row["jitter_s"] else f"0–{row['jitter_s']:g} s jitter"
        ok = "" if row["exit"] == 0 else f" {row['verdict']}"
        parts.append(f"{label} {row['seconds']:.1f} s ({row['latencies']} lat.){ok}")
    return "; ".join(parts)
