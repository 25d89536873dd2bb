"""The lifeline: a pipe that tells a child its harness is gone, however it died.

Owns both ends:

* ``child_fd()`` (harness side): the read end of one pipe per harness
  process, handed to every child by harness/sandbox/procs.py (``pass_fds``,
  its number in the environment variable ``SMLITE_LIFELINE_FD``). Only the
  harness holds the write end and never writes to it, so a read sees EOF
  exactly when the harness process is gone: normal exit, a crash, SIGKILL.
* ``watch()`` (child side, the reference gateway calls it at start): a daemon
  thread blocked reading that fd; at EOF it sends its own process SIGTERM,
  the gateway's normal clean shutdown.

Why besides the parent-death signal of procs.py: that signal reaches only the
direct child, so a gateway started behind a wrapper (``gateway_argv`` a shell
script that does not ``exec``) would outlive a SIGKILLed harness; the pipe's
read end is inherited by the wrapper's children. Why not psutil or polling
``getppid``: a blocking read costs nothing and reacts at once, and a child
reparented to a subreaper has no parent pid worth comparing. Limitation: a
process forked from the harness without exec (multiprocessing "fork") keeps
the write end open until it exits too.
"""

from __future__ import annotations

import os
import signal
import stat
import threading
from collections.abc import Callable, Mapping

ENV = "SMLITE_LIFELINE_FD"

_pipe: tuple[int, int] | None = None
_pipe_lock = threading.Lock()


def child_fd() -> int:
    """The read end to pass to a child (``pass_fds``); the pipe is made on first use."""
    global _pipe
    with _pipe_lock:
        if _pipe is None:
            _pipe = os.pipe()  # both ends non-inheritable; pass_fds opens the read end to one child only
        return _pipe[0]


def watch(on_gone: Callable[[], None] | None = None, env: Mapping[str, str] | None = None) -> bool:
    """In a child: act when the harness that started it is gone. False if there is no lifeline.

    ``on_gone`` defaults to sending this process SIGTERM.
    """
    value = (os.environ if env is None else env).get(ENV, "")
    if not value.isdigit():
        return False
    fd = int(value)
    try:
        if not stat.S_ISFIFO(os.fstat(fd).st_mode):
            return False
    except OSError:  # not open here (a wrapper closed it): nothing to watch
        return False
    os.set_inheritable(fd, False)
    action = on_gone or (lambda: os.kill(os.getpid(), signal.SIGTERM))

    def wait_for_eof() -> None:
        while True:
            try:
                if os.read(fd, 512) == b"":
                    break
            except InterruptedError:
                continue
            except OSError:
                break
        action()

    threading.Thread(target=wait_for_eof, name="smlite-lifeline", daemon=True).start()
    return True
