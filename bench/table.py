"""The bench's table: one row per measurement, its ratio, the issue's target.

``ROWS`` names every row; ``render(result)`` writes them from the JSON the
bench collected (bench/run.py). Targets are issue 7's.
"""

from __future__ import annotations

ROWS = ("floor", "suite -n 1", "suite -n 2", "latency via gateway", "latency into Mailpit",
        "Mailpit ingest", "gateway throughput", "cold start")

TARGETS = {  # summary key: (comparison, bound, how it reads)
    "suite_vs_floor": ("<=", 2.0, "≤ 2× floor"),
    "speedup_n2": (">=", 1.6, "≥ 1.6×"),
    "latency_p50_ms": ("<=", 25.0, "p50 ≤ 25 ms"),
    "gateway_vs_mailpit": (">=", 0.8, "≥ 0.8× Mailpit"),
    "cold_start_s": ("<=", 2.0, "≤ 2 s"),
}


def verdict(summary: dict, key: str) -> str:
    op, bound, _ = TARGETS[key]
    value = summary[key]
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
                                f"{lat['gateway']['samples']} samples)", "", "latency_p50_ms"),
        ("latency into Mailpit", f"p50 {lat['mailpit']['p50_ms']:.1f} ms, p95 {lat['mailpit']['p95_ms']:.1f} ms "
                                 "(no gateway, for reference)", "", ""),
        ("Mailpit ingest", f"{rates['mailpit']['per_second']:.0f} msg/s ({rates['mailpit']['messages']} msgs, "
                           f"{rates['mailpit']['concurrency']} connections{_cpu(rates['mailpit'])})", "", ""),
        ("gateway throughput", f"{rates['gateway']['per_second']:.0f} msg/s (secure, into Mailpit"
                               f"{_cpu(rates['gateway'])})",
         f"{s['gateway_vs_mailpit']:.2f}× Mailpit", "gateway_vs_mailpit"),
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
