"""Sandbox cold start, measured in a fresh process (``python -m bench.coldstart``).

A fresh process so nothing is warm that ``smlite run`` would not have warm
either (the version check of the Mailpit binary is cached per process). Mailpit
must already be built. Prints one JSON object:

* ``find_mailpit_s``: locating the binary and checking its version;
* ``mailpit_s``: Mailpit alone, started until /readyz and SMTP answer;
* ``sandbox_s``: Mailpit + reference gateway until both are ready
  (``Sandbox.start``); ``gateway_s`` is the difference;
* ``total_s``: ``find_mailpit_s + sandbox_s``, what a user waits for.
"""

from __future__ import annotations

import json
import sys
import time


def measure(gateway_argv: list[str] | None = None) -> dict:
    started = time.perf_counter()
    from harness.sandbox.lifecycle import Sandbox
    from harness.sandbox.mailpit import find_mailpit

    imported = time.perf_counter()
    find_mailpit()
    found = time.perf_counter()
    with Sandbox(with_gateway=False) as alone:
        mailpit_s = alone.startup_seconds or 0.0
    with Sandbox(gateway_argv=gateway_argv) as sandbox:
        sandbox_s = sandbox.startup_seconds or 0.0
    return {
        "import_s": imported - started,
        "find_mailpit_s": found - imported,
        "mailpit_s": mailpit_s,
        "sandbox_s": sandbox_s,
        "gateway_s": sandbox_s - mailpit_s,
        "total_s": (found - imported) + sandbox_s,
    }


if __name__ == "__main__":
    argv = json.loads(sys.argv[1]) if len(sys.argv) > 1 else None
    print(json.dumps(measure(argv)))
