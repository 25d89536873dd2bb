"""The child's end of the harness's lifeline (harness/sandbox/lifeline.py owns the other end).

Owns ``watch()``: when the harness that started this gateway hands it the read end of a pipe
(its number in ``SMLITE_LIFELINE_FD``), a daemon thread blocks reading it; at EOF — the harness
is gone, however it died — it sends this process SIGTERM, the gateway's normal clean shutdown.
Kept in the gateway package, which imports nothing of the harness.
"""

from __future__ import annotations

import os
import signal
import stat
import threading
from collections.abc import Callable, Mapping

ENV = "SMLITE_LIFELINE_FD"


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
