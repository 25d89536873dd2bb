"""Owns: what every test of the project starts from: Ctrl-C (SIGINT) raising KeyboardInterrupt.

Some tests send SIGINT to this process or to children it starts (a child inherits an ignored
SIGINT). Whatever an earlier test or library left installed, each test starts with Python's
default handler, and a test that changed it is named in a warning.
"""

from __future__ import annotations

import signal
import warnings

import pytest


@pytest.fixture(autouse=True)
def _default_sigint(request):
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        warnings.warn(f"{request.node.nodeid} left SIGINT handled by {signal.getsignal(signal.SIGINT)!r}", stacklevel=2)
        signal.signal(signal.SIGINT, signal.default_int_handler)
