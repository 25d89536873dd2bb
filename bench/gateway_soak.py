"""Soak of the reference gateway under hostile load: the big figures, not for CI (minutes, gigabytes).

    .venv/bin/python -m bench.gateway_soak [--tree PATH] [--only fanout,bodies,idle,auth]
        [--fanout-mb 9.5] [--recipients 100] [--bodies 100] [--body-mb 20] [--idle 10000]

Starts a real Mailpit and the gateway of ``--tree`` (default: this checkout; give an older checkout
to measure "before") as its own process with its default bounds, then runs, one after another:

* fanout: one ~9.5 MB message to 100 internal recipients over unauthenticated SMTP: seconds to the
  250, peak and settled RSS of the gateway (psutil, sampled every 50 ms), database growth (file and
  WAL) per accepted MB, seconds until all are in Mailpit;
* bodies: 100 parallel 20 MB HTTP bodies to POST /mpp/api/messages without authentication: peak RSS
  and the answers;
* idle: 10,000 idle connections (half SMTP, half HTTP) held open while one message is sent and
  /healthz asked: whether normal traffic is served, the gateway's descriptors (/proc/<pid>/fd);
* auth: wrong AUTH PLAIN passwords on one SMTP connection for 5 s: attempts per second.

It prints one line per figure with its target and "met" or "MISSED" (tests/gateway/test_gw_bounds.py
proves each bound at CI scale).
"""

from __future__ import annotations

import argparse
import base64
import glob
import json
import os
import shutil
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from email import policy
from email.message import EmailMessage
from pathlib import Path

import psutil
import requests

