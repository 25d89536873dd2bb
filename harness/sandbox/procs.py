"""Child processes of the sandbox: ports, start, stop, cleanup, polling.

Owns:

* ``free_port`` / ``free_ports``: free TCP ports on the loopback interface.
* ``start_process``: a child in its own process group (its own session), with
  stdout and stderr appended to a log file only its owner may read (0600), and a
  umask of 0o077 (``PRIVATE_UMASK``), so every file a child makes - Mailpit's and
  the gateway's SQLite databases with their -wal and -shm files, which hold live
  sessions, portal tokens and every message body - is 0600 whatever the user's umask; ``ChildProcess.stop`` sends
  SIGTERM to the whole group, then SIGKILL after a deadline, so nothing the
  child started survives it.
* children die with the harness even when it is SIGKILLed (nothing runs in
  the harness then): each child gets the Linux parent-death signal SIGTERM
  (``prctl(PR_SET_PDEATHSIG)`` through ctypes, in ``preexec_fn``, followed by
  a ``getppid`` re-check for a parent that died before the prctl). The kernel
  sends it when the parent *thread* that forked the child ends, so
  ``start_process`` forks from the main thread, and from any other thread
  hands the fork to one long-lived spawner thread (a short-lived worker
  thread would otherwise take its children with it). A child that starts
  grandchildren (the gateway behind a wrapper script) escapes the signal,
  which does not pass to grandchildren: every child therefore also inherits
  the read end of a "lifeline" pipe (harness/sandbox/lifeline.py) whose
  write end only the harness holds; the gateway watches it and stops at EOF.
  ``tied_to_parent()`` gives the same ``preexec_fn`` for other subprocesses
  (the suite's pytest). Elsewhere than Linux only the lifeline remains.
* a registry of live children, stopped (newest first) at interpreter exit.
  Ctrl-C unwinds ``with`` blocks and then runs the registry; SIGTERM (and
  SIGHUP), whose default action would kill Python without running either, is
  turned into ``SystemExit`` when nobody else handles it. The handler only
  raises: the stopping happens in normal code, never inside the handler.
* ``wait_until``: the one polling loop every readiness check uses (short
  growing interval, a deadline, a HarnessError saying expected vs seen).
* ``smtp_greeting`` / ``http_status``: one-shot readiness probes.

Hand-written on the standard library rather than with mirakuru or
pytest-xprocess: about 200 lines cover it, our readiness needs two probes
(HTTP and an SMTP 220) per child, and one registry must cover both Mailpit and
the gateway for the CLI as well as for tests.
"""

from __future__ import annotations

import atexit
import ctypes
import ctypes.util
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from harness.sandbox import lifeline
from harness.sandbox.probes import http_status, smtp_greeting, wait_until  # noqa: F401  (re-exported)

T = TypeVar("T")
_ERROR_LINE = re.compile(r"error|fatal|traceback|exception", re.I)
LOOPBACK = "127.0.0.1"
PRIVATE_UMASK = 0o077  # files a child makes: owner only

_live: dict[int, ChildProcess] = {}
_live_lock = threading.Lock()
_exit_hooks_installed = False


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    return free_ports(1, host)[0]


