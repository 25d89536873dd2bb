"""`make soak` / `python -m tools.hardening.soak`: the sandbox under hostile load while a conformance run proceeds.

Starts the embedded sandbox (real Mailpit, the reference gateway with SMTP AUTH on), starts
``smlite run`` against it - again each time it ends, until the last attack is over, so a run is in
progress throughout - and attacks the gateway meanwhile (tools/hardening/attacks.py):

1. 10,000 SMTP connections opened and left idle after the greeting, and 200 HTTP bodies arriving one
   byte a second, both held until the run ends;
2. one secure message of about 9.5 MB to 100 internal recipients (a fan-out), followed until Mailpit
   holds a copy for every recipient;
3. 100 unauthenticated requests at once, each streaming a 20 MB body, twice;
4. AUTH PLAIN guessing on 4 connections for 20 s, then one login with the real account.

Meanwhile tools/hardening/gauges.py samples the gateway process. The soak prints each attack's
outcome, then the measures against their targets, each ``met`` or ``MISSED``:

* peak gateway RSS < 300 MB (``RSS_MAX_MB``);
* disk growth per accepted megabyte <= 3 (``DISK_PER_MB_MAX``): the gateway's disk at its peak while
  the fan-out is accepted and delivered, minus its disk just before, per megabyte of the message -
  about the message's size (stored once, its SQLite WAL copy until a checkpoint), never x recipients
  (which would be >= 100). The suite's own messages in that window count too (a few kB each); the
  whole soak's growth (a log line per refused AUTH...) is printed apart;
* peak open descriptors <= 1,024 (``FDS_MAX``: within the usual default soft limit, so an attacked
  gateway never runs out);
* AUTH attempts per second <= 10 (``AUTH_PER_S_MAX``), the real account still logging in;
* every run's verdict Conformant.

It measures whatever gateway it starts (``--variant``, or the gateway as it is in this tree), so the
same command gives the figures before and after the gateway is bounded. Every scale is an option
(``--idle 2000``...); ``--quick`` is a small smoke run (a few seconds of each attack, ``-k`` of one
row). Exit code: 0 when every target is met, 1 when one is missed, 2 when the soak itself could not
run (no Mailpit, too few descriptors for the idle connections). Not part of ``make test``: a full
soak takes minutes and gigabytes of loopback traffic.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import smtplib
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

import requests

from harness.errors import HarnessError
from harness.files import atomic_write_text
from harness.profile.schema import from_sandbox
from harness.sandbox.lifecycle import GatewaySettings, Sandbox
from tools.hardening import attacks
from tools.hardening.gauges import MB, Gauges

REPO = Path(__file__).resolve().parents[2]
RSS_MAX_MB = 300
DISK_PER_MB_MAX = 3.0
FDS_MAX = 1024
AUTH_PER_S_MAX = 10.0


@dataclass
class Scale:
    recipients: int = 100
    fanout_mb: float = 9.5
    bodies: int = 100
    body_mb: float = 20.0
    body_rounds: int = 2
    idle: int = 10_000
    slow: int = 200
    guessers: int = 4
    auth_seconds: float = 20.0
    select: str | None = None
    workers: int = 1
    variant: str = ""


QUICK = {
    "recipients": 5,
    "fanout_mb": 1.0,
    "bodies": 5,
    "body_mb": 2.0,
    "body_rounds": 1,
    "idle": 50,
    "slow": 5,
    "guessers": 2,
    "auth_seconds": 3.0,
    "select": "T1-r1 and Outlook",
}


def parse(argv: list[str] | None) -> tuple[Scale, argparse.Namespace]:
    parser = argparse.ArgumentParser(prog="python -m tools.hardening.soak", description=__doc__.splitlines()[0])
    defaults = Scale()
    for name, value in asdict(defaults).items():
        flag = "--" + name.replace("_", "-")
        kind = type(value) if value is not None else str
        parser.add_argument(flag, type=kind, default=None, metavar=name.upper(), help=f"default {value!r}")
    parser.add_argument("-k", dest="select_k", metavar="EXPR", help="the run's -k (same as --select)")
    parser.add_argument("--quick", action="store_true", help="a small smoke soak: " + json.dumps(QUICK))
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    given = {k: v for k, v in vars(args).items() if k in asdict(defaults) and v is not None}
    chosen = {**(QUICK if args.quick else {}), **given}
    if args.select_k:
        chosen["select"] = args.select_k
    return Scale(**{**asdict(defaults), **chosen}), args


def raise_descriptor_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed <= hard or (hard == resource.RLIM_INFINITY and soft < needed):
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
    elif hard != resource.RLIM_INFINITY and hard < needed:
        raise HarnessError(
            "Too few file descriptors for the soak",
            f"{needed} needed for the idle connections, the hard limit is {hard}: lower --idle or raise ulimit -Hn",
        )


def delivered(mailpit_api: str, tag: str) -> int:
    params: dict[str, str | int] = {"query": tag, "limit": 1}
    answer = requests.get(f"{mailpit_api}/api/v1/search", params=params, timeout=10)
    answer.raise_for_status()
    return int(answer.json().get("messages_count", 0))


async def wait_delivered(mailpit_api: str, tag: str, wanted: int, deadline_s: float) -> tuple[int, float]:
    started = time.monotonic()
    count = 0
    while time.monotonic() - started < deadline_s:
        count = await asyncio.to_thread(delivered, mailpit_api, tag)
        if count >= wanted:
            break
        await asyncio.sleep(1.0)
    return count, time.monotonic() - started


def login_works(host: str, port: int, account: tuple[str, str]) -> str:
    try:
        with smtplib.SMTP(host, port, timeout=120) as smtp:
            smtp.login(*account)
        return "accepted"
    except (smtplib.SMTPException, OSError) as exc:
        return f"refused ({type(exc).__name__}: {str(exc)[:120]})"


def run_command(profile: Path, reports: Path, scale: Scale) -> list[str]:
    argv = [
        sys.executable,
        "-m",
        "harness.cli.main",
        "run",
        "--target",
        str(profile),
        "-q",
        "--reports-dir",
        str(reports),
    ]
    if scale.select:
        argv += ["-k", scale.select]
    return argv + (["-n", str(scale.workers)] if scale.workers > 1 else [])


async def one_run(argv: list[str], env: dict[str, str], t0: float) -> dict:
    """One ``smlite run``: its exit code, verdict, when it started and ended, and its tail when it failed."""
    started = time.monotonic() - t0
    run = await asyncio.create_subprocess_exec(
        *argv, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    stdout, stderr = await run.communicate()
    text = stdout.decode("utf-8", "replace")
    verdict = re.search(r"^verdict: (.+?)(?:\s+\(seed|$)", text, re.M)
    return {
        "exit_code": run.returncode,
        "verdict": verdict.group(1).split(" — ")[0].strip() if verdict else "no verdict",
        "started_s": round(started, 1),
        "ended_s": round(time.monotonic() - t0, 1),
        "tail": (text + stderr.decode("utf-8", "replace"))[-1500:] if run.returncode else "",
    }


async def attack(sandbox: Sandbox, gauges: Gauges, scale: Scale, run_argv: list[str]) -> dict:
    """Every attack in turn while ``smlite run`` runs - again and again until the last attack ended, so a
    run is always in progress while the gateway is attacked."""
    info = sandbox.info()
    host, smtp_port = info["gateway_smtp"]
    http_port = urlsplit(info["gateway_http"]).port
    account = (info["smtp_username"], info["smtp_password"])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    stop, opened = asyncio.Event(), asyncio.Event()
    phases: dict[str, float] = {}
    t0 = time.monotonic()
    runs: list[dict] = []

    async def keep_running() -> None:
        while not stop.is_set():
            runs.append(await one_run(run_argv, env, t0))

    runner = asyncio.ensure_future(keep_running())
    idle = asyncio.ensure_future(attacks.idle_smtp(host, smtp_port, scale.idle, stop, opened))
    slow = asyncio.ensure_future(attacks.slow_bodies(host, http_port, scale.slow, stop))
    await asyncio.wait_for(opened.wait(), 600)
    phases["idle connections opened"] = time.monotonic() - t0
    gauges.open_window()
    recipients = [f"soak{i:03d}@{info['internal_domains'][0]}" for i in range(scale.recipients)]
    fan = await attacks.fan_out(host, smtp_port, account, recipients, int(scale.fanout_mb * MB))
    if fan["accepted"]:
        fan["delivered"], fan["delivery_seconds"] = await wait_delivered(
            info["mailpit_api"], fan["tag"], len(recipients), 600
        )
    window = gauges.close_window()
    phases["fan-out done"] = time.monotonic() - t0
    storms = []
    for _ in range(scale.body_rounds):
        storms.append(await attacks.body_storm(host, http_port, scale.bodies, int(scale.body_mb * MB)))
    phases["body storms done"] = time.monotonic() - t0
    guessing = await attacks.auth_guessing(host, smtp_port, account[0], scale.guessers, scale.auth_seconds)
    guessing["real_login_after"] = await asyncio.to_thread(login_works, host, smtp_port, account)
    phases["attacks done"] = time.monotonic() - t0
    stop.set()  # the run in progress finishes; no other starts; the idle and slow connections let go
    held = {"idle": await idle, "slow": await slow}
    await asyncio.wait_for(runner, 3600)
    phases["runs done"] = time.monotonic() - t0
    return {
        "fan_out": fan,
        "fan_out_disk": {"before": window.baseline, "peak": window.peak, "after": window.last},
        "body_storms": storms,
        "auth_guessing": guessing,
        **held,
        "runs": runs,
        "phases_s": {k: round(v, 1) for k, v in phases.items()},
    }


def measures(result: dict, gauges: Gauges) -> list[tuple[str, str, str, bool]]:
    """(measure, value, target, met) for each target of the module docstring."""
    fan = result["fan_out"]
    disk = result["fan_out_disk"]
    growth = disk["peak"] - disk["before"]
    per_mb = growth / fan["bytes"] if fan.get("accepted") else float("inf")  # MB of disk per MB accepted
    auth = result["auth_guessing"]
    verdicts = [run["verdict"] for run in result["runs"]]
    verdict = ", ".join(sorted(set(verdicts))) or "no run"
    return [
        (
            "peak gateway RSS",
            f"{gauges.rss.peak / MB:,.0f} MB",
            f"< {RSS_MAX_MB} MB",
            gauges.rss.peak / MB < RSS_MAX_MB,
        ),
        ("disk growth per accepted MB", f"{per_mb:,.2f} MB", f"<= {DISK_PER_MB_MAX}", per_mb <= DISK_PER_MB_MAX),
        ("peak open descriptors", f"{gauges.fds.peak:,.0f}", f"<= {FDS_MAX:,}", gauges.fds.peak <= FDS_MAX),
        (
            "AUTH attempts per second",
            f"{auth['per_second']:,.1f}",
            f"<= {AUTH_PER_S_MAX:g}, real login works",
            auth["per_second"] <= AUTH_PER_S_MAX and auth["real_login_after"] == "accepted",
        ),
        ("the runs' verdict", verdict, "Conformant", bool(verdicts) and set(verdicts) == {"Conformant"}),
    ]


def _counts(tally: dict) -> str:
    return ", ".join(f"{k}: {v:,}" for k, v in sorted(tally.get("counts", {}).items())) or "nothing"


def report(result: dict, gauges: Gauges, scale: Scale) -> str:
    fan, auth, phases = result["fan_out"], result["auth_guessing"], result["phases_s"]
    if fan.get("accepted"):
        fan_text = (
            f"accepted in {fan['seconds']:.1f} s ({fan['bytes'] / MB:.1f} MB); "
            f"in Mailpit {fan.get('delivered', 0)}/{fan['recipients']} after {fan.get('delivery_seconds', 0):.0f} s"
        )
    else:
        fan_text = f"NOT accepted: {fan.get('error')}"
    taken = sum(s.get("bytes_taken", 0) for s in result["body_storms"]) / MB
    storm = "; ".join(_counts(s) for s in result["body_storms"]) + f"; {taken:,.0f} MB taken in all"
    runs = result["runs"]
    run_text = "; ".join(
        f"{r['verdict']} (exit {r['exit_code']}, {r['started_s']:.0f}-{r['ended_s']:.0f} s)" for r in runs
    )
    rows = [
        (f"fan-out ({scale.fanout_mb:g} MB to {scale.recipients} internal)", "1", fan_text),
        (f"unauthenticated {scale.body_mb:g} MB bodies", f"{scale.body_rounds} x {scale.bodies}", storm),
        ("idle SMTP connections", f"{scale.idle:,}", _counts(result["idle"])),
        ("slow HTTP bodies (1 byte/s)", f"{scale.slow:,}", _counts(result["slow"])),
        (
            f"AUTH guessing ({scale.guessers} conn., {scale.auth_seconds:g} s)",
            f"{auth['attempts']:,}",
            _counts(auth) + f"; real login after: {auth['real_login_after']}",
        ),
        (
            f"conformance runs ({'-k' if scale.select else 'the whole suite'})",
            f"{len(runs)}",
            f"{run_text}; attacks from {phases['idle connections opened']:.0f} to {phases['attacks done']:.0f} s",
        ),
    ]
    lines = ["soak: the reference gateway under hostile load while `smlite run` proceeds", ""]
    lines += [f"{'attack':<44} {'tried':>10}  outcome"] + [f"{a:<44} {t:>10}  {o}" for a, t, o in rows]
    lines += ["", f"{'measure':<44} {'value':>14}  {'target':<30} "]
    met_all = True
    for name, value, target, met in measures(result, gauges):
        met_all &= met
        lines.append(f"{name:<44} {value:>14}  {target:<30} {'met' if met else 'MISSED'}")
    lines += [
        "",
        f"gateway: RSS {gauges.rss.baseline / MB:,.0f} MB and {gauges.fds.baseline:,.0f} descriptors at rest "
        f"(soft limit {gauges.fd_limit:,}); {gauges.samples} samples" + (f"; {gauges.gone}" if gauges.gone else ""),
    ]
    lines.append(
        f"gateway disk: {gauges.disk.baseline / MB:,.1f} MB at rest, {gauges.disk.peak / MB:,.1f} MB at its peak "
        f"over the whole soak; the fan-out window: {result['fan_out_disk']['before'] / MB:,.1f} -> "
        f"{result['fan_out_disk']['peak'] / MB:,.1f} MB"
    )
    for run in runs:
        if run["tail"]:
            lines += ["", f"the output of the run that started at {run['started_s']:.0f} s:", run["tail"]]
    lines.append("soak: every target met" if met_all else "soak: targets MISSED (see above)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    scale, args = parse(argv)
    try:
        raise_descriptor_limit(scale.idle + scale.slow + scale.bodies * 2 + 512)
        with tempfile.TemporaryDirectory(prefix="smlite-soak-") as scratch:
            settings = GatewaySettings(variant=scale.variant)
            print(
                f"soak: starting the sandbox (gateway with SMTP AUTH){' [' + scale.variant + ']' if scale.variant else ''}",
                file=sys.stderr,
                flush=True,
            )
            with Sandbox(None, settings, auth=True, ready_deadline_s=60) as sandbox:
                profile = from_sandbox(sandbox.info()).save_json(Path(scratch) / "profile.json")
                gauges = Gauges(sandbox.gateway.pid, sandbox.run_dir).start()  # type: ignore[union-attr]
                print("soak: attacking while `smlite run` proceeds …", file=sys.stderr, flush=True)
                try:
                    result = asyncio.run(
                        attack(sandbox, gauges, scale, run_command(profile, Path(scratch) / "reports", scale))
                    )
                finally:
                    gauges.stop()
    except HarnessError as exc:
        print(f"soak: harness error: {exc}", file=sys.stderr)
        return 2
    text = report(result, gauges, scale)
    print(text)
    if args.json:
        figures = {
            "scale": asdict(scale),
            "result": result,
            "gauges": {
                "rss_peak_mb": gauges.rss.peak / MB,
                "rss_baseline_mb": gauges.rss.baseline / MB,
                "fds_peak": gauges.fds.peak,
                "fds_baseline": gauges.fds.baseline,
                "fd_limit": gauges.fd_limit,
                "disk_peak_mb": gauges.disk.peak / MB,
                "disk_baseline_mb": gauges.disk.baseline / MB,
            },
            "measures": [dict(zip(("measure", "value", "target", "met"), m)) for m in measures(result, gauges)],
        }
        atomic_write_text(args.json, json.dumps(figures, indent=2, default=str))
    return 0 if all(m[3] for m in measures(result, gauges)) else 1


if __name__ == "__main__":
    sys.exit(main())
