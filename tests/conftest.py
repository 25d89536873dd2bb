"""Owns: what every test of the project starts from: Ctrl-C (SIGINT) raising KeyboardInterrupt, and
Hypothesis's profile.

Hypothesis: the property tests of ``make test`` draw the same examples on every run (profile
``make-test``, ``derandomize``), so that a test command's result does not depend on the dice — what a
random draw finds is found by ``pytest --hypothesis-profile random`` (or ``make hardening``), then pinned
by a test of its own. Exploration (harness/exploration/) sets its own seed and is not affected.

Some tests send SIGINT to this process or to children it starts (a child inherits an ignored
SIGINT). Whatever an earlier test or library left installed, each test starts with Python's
default handler, and a test that changed it is named in a warning.
"""

from __future__ import annotations

import signal
import warnings

import pytest
from hypothesis import settings

settings.register_profile("make-test", derandomize=True)
settings.register_profile("random", derandomize=False, max_examples=1000)
settings.load_profile("make-test")  # `pytest --hypothesis-profile random` replaces it


@pytest.fixture(autouse=True)
def _default_sigint(request):
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        warnings.warn(f"{request.node.nodeid} left SIGINT handled by {signal.getsignal(signal.SIGINT)!r}", stacklevel=2)
        signal.signal(signal.SIGINT, signal.default_int_handler)
