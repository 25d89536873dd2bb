"""The lifeline: a pipe that tells a child its harness is gone, however it died.

Owns both ends:

* ``child_fd()`` (harness side): the read end of one pipe per harness
  process, handed to every child by harness/sandbox/procs.py (``pass_fds``,
  its number in the environment variable ``SMLITE_LIFELINE_FD``). Only the
  harness holds the write end and never writes to it, so a read sees EOF
  exactly when the harness process is gone: normal exit, a crash, SIGKILL.
* the child side is ``harness.gateway.lifeline.watch()`` (the gateway imports
  nothing of the harness): a daemon thread blocked reading that fd; at EOF it
  sends its own process SIGTERM, the gateway's normal clean shutdown.

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
import threading

# the variable harness/gateway/lifeline.py reads: a protocol between two programs, written on both sides
# (the harness reaches the gateway only as a process; tests/test_killed_harness_leaves_nothing.py checks they agree)
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
