"""What the soak watches on the gateway while it is attacked: memory, descriptors, disk.

Owns ``Gauges``: a thread sampling the gateway process (``psutil``: resident memory, open
descriptors, its soft descriptor limit) every ``interval_s``, and the disk the gateway's files take
in the sandbox's run dir (blocks actually allocated, so a preallocated or sparse file counts as what
it costs) - everything in the run dir but Mailpit's own files. It keeps the baseline, the peak and
the last sample of each; ``open_window`` / ``close_window`` watch the disk apart while one thing
happens (the fan-out, until every copy is delivered) so the soak can say what one message cost,
apart from what other attacks write (a log line per refused AUTH).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

import psutil

MAILPIT_FILES = ("mailpit.sqlite3", "mailpit.log")
MB = 1_000_000


def gateway_disk_bytes(run_dir: Path) -> int:
    """Bytes allocated on disk to the gateway's files in ``run_dir`` (Mailpit's left out)."""
    total = 0
    for folder, _dirs, files in os.walk(run_dir):
        for name in files:
            if name.startswith(MAILPIT_FILES):
                continue
            try:
                total += os.lstat(os.path.join(folder, name)).st_blocks * 512
            except OSError:
                continue  # a -wal or -shm removed between the listing and the stat
    return total


@dataclass
class Reading:
    baseline: float = 0.0
    peak: float = 0.0
    last: float = 0.0

    def add(self, value: float) -> None:
        self.last = value
        self.peak = max(self.peak, value)


@dataclass
class Gauges:
    pid: int
    run_dir: Path
    interval_s: float = 0.25
    rss: Reading = field(default_factory=Reading)
    fds: Reading = field(default_factory=Reading)
    disk: Reading = field(default_factory=Reading)
    fd_limit: int = 0
    samples: int = 0
    window: Reading | None = None  # the disk between open_window() and close_window(), else None
    gone: str = ""  # why sampling stopped early (the gateway exited)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> Gauges:
        process = psutil.Process(self.pid)
        self.fd_limit = process.rlimit(psutil.RLIMIT_NOFILE)[0]
        self.rss.baseline = process.memory_info().rss
        self.fds.baseline = process.num_fds()
        self.disk.baseline = gateway_disk_bytes(self.run_dir)
        self._sample(process)
        self._thread = threading.Thread(target=self._loop, args=(process,), name="soak-gauges", daemon=True)
        self._thread.start()
        return self

    def _sample(self, process: psutil.Process) -> None:
        with process.oneshot():
            self.rss.add(process.memory_info().rss)
            self.fds.add(process.num_fds())
        disk = gateway_disk_bytes(self.run_dir)
        self.disk.add(disk)
        if self.window is not None:
            self.window.add(disk)
        self.samples += 1

    def _loop(self, process: psutil.Process) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self._sample(process)
            except psutil.Error as exc:  # NoSuchProcess, ZombieProcess: the gateway died
                self.gone = f"the gateway process is gone ({type(exc).__name__})"
                return

    def open_window(self) -> int:
        """Start watching the disk apart (the fan-out): its baseline is the disk now."""
        now = gateway_disk_bytes(self.run_dir)
        self.window = Reading(baseline=now, peak=now, last=now)
        return now

    def close_window(self) -> Reading:
        """The disk's baseline, peak and last value since ``open_window``."""
        window, self.window = self.window or Reading(), None
        window.add(gateway_disk_bytes(self.run_dir))
        return window

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
