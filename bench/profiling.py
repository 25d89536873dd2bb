"""``python -m bench --profile``: where the suite's time goes, and the gateway's.

While the suite runs once with ``-n 1`` against the bench's sandbox:

* the pytest process runs under pyinstrument (wall-clock, so waiting on the
  network shows up as the call that waited): ``<stamp>-suite.pyinstrument.txt``
  and ``.html``;
* py-spy samples the gateway process (CPU only, idle threads left out):
  ``<stamp>-gateway.pyspy.txt`` (collapsed stacks, flamegraph.pl input) and a
  summary of the hottest functions in the bench's JSON;
* ``spy`` does the same around any block: the bench wraps the gateway
  throughput measurement in it (``<stamp>-gateway-rate.pyspy.txt``).
"""

from __future__ import annotations

import collections
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from bench.suite import SEED
from harness.conformance.runner import REPO, RunOptions, pytest_command


def profile_suite(profile_path: Path, gateway_pid: int, out_dir: Path, stamp: str) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    text, html = out_dir / f"{stamp}-suite.pyinstrument.txt", out_dir / f"{stamp}-suite.pyinstrument.html"
    collapsed = out_dir / f"{stamp}-gateway.pyspy.txt"
    command = pytest_command(RunOptions(quiet=True), profile_path, out_dir / f"{stamp}-scenarios.json", SEED)
    assert command[1:3] == ["-m", "pytest"], command
    session = out_dir / f"{stamp}-suite.pyisession"
    profiled = [sys.executable, "-m", "pyinstrument", "-r", "pyisession", "-o", str(session), *command[1:]]
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    with spy(gateway_pid, collapsed) as gateway:
        subprocess.run(profiled, cwd=REPO, env=env, check=False, capture_output=True)
    for renderer, path in (("text", text), ("html", html)):
        subprocess.run(
            [sys.executable, "-m", "pyinstrument", "--load", str(session), "-r", renderer, "-o", str(path)],
            check=False,
            capture_output=True,
        )
    session.unlink(missing_ok=True)
    (out_dir / f"{stamp}-scenarios.json").unlink(missing_ok=True)
    return {"suite_text": str(text), "suite_html": str(html), "gateway": gateway}


@contextlib.contextmanager
def spy(pid: int, output: Path) -> Iterator[dict]:
    """py-spy on process `pid` for the duration of the block; the summary lands in the yielded dict."""
    found: dict = {}
    process = _start_py_spy(pid, output)
    try:
        yield found
    finally:
        if process is not None:
            process.send_signal(signal.SIGINT)
            process.wait(30)
        if output.exists():
            found |= {"collapsed": str(output), "hot": hottest(output)}


def _start_py_spy(pid: int, output: Path) -> subprocess.Popen | None:
    binary = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(binary).exists():
        return None
    return subprocess.Popen(
        [binary, "record", "--pid", str(pid), "--rate", "200", "--format", "raw", "--output", str(output)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


IDLE = (
    "_worker (concurrent/futures/thread.py)",
    "Condition.wait (threading.py)",
    "Event.wait (threading.py)",
    "EpollSelector.select (selectors.py)",
    "select (selectors.py)",
)


def hottest(collapsed: Path, top: int = 12) -> dict:
    """Self and inclusive shares of the gateway's busy samples (threads parked in a
    queue, a condition or the event loop's select are left out: py-spy counts some
    of them as active)."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        samples = int(count)
        frames = [re.sub(r" \((.*?):\d+\)$", r" (\1)", f) for f in stack.split(";") if " (" in f]
        if not frames or frames[-1] in IDLE:
            continue
        total += samples
        if frames:
            own[frames[-1]] += samples
        for frame in {f for f in frames if "gateway/" in f}:  # the gateway's own code, inclusive
            inclusive[frame] += samples
    share = lambda c: [(name, round(100 * n / max(total, 1), 1)) for name, n in c.most_common(top)]  # noqa: E731
    return {"samples": total, "self_pct": share(own), "inclusive_pct": share(inclusive)}
