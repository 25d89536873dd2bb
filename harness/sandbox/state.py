"""The state file of a running ``smlite sandbox up``: where it is, reading it, is its owner alive.

Owns: ``state_file_path(name)`` — ``${XDG_STATE_HOME:-~/.local/state}/smlite/sandbox.json``, or
``sandbox-NAME.json`` for a named sandbox (``--name``), so several can run at once — and
``read_state()`` / ``pid_alive()``. Written by ``Sandbox`` (harness/sandbox/lifecycle.py).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.errors import UsageError

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")


def state_file_path(env: Mapping[str, str] | None = None, name: str = "") -> Path:
    """The state file of the default sandbox, or of the one named ``name``."""
    env = os.environ if env is None else env
    if name and not NAME.match(name):
        raise UsageError("Bad sandbox name", f"{name[:60]!r}: use letters, digits, '.', '_' or '-' (at most 40)")
    base = env.get("XDG_STATE_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".local/state")
    return Path(base) / "smlite" / (f"sandbox-{name}.json" if name else "sandbox.json")


def read_state(path: Path | None = None, *, include_stale: bool = False) -> dict[str, Any] | None:
    """The running sandbox's info() as written by ``smlite sandbox up``, or None
    (also None when the process that wrote it is gone, unless `include_stale`)."""
    try:
        state = json.loads((path or state_file_path()).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict) or not (include_stale or pid_alive(state.get("owner_pid"))):
        return None
    return state


def pid_alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
