"""Folders and files holding secrets, and the sweep of those a killed harness left behind.

Owns:

* ``make_private_dir(prefix)`` / ``private_tempdir(prefix)``: a temp folder
  made 0700 (``mkdtemp``) holding an owner file ``.smlite-owner`` (0600):
  the creating process's pid and its kernel start time, so a reused pid is
  not mistaken for the owner. ``private_tempdir`` removes the folder on exit.
* ``make_private_folder(path)``: a folder the user named (``--run-dir``, a run's
  report folder) made 0700 when it does not exist yet (its parents as usual);
  one that exists keeps its mode - what is written into it is 0600 anyway - and
  a path through a regular file is one ``HarnessError`` line.
* ``make_tree_private(folder)``: every folder below 0700 and every file 0600
  (a report made with ``--reveal-secrets``).
* ``write_private(path, text)``: a file written atomically with mode 0600
  (harness/files.py), its folder made 0700 when missing. For the run's
  profile.json, the sandbox state file, the gateway's config (admin token).
* ``sweep_stale()``: removes the temp folders named ``smlite-run-*``,
  ``smlite-sandbox-*`` (``PREFIXES``) whose owner process is gone (SIGKILL,
  power cut: no ``finally`` ran), and stale state files whose ``owner_pid``
  is gone. ``make_private_dir`` runs it once per process and folder, so "the
  next start" sweeps without anyone calling it.

What the sweep never touches: folders without an owner file (older smlite,
or one being created right now), folders of another user, symlinks, and
folders whose owner still runs. The owner check reads /proc (Linux); where
there is no /proc only the pid is compared (``os.kill(pid, 0)``).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from harness.files import atomic_write_text, ensure_dir

OWNER_FILE = ".smlite-owner"
PREFIXES = ("smlite-run-", "smlite-sandbox-")

_swept: set[str] = set()
_swept_lock = threading.Lock()


def process_start_time(pid: int) -> int | None:
    """The kernel's start time of ``pid`` (clock ticks since boot), None if unknown or gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    try:
        return int(stat[stat.rindex(")") + 2 :].split()[19])  # field 22; the name may hold spaces and ')'
    except (ValueError, IndexError):
        return None


def owner_record(pid: int | None = None) -> dict[str, Any]:
    pid = os.getpid() if pid is None else pid
    return {"pid": pid, "start_time": process_start_time(pid)}


def owner_alive(record: Any) -> bool:
    """True when the process an owner record names still runs (a zombie counts as gone)."""
    if not isinstance(record, dict):
        return True  # unreadable: not ours to judge
    pid = record.get("pid")
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process with that pid: alive, and not the owner unless start times agree
    try:
        state = Path(f"/proc/{pid}/stat").read_text()
        if state[state.rindex(")") + 2 :].split()[0] == "Z":
            return False
    except (OSError, ValueError, IndexError):
        pass
    started = record.get("start_time")
    now = process_start_time(pid)
    if isinstance(started, int) and now is not None and now != started:
        return False  # the pid was reused by another process
    return True


def make_private_dir(prefix: str = "smlite-run-", base: str | Path | None = None) -> Path:
    """A new 0700 temp folder with an owner file; stale ones in `base` are swept first."""
    base = Path(base or tempfile.gettempdir())
    with _swept_lock:
        first = str(base) not in _swept
        _swept.add(str(base))
    if first:
        sweep_stale(base)
    ensure_dir(base)
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=base)).resolve()
    os.chmod(folder, 0o700)
    atomic_write_text(folder / OWNER_FILE, json.dumps(owner_record()), mode=0o600)
    return folder


@contextlib.contextmanager
def private_tempdir(prefix: str = "smlite-run-", base: str | Path | None = None) -> Iterator[Path]:
    """``with private_tempdir() as folder:`` — a ``make_private_dir`` removed on exit."""
    folder = make_private_dir(prefix, base)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def make_private_folder(path: str | Path) -> Path:
    """``path`` as a folder, made 0700 if it is new (a folder that exists keeps its mode)."""
    path = Path(path)
    existed = path.is_dir()
    ensure_dir(path, mode=0o700)
    if not existed:
        with contextlib.suppress(OSError):
            os.chmod(path, 0o700)  # mkdir's mode passes through the umask: say it outright
    return path


def make_tree_private(folder: str | Path) -> None:
    """``folder`` and every folder below it 0700, every file in it 0600 (symlinks left alone)."""
    for root, _dirs, files in os.walk(folder):
        with contextlib.suppress(OSError):
            os.chmod(root, 0o700)
        for name in files:
            path = os.path.join(root, name)
            if not os.path.islink(path):
                with contextlib.suppress(OSError):
                    os.chmod(path, 0o600)


def write_private(path: str | Path, text: str) -> Path:
    """Write a file only its owner may read (0600), atomically; a missing folder is made 0700."""
    path = Path(path)
    if not path.parent.exists():
        ensure_dir(path.parent, mode=0o700)
    return atomic_write_text(path, text, mode=0o600)


def sweep_stale(
    base: str | Path | None = None, prefixes: Iterable[str] = PREFIXES, state_files: Iterable[str | Path] = ()
) -> list[Path]:
    """Remove what dead smlite processes left: their private temp folders in `base` (the system temp
    folder by default) and any of `state_files` whose ``owner_pid`` is gone. Returns what was removed."""
    base = Path(base or tempfile.gettempdir())
    prefixes = tuple(prefixes)
    removed: list[Path] = []
    try:
        entries = list(os.scandir(base))
    except OSError:
        entries = []
    for entry in entries:
        if not entry.name.startswith(prefixes):
            continue
        try:
            if entry.is_symlink() or not entry.is_dir(follow_symlinks=False):
                continue
            if entry.stat(follow_symlinks=False).st_uid != os.geteuid():
                continue
            record = json.loads((Path(entry.path) / OWNER_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # no owner file (yet): not ours to judge
        if not owner_alive(record):
            shutil.rmtree(entry.path, ignore_errors=True)
            if not os.path.lexists(entry.path):
                removed.append(Path(entry.path))
    for state_file in state_files:
        path = Path(state_file)
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(state, dict) and not owner_alive(
            {"pid": state.get("owner_pid"), "start_time": state.get("owner_start_time")}
        ):
            with contextlib.suppress(OSError):
                path.unlink()
                removed.append(path)
    return removed
