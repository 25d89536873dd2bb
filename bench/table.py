"""The bench's table: one row per measurement, its ratio, the issue's target.

``ROWS`` names every row; ``render(result)`` writes them from the JSON the
bench collected (bench/run.py). Targets are issue 14's (and, for the rows it
does not name, issue 7's); a row without a target is there for reference.
"""

from __future__ import annotations

ROWS = ("floor", "suite -n 1", "suite -n 2", "latency via gateway", "latency into Mailpit",
        "Mailpit ingest", "gateway throughput", "load → Mailpit", "load → Mailpit ×2", "load → gateway",
        "failing ÷ passing", "cold start")

TARGETS = {  # summary key: (comparison, bound, how it reads)
    "suite_vs_floor": ("<=", 2.5, "≤ 2.5× floor"),
    "speedup_n2": (">=", 1.6, "≥ 1.6× (7)"),
    "latency_vs_mailpit": ("<=", 3.0, "≤ 3× Mailpit"),
    "gateway_vs_mailpit": (">=", 0.6, "≥ 0.6× Mailpit"),
    "load_ceiling_vs_mailpit": (">=", 1.0, "≥ 1× Mailpit"),
    "failing_vs_passing": ("<=", 2.0, "≤ 2 (worst)"),
    "cold_start_s": ("<=", 2.0, "≤ 2 s (7)"),
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
        return (f" (start-up {run['startup_s']:.2f} + collect/workers {run['workers_s']:.2f}"
                f" + scenarios {run['scenarios_s']:.2f} + report {run['after_s']:.2f})")

    rows = [
        ("floor", f"{floor['messages']} msgs straight to Mailpit and read back: {floor['seconds']:.2f} s "
                  f"({floor['per_message_ms']:.1f} ms/msg); the suite sent {mail['submissions']}, "
                  f"Mailpit got {mail['deliveries']}", "", ""),
        ("suite -n 1", f"{n1['seconds']:.2f} s{phases(n1)}, {n1['verdict']}",
         f"{s['suite_vs_floor']:.2f}× floor", "suite_vs_floor"),
        ("suite -n 2", f"{n2['seconds']:.2f} s{phases(n2)}, {n2['verdict']}",
         f"speed-up {s['speedup_n2']:.2f}×", "speedup_n2"),
        ("latency via gateway", f"p50 {lat['gateway']['p50_ms']:.1f} ms, p95 {lat['gateway']['p95_ms']:.1f} ms "
                                f"(SMTP accepted at p50 {lat['gateway']['accept_p50_ms']:.1f} ms; "
                                f"{lat['gateway']['samples']} samples)",
         f"{s['latency_vs_mailpit']:.2f}× Mailpit", "latency_vs_mailpit"),
        ("latency into Mailpit", f"p50 {lat['mailpit']['p50_ms']:.1f} ms, p95 {lat['mailpit']['p95_ms']:.1f} ms "
                                 "(no gateway, for reference)", "", ""),
        ("Mailpit ingest", f"{rates['mailpit']['per_second']:.0f} msg/s ({rates['mailpit']['messages']} msgs, "
                           f"{rates['mailpit']['concurrency']} connections{_cpu(rates['mailpit'])})", "", ""),
        ("gateway throughput", f"{rates['gateway']['per_second']:.0f} msg/s (secure, into Mailpit"
                               f"{_cpu(rates['gateway'])})",
         f"{s['gateway_vs_mailpit']:.2f}× Mailpit", "gateway_vs_mailpit"),
        ("load → Mailpit", f"smlite load, 1 process, SMTP only: {load['into_mailpit']['per_second']:.0f} msg/s "
                           f"({load['into_mailpit']['accepted']} msgs in {load['into_mailpit']['seconds']:.1f} s, "
                           f"{load['into_mailpit']['offered_per_s']:.0f} offered)",
         f"{s['load_one_vs_mailpit']:.2f}× Mailpit", ""),
        ("load → Mailpit ×2", f"Locust master + 2 workers: {load['into_mailpit_2_workers']['per_second']:.0f} msg/s "
                              f"({load['into_mailpit_2_workers']['accepted']} msgs)",
         f"{s['load_ceiling_vs_mailpit']:.2f}× Mailpit", "load_ceiling_vs_mailpit"),
        ("load → gateway", f"smlite load, 1 process, every application: {load['through_gateway']['per_second']:.0f} "
                           f"msg/s accepted, {load['through_gateway']['deliveries_per_s']:.0f} deliveries/s",
         f"{s['load_gateway_vs_gateway']:.2f}× gateway", ""),
        ("failing ÷ passing", "not measured (--no-failing)" if not failing else
         f"passing {failing['passing_s']:.1f} s; worst {failing['worst']['variant']} "
         f"{failing['worst']['seconds']:.1f} s of {len(failing['variants'])} variants",
         "" if not failing else f"{s['failing_vs_passing']:.2f}×", "failing_vs_passing"),
        ("cold start", f"{cold['total_s']:.2f} s (find Mailpit {cold['find_mailpit_s']:.2f}, Mailpit "
                       f"{cold['mailpit_s']:.2f}, gateway {cold['gateway_s']:.2f})", "", "cold_start_s"),
    ]
    assert tuple(r[0] for r in rows) == ROWS
    lines = [f"{'measure':<22} {'result':<92} {'ratio':<16} {'target':<16} status", "-" * 156]
    for name, value, ratio, key in rows:
        target = TARGETS[key][2] if key else ""
        status = verdict(s, key) if key else ""
        lines.append(f"{name:<22} {value:<92} {ratio:<16} {target:<16} {status}")
    return "\n".join(lines)
