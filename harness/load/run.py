"""The load itself: ``python -m harness.load.run --profile FILE ...`` (run by `smlite load`).

Imports Locust first (it patches the process with gevent), then:

1. builds the ``LoadContext`` (population, run tag, message cap = rate ×
   duration + users) and a Locust ``Environment`` with ``SecureMessagingUser``
   (each user sends every users / rate seconds), and a local runner;
2. starts every user at once, with the ``DeliveryWatch`` on Mailpit's event
   stream and four ``SampleChecker`` greenlets on the sample queue;
3. stops after ``--duration`` (or once the cap is spent), lets the sample
   checks finish (bounded), and waits (bounded by ``--drain-timeout``) until
   Mailpit holds every delivery of every accepted message;
4. prints the report (and ``--json``): throughput, accept and delivery latency
   percentiles, errors, the sample's conformance, lost messages.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time

import gevent
import gevent.event
from locust import events
from locust.env import Environment

from harness import policy
from harness.errors import HarnessError, UsageError
from harness.load import command as load
from harness.load.check import DeliveryWatch, SampleChecker, count_deliveries, missing
from harness.load.user import LoadContext, SecureMessagingUser
from harness.mailbox.mailpit import MailpitClient
from harness.profile.schema import load as load_profile

CHECKERS = 4


def percentiles(values: list[float]) -> dict:
    ordered = sorted(values)
    pick = lambda q: round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1) if ordered else None  # noqa: E731
    return {"p50": pick(0.50), "p95": pick(0.95), "p99": pick(0.99), "max": pick(1.0), "count": len(ordered)}


def run(args: argparse.Namespace) -> dict:
    profile = load_profile(args.profile)
    load.require_loopback(profile)
    cap = int(args.rate * args.duration) + args.users
    context = LoadContext(
        profile,
        args.seed,
        args.sample_every,
        args.max_samples,
        max_messages=cap,
        pacing_s=args.users / args.rate,
        apps=tuple(a.strip() for a in args.apps.split(",") if a.strip()),
    )
    SecureMessagingUser.shared = context
    environment = Environment(user_classes=[SecureMessagingUser], events=events, stop_timeout=30)
    runner = environment.create_local_runner()
    baseline = MailpitClient(profile.mailpit["api"]).count()  # also proves Mailpit answers before we start
    watch, checker = DeliveryWatch(context), SampleChecker(context)
    watcher = gevent.spawn(watch.run)
    checkers = [gevent.spawn(_check_samples, context, checker) for _ in range(CHECKERS)]
    print(
        f"smlite load: {args.users} users, {args.rate:g} msg/s, {args.duration:g} s, seed {args.seed}, "
        f"run tag {context.tag}, at most {cap} messages, 1 in {args.sample_every} checked "
        f"(at most {args.max_samples})",
        file=sys.stderr,
        flush=True,
    )
    stop = gevent.event.Event()
    gevent.signal_handler(signal.SIGINT, stop.set)
    started = time.perf_counter()
    runner.start(args.users, spawn_rate=args.users)
    while not stop.wait(0.25) and time.perf_counter() - started < args.duration:
        if context.attempted >= cap:
            break
    context.closing = True  # no new sends; the ones under way finish (bounded)
    finishing = time.perf_counter() + 30
    while context.in_flight and time.perf_counter() < finishing:
        gevent.sleep(0.02)  # waiting for in-flight sends to answer, not for mail
    elapsed = time.perf_counter() - started
    runner.quit()
    for _ in range(CHECKERS):
        context.samples.put(None)
    gevent.joinall(checkers, timeout=profile.delivery_timeout_s * 3 + 30)
    expected = context.expected_deliveries()
    found = count_deliveries(context, expected, args.drain_timeout)
    watch.stopped = True
    watcher.join(2)
    return report(args, context, environment, checker, watch, elapsed, expected, found, baseline)


def _check_samples(context: LoadContext, checker: SampleChecker) -> None:
    while (sample := context.samples.get()) is not None:
        checker.check(sample)


def report(args, context, environment, checker, watch, elapsed, expected, found, baseline) -> dict:
    total = environment.stats.total
    accept = {
        "p50": total.get_response_time_percentile(0.5),
        "p95": total.get_response_time_percentile(0.95),
        "p99": total.get_response_time_percentile(0.99),
        "max": round(total.max_response_time or 0, 1),
    }
    per_name = {
        f"{e.method} {e.name}": {
            "requests": e.num_requests,
            "failures": e.num_failures,
            "p50": e.get_response_time_percentile(0.5),
            "p95": e.get_response_time_percentile(0.95),
        }
        for e in environment.stats.entries.values()
    }
    accepted = len(context.recipients)
    lost = max(0, expected - found)
    sample = checker.summary()
    result = {
        "users": args.users,
        "rate": args.rate,
        "duration_s": round(elapsed, 2),
        "seed": args.seed,
        "run_tag": context.tag,
        "attempted": context.attempted,
        "accepted": accepted,
        "refused": context.refused,
        "errors": context.errors,
        "unanswered": context.attempted - accepted - context.refused - context.errors,
        "throughput": {"accepted_per_s": round(accepted / elapsed, 2), "deliveries_per_s": round(found / elapsed, 2)},
        "by_application": context.by_app,
        "by_definition": context.by_definition,
        "accept_latency_ms": accept,
        "per_request": per_name,
        "delivery_latency_ms": percentiles(watch.latencies_ms) | {"stream": watch.broken or "ok"},
        "deliveries": {
            "expected": expected,
            "found": found,
            "lost": lost,
            "duplicates": max(0, found - expected),
            "mailpit_total_before": baseline,
        },
        "missing": missing(context) if lost else [],
        "sample": sample,
        "failures": [f"{e.method} {e.name}: {e.error} ×{e.occurrences}" for e in environment.stats.errors.values()],
    }
    result["ok"] = bool(
        sample["conforming"]
        and lost == 0
        and context.errors == 0
        and context.refused == 0
        and result["unanswered"] == 0
        and accepted > 0
    )
    return result


def render(r: dict) -> str:
    a, d, s, dl = r["accept_latency_ms"], r["deliveries"], r["sample"], r["delivery_latency_ms"]
    apps = " · ".join(f"{k} {v}" for k, v in sorted(r["by_application"].items()))
    defs = " · ".join(f"{k} {v}" for k, v in sorted(r["by_definition"].items()))
    lines = [
        f"smlite load: {r['duration_s']:.1f} s, {r['users']} users, target {r['rate']:g} msg/s, "
        f"seed {r['seed']}, run tag {r['run_tag']}",
        f"messages      {r['attempted']} attempted, {r['accepted']} accepted, {r['refused']} refused, "
        f"{r['errors']} errors" + (f", {r['unanswered']} UNANSWERED (stopped mid-send)" if r["unanswered"] else ""),
        f"throughput    {r['throughput']['accepted_per_s']:.2f} msg/s accepted, "
        f"{r['throughput']['deliveries_per_s']:.2f} deliveries/s into Mailpit",
        f"mix           {apps}; {defs}",
        f"accept        p50 {a['p50']} ms, p95 {a['p95']} ms, p99 {a['p99']} ms, max {a['max']} ms "
        "(SMTP 250 / HTTP 202)",
        f"delivery      p50 {dl['p50']} ms, p95 {dl['p95']} ms, p99 {dl['p99']} ms, max {dl['max']} ms "
        f"(send → in Mailpit, {dl['count']} deliveries timed; event stream {dl['stream']})",
        f"deliveries    expected {d['expected']} (accepted × recipients), in Mailpit {d['found']}, "
        f"lost {d['lost']}, duplicates {d['duplicates']}",
        f"sample        {s['messages']} messages, {s['recipients']} recipients, {s['cells']} cells: "
        f"{s['passed']} passed, {s['failed']} failed, {s['observed']} observed (not specified), "
        f"{s['contract_differences']} contract difference(s); "
        f"rows {', '.join(s['refs']) or '-'} → {'conforming' if s['conforming'] else 'NOT CONFORMING'}",
    ]
    lines += [
        f"  failed: {f['recipient']} {f['column']}: expected {f['expected']!r}, observed "
        f"{f['observed']!r} — {f['detail']}"
        for f in s["failures"][:5]
    ]
    lines += [
        f"  contract: {f['recipient']} {f['column']}: {f['observed']!r} ({policy.CONTRACT_NOTE})"
        for f in s["differences"][:5]
    ]
    lines += [f"  sample error: {e}" for e in s["errors"][:5]]
    lines += [f"  missing: {m}" for m in r["missing"][:10]]
    lines += [f"  request failure: {f}" for f in r["failures"][:5]]
    lines.append("verdict: " + ("PASS (conforming sample, no lost messages, no errors)" if r["ok"] else "FAIL"))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.load.run", description=__doc__.splitlines()[0])
    load.add_arguments(parser)
    parser.add_argument("--profile", required=True, help="the target profile (the sandbox's, or --target)")
    args = parser.parse_args(argv)
    try:
        load.check_arguments(args)
        if args.seed is None:
            raise UsageError("--seed is required here", "smlite load chooses one")
        result = run(args)
    except UsageError as exc:
        print(f"smlite load: {exc}", file=sys.stderr)
        return 2
    except HarnessError as exc:
        print(f"smlite load: harness error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # a bug: one line and 2, never a traceback and 1 (a failed load)
        print(f"smlite load: internal error: {type(exc).__name__}: {' '.join(str(exc).split())[:300]}", file=sys.stderr)
        return 2
    print(render(result), flush=True)
    if args.json:
        try:
            args.json.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
        except OSError as exc:
            print(f"smlite load: harness error: cannot write {args.json}: {exc.strerror or exc}", file=sys.stderr)
            return 2
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
