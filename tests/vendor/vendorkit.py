"""Helpers of the vendor tests: run the `smlite` command as a vendor would, keep a sandbox up, write profiles."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
_SCRIPT = Path(sys.executable).with_name("smlite")
# The installed console script, as a vendor runs it (the current directory is NOT on its sys.path).
SMLITE = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "harness.cli.main"]


def smlite(*args: str, env: dict | None = None, timeout: float = 180, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*SMLITE, *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(os.environ, **(env or {})),
    )


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports free right now (all held open until all are chosen)."""
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()


class SandboxUp:
    """`smlite sandbox up ARGS` in the background, its own state dir; stopped with Ctrl-C (SIGINT)."""

    def __init__(self, folder: Path, *args: str):
        self.folder = folder
        self.log = folder / "sandbox-up.log"
        self.args = args
        self.process: subprocess.Popen | None = None

    def start(self, deadline_s: float = 40) -> SandboxUp:
        env = dict(os.environ, XDG_STATE_HOME=str(self.folder / "state"))
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [*SMLITE, "sandbox", "up", *self.args], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        give_up = time.monotonic() + deadline_s
        while "Ctrl-C to stop" not in self.output():
            if self.process.poll() is not None or time.monotonic() > give_up:
                self.stop()
                raise AssertionError(f"smlite sandbox up did not come up:\n{self.output()}")
            time.sleep(0.1)
        return self

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return self.process and self.process.returncode
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(5)


def read_toml(path: Path) -> dict:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def example_driver_profile(reference_profile: Path, out: Path) -> Path:
    """examples/example-driver-profile.toml with the ports and token of a running sandbox's profile."""
    running = read_toml(reference_profile)
    host, _, port = running["target"]["smtp"].rpartition(":")
    text = (EXAMPLES / "example-driver-profile.toml").read_text(encoding="utf-8")
    for old, new in (
        ('"http://127.0.0.1:8080"', f'"{running["target"]["http"]}"'),
        ("smtp_port = 2525", f"smtp_port = {port}"),
        ('smtp_host = "127.0.0.1"', f'smtp_host = "{host}"'),
        ('"change-me"', f'"{running["target"]["admin_token"]}"'),
        ('"http://127.0.0.1:8025"', f'"{running["mailpit"]["api"]}"'),
        ('"127.0.0.1:1025"', f'"{running["mailpit"]["smtp"]}"'),
    ):
        assert old in text, old
        text = text.replace(old, new)
    out.write_text(text, encoding="utf-8")
    return out