ROOT = Path(__file__).resolve().parents[1]
SENDER = "soak@corp.example"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(pred, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(0.05)
    raise SystemExit(f"soak: timed out after {timeout}s waiting for {what}")


class Peak(threading.Thread):
    """The highest RSS of a process, sampled every 50 ms."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.process, self.peak, self.done = psutil.Process(pid), 0.0, threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss / 1e6)
            self.done.wait(0.05)

    def stop(self) -> float:
        self.done.set()
        self.join()
        return max(self.peak, self.process.memory_info().rss / 1e6)


class Stack:
    """Mailpit and the gateway of ``tree`` in a throw-away folder."""

    def __init__(self, tree: Path, work: Path) -> None:
        self.tree, self.work = tree, work
        self.mailpit_smtp, self.mailpit_http = free_port(), free_port()
        self.db = work / "gateway.sqlite3"
        self.procs: list[subprocess.Popen] = []

    def start(self) -> Stack:
        built = sorted(glob.glob(os.path.expanduser("~/.cache/smlite/mailpit-v*/mailpit")))
        binary = os.environ.get("SMLITE_MAILPIT") or (built[-1] if built else shutil.which("mailpit") or "mailpit")
        log = open(self.work / "mailpit.log", "ab")
        self.procs.append(
            subprocess.Popen(
                [
                    binary,
                    "--listen",
                    f"127.0.0.1:{self.mailpit_http}",
                    "--smtp",
                    f"127.0.0.1:{self.mailpit_smtp}",
                    "--database",
                    str(self.work / "mailpit.db"),
                    "--disable-version-check",
                    "--smtp-disable-rdns",
                    "--max",
                    "0",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        wait(lambda: self._up(f"http://127.0.0.1:{self.mailpit_http}/api/v1/messages?limit=1"), 30, "Mailpit")
        ready = self.work / "ready.json"
        config = {
            "internal_domains": ["corp.example"],
            "database": str(self.db),
            "admin_token": "soak",
            "relay_port": self.mailpit_smtp,
            "ready_file": str(ready),
            "smtp_users": {"guesser": "right-password"},
        }
        lines = [f"{k} = {json.dumps(v)}" for k, v in config.items() if k != "smtp_users"]
        lines.append('smtp_users = { "guesser" = "right-password" }')
        (self.work / "gateway.toml").write_text("\n".join(lines) + "\n")
        env = {**os.environ, "PYTHONPATH": str(self.tree)}
        env.pop("SMLITE_GATEWAY_VARIANT", None)
        self.gateway = subprocess.Popen(
            [sys.executable, "-m", "harness.gateway", "--config", str(self.work / "gateway.toml")],
            cwd=str(self.tree),
            env=env,
            stdout=open(self.work / "gateway.log", "ab"),
            stderr=subprocess.STDOUT,
        )
        self.procs.append(self.gateway)
        info = json.loads(wait(lambda: ready.exists() and ready.read_text(), 60, "the gateway"))
        self.smtp, self.http = info["smtp_port"], f"http://127.0.0.1:{info['http_port']}"
        self.http_port = info["http_port"]
        return self

    @staticmethod
    def _up(url: str) -> bool:
        try:
            return requests.get(url, timeout=1).ok
        except requests.RequestException:
            return False

    def rss(self) -> float:
        return psutil.Process(self.gateway.pid).memory_info().rss / 1e6

    def disk(self) -> int:
        return sum(p.stat().st_size for p in (self.db, Path(f"{self.db}-wal")) if p.exists())

    def fds(self) -> int:
        return len(os.listdir(f"/proc/{self.gateway.pid}/fd"))

    def delivered(self, tag: str) -> int:
        answer = requests.get(
            f"http://127.0.0.1:{self.mailpit_http}/api/v1/search",
            params={"query": f"subject:{tag}", "limit": "1"},
            timeout=30,
        )
        return int(answer.json().get("messages_count", 0))

    def stop(self) -> None:
        for p in reversed(self.procs):
            p.terminate()
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()


def line(what: str, value: str, target: str, met: bool | None) -> None:
    verdict = "" if met is None else ("met" if met else "MISSED")
    print(f"{what:<44} {value:>22}   target {target:<28} {verdict}", flush=True)


def fanout(stack: Stack, mb: float, recipients: int) -> None:
    tag = f"soak{int(time.time())}"
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"], msg["To"], msg["Subject"] = SENDER, "list@corp.example", f"fan-out {tag}"
    msg["X-SM-Definition"] = "All"
    msg.set_content("A large report is attached.\n")
    msg.add_attachment(
        os.urandom(int(mb * 1e6 * 3 / 4)), maintype="application", subtype="octet-stream", filename="r.bin"
    )
    raw = msg.as_bytes()
    rcpts = [f"r{i}.{tag}@corp.example" for i in range(recipients)]
    base_rss, base_disk = stack.rss(), stack.disk()
    peak = Peak(stack.gateway.pid)
    peak.start()
    started = time.monotonic()
    with smtplib.SMTP("127.0.0.1", stack.smtp, timeout=600) as smtp:
        code = smtp.sendmail(SENDER, rcpts, raw) == {} and 250
    accepted = time.monotonic() - started
    wait(lambda: stack.delivered(tag) >= recipients, 1800, f"{recipients} deliveries")
    all_in = time.monotonic() - started
    top = peak.stop()
    grown = stack.disk() - base_disk
    line("fan-out: answer", f"{code} after {accepted:.1f} s", "250", code == 250)
    line("fan-out: all delivered", f"{all_in:.1f} s", "", None)
    line(
        "fan-out: gateway RSS base -> peak -> after",
        f"{base_rss:.0f} -> {top:.0f} -> {stack.rss():.0f} MB",
        "peak < 300 MB",
        top < 300,
    )
    line(
        "fan-out: database growth per accepted MB",
        f"{grown / len(raw):.2f} MB/MB",
        "about 1 (not x recipients)",
        grown / len(raw) < 2,
    )


def bodies(stack: Stack, count: int, mb: float) -> None:
    size = int(mb * 1e6)
    chunk = b"x" * 65536
    base = stack.rss()
    peak = Peak(stack.gateway.pid)
    peak.start()

    def one(_: int) -> str:
        try:
            with socket.create_connection(("127.0.0.1", stack.http_port), 120) as s:
                s.sendall(
                    f"POST /mpp/api/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {size}\r\n\r\n".encode()
                )
                sent = 0
                try:
                    while sent < size:
                        sent += s.send(chunk[: size - sent])
                except OSError:
                    pass
                s.settimeout(120)
                return s.recv(200).split(b"\r\n", 1)[0].decode(errors="replace") or "closed"
        except OSError as exc:
            return type(exc).__name__

    with ThreadPoolExecutor(count) as pool:
        answers = list(pool.map(one, range(count)))
    top = peak.stop()
    seen = {a: answers.count(a) for a in set(answers)}
    line(
        f"{count} x {mb:g} MB unauthenticated bodies: answers",
        ", ".join(f"{n} {a}" for a, n in seen.items())[:60],
        "",
        None,
    )
    line(f"{count} x {mb:g} MB bodies: RSS base -> peak", f"{base:.0f} -> {top:.0f} MB", "peak < 300 MB", top < 300)


def idle(stack: Stack, total: int) -> None:
    base = stack.fds()
    held: list[socket.socket] = []
    for i in range(total):
        port = stack.smtp if i % 2 == 0 else stack.http_port
        try:
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", port))
            held.append(s)
        except OSError as exc:
            print(f"idle: stopped at {len(held)} connections: {exc}")
            break
    settled, during = time.monotonic(), stack.fds()
    while time.monotonic() - settled < 120:  # until the gateway has taken the whole flood (the kernel queues it)
        time.sleep(2)
        now = stack.fds()
        if abs(now - during) < 10 and time.monotonic() - settled > 6:
            break
        during = now
    print(
        f"idle: {len(held)} connections opened, the gateway's descriptors settled at {during} after {time.monotonic() - settled:.0f} s",
        flush=True,
    )
    tag = f"idle{int(time.time())}"
    served = False
    try:
        health = requests.get(stack.http + "/healthz", timeout=10).status_code
        with smtplib.SMTP("127.0.0.1", stack.smtp, timeout=30) as smtp:
            smtp.sendmail(
                SENDER, ["someone@corp.example"], f"Subject: {tag}\r\nX-SM-Definition: All\r\n\r\nhello\r\n".encode()
            )
        served = health == 200 and bool(
            wait(lambda: stack.delivered(tag) >= 1, 60, "the message sent while idle connections are held")
        )
    except (OSError, smtplib.SMTPException, requests.RequestException) as exc:
        print(f"idle: normal traffic failed: {type(exc).__name__}: {exc}")
    for s in held:
        s.close()
    line(f"{len(held)} idle connections: normal traffic", "served" if served else "NOT served", "served", served)
    line(
        f"{len(held)} idle connections: gateway descriptors", f"{base} -> {during}", "bounded (< 1,000)", during < 1000
    )


def auth(stack: Stack, seconds: float = 5.0) -> None:
    attempts, started = 0, time.monotonic()
    wrong = "PLAIN " + base64.b64encode(b"\0guesser\0wrong").decode()
    smtp = smtplib.SMTP("127.0.0.1", stack.smtp, timeout=30)
    smtp.ehlo("soak")
    while time.monotonic() - started < seconds:
        try:
            code, _ = smtp.docmd("AUTH", wrong)
        except (smtplib.SMTPException, OSError):
            smtp = smtplib.SMTP("127.0.0.1", stack.smtp, timeout=30)  # closed after too many: a new session
            smtp.ehlo("soak")
            continue
        attempts += code == 535
    rate = attempts / (time.monotonic() - started)
    line("AUTH guessing: wrong passwords answered", f"{rate:.1f} /s", "slowed (< 10 /s)", rate < 10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.gateway_soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", type=Path, default=ROOT, help="checkout whose harness/gateway to run")
    parser.add_argument("--only", default="fanout,bodies,idle,auth")
    parser.add_argument("--fanout-mb", type=float, default=9.5)
    parser.add_argument("--recipients", type=int, default=100)
    parser.add_argument("--bodies", type=int, default=100)
    parser.add_argument("--body-mb", type=float, default=20)
    parser.add_argument("--idle", type=int, default=10000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="smlite-soak-") as work:
        stack = Stack(args.tree.resolve(), Path(work)).start()
        print(f"gateway of {args.tree} (pid {stack.gateway.pid}), RSS {stack.rss():.0f} MB at start", flush=True)
        try:
            for name in args.only.split(","):
                {
                    "fanout": lambda: fanout(stack, args.fanout_mb, args.recipients),
                    "bodies": lambda: bodies(stack, args.bodies, args.body_mb),
                    "idle": lambda: idle(stack, args.idle),
                    "auth": lambda: auth(stack),
                }[name.strip()]()
        finally:
            if stack.gateway.poll() is not None:
                print(f"the gateway exited ({stack.gateway.returncode}); its log ends:")
                print((Path(work) / "gateway.log").read_text(errors="replace")[-3000:])
            stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