def free_ports(count: int, host: str = LOOPBACK) -> list[int]:
    """`count` distinct free ports (all held open until every one is picked)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((host, 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@dataclass
class ChildProcess:
    """A started child; its pid is also its process-group id."""

    name: str
    argv: list[str]
    log_path: Path
    popen: subprocess.Popen = field(repr=False)
    _reaped: bool = field(default=False, repr=False)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    @property
    def returncode(self) -> int | None:
        return self.popen.poll()

    def log_tail(self, lines: int = 30) -> str:
        """The log's last lines, preceded by its earlier error lines (a CLI
        often prints "Error: ..." and then a long usage text)."""
        try:
            all_lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return f"(no log at {self.log_path})"
        tail = all_lines[-lines:]
        earlier_errors = [line for line in all_lines[:-lines] if _ERROR_LINE.search(line)][:10]
        if earlier_errors:
            tail = [*earlier_errors, "...", *tail]
        return "\n".join(tail) or "(log is empty)"

    def stop(self, deadline_s: float = 5.0) -> int | None:
        """SIGTERM the group; SIGKILL it if the child outlives the deadline."""
        if self._reaped:  # the pid may belong to someone else by now
            return self.popen.returncode
        if self.alive():
            _signal_group(self.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=deadline_s)
            except subprocess.TimeoutExpired:
                _signal_group(self.pid, signal.SIGKILL)
                self.popen.wait()
        return self._finish()

    def kill(self) -> int | None:
        """SIGKILL at once (a crash, as seen by the other processes)."""
        if not self._reaped:
            _signal_group(self.pid, signal.SIGKILL)
            self.popen.wait()
        return self._finish()

    def _finish(self) -> int | None:
        if not self._reaped:
            _signal_group(self.pid, signal.SIGKILL)  # stragglers left in the group
            self._reaped = True
            _forget(self)
        return self.popen.returncode


def start_process(
    name: str,
    argv: Sequence[str],
    log_path: Path,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> ChildProcess:
    """Start `argv` in a new session with output appended to `log_path`."""
    _install_exit_hooks()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    child_env = dict(os.environ if env is None else env)
    fd = lifeline.child_fd()
    child_env[lifeline.ENV] = str(fd)
    with open_private_log(log_path) as log:
        popen = _fork_from_long_lived_thread(
            lambda: subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=child_env,
                cwd=cwd,
                start_new_session=True,
                pass_fds=(fd,),
                umask=PRIVATE_UMASK,
                **tied_to_parent(),
            )
        )
    child = ChildProcess(name=name, argv=list(argv), log_path=log_path, popen=popen)
    with _live_lock:
        _live[child.pid] = child
    return child


def open_private_log(path: Path) -> Any:
    """``path`` opened for appending, created 0600 (a log from an earlier run is made 0600 too)."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.fchmod(fd, 0o600)
    return os.fdopen(fd, "ab")


# -- dying with the parent ------------------------------------------------------------

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_prctl = None
if sys.platform.startswith("linux"):
    try:  # resolved here, never in the forked child
        _prctl = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True).prctl
        _prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
        _prctl.restype = ctypes.c_int
    except (OSError, AttributeError):
        _prctl = None


def tied_to_parent(sig: int = signal.SIGTERM) -> dict[str, Any]:
    """``Popen`` keyword arguments making the child receive `sig` when this process dies.

    ``subprocess.run(command, **procs.tied_to_parent())``. Call it (and Popen)
    from the main thread or a thread that lives as long as the child should:
    the kernel signals the child when the forking *thread* ends. Empty where
    prctl is unavailable (not Linux).
    """
    if _prctl is None:
        return {}
    parent = os.getpid()
    prctl = _prctl

    def die_with_parent() -> None:  # runs in the child between fork and exec: no imports, no allocation-heavy work
        if prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0) != 0:
            os._exit(127)
        if os.getppid() != parent:  # the parent died before the prctl took effect
            os.kill(os.getpid(), sig)
            os._exit(128 + sig)

    return {"preexec_fn": die_with_parent}


_spawn_requests: queue.SimpleQueue[tuple[Callable[[], Any], queue.SimpleQueue]] = queue.SimpleQueue()
_spawner: threading.Thread | None = None
_spawner_lock = threading.Lock()


def _fork_from_long_lived_thread(fork: Callable[[], T]) -> T:
    """Run `fork` in the main thread if we are on it, else in the process-long spawner thread."""
    global _spawner
    if threading.current_thread() is threading.main_thread():
        return fork()
    with _spawner_lock:
        if _spawner is None:
            _spawner = threading.Thread(target=_spawn_loop, name="smlite-spawner", daemon=True)
            _spawner.start()
    answer: queue.SimpleQueue = queue.SimpleQueue()
    _spawn_requests.put((fork, answer))
    ok, value = answer.get()
    if not ok:
        raise value
    return value


def _spawn_loop() -> None:
    while True:
        fork, answer = _spawn_requests.get()
        try:
            answer.put((True, fork()))
        except BaseException as exc:  # handed back to the caller's thread
            answer.put((False, exc))


def live_children() -> list[ChildProcess]:
    with _live_lock:
        return list(_live.values())


def stop_all(deadline_s: float = 5.0) -> None:
    """Stop every child still registered, newest first."""
    for child in reversed(live_children()):
        child.stop(deadline_s)


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _forget(child: ChildProcess) -> None:
    with _live_lock:
        _live.pop(child.pid, None)


def _raise_system_exit(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)


def _install_exit_hooks() -> None:
    global _exit_hooks_installed
    if _exit_hooks_installed:
        return
    _exit_hooks_installed = True
    atexit.register(stop_all)
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) == signal.SIG_DFL:
            signal.signal(sig, _raise_system_exit)
