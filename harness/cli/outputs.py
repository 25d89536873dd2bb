"""Where a command will write, checked before it starts anything: one line and exit 2, never a traceback.

Owns ``writable_folder(path, option)`` and ``writable_file(path, option)``: a folder the command
will write into (``run --reports-dir``, ``selfcheck --reports-dir``, ``report -o``, ``dashboard -o``,
``sandbox up --run-dir``) exists as a folder or can be made, and takes a file; a file it will write
(``load --json``, ``sandbox up --write-profile``) is not a folder and its folder takes a file. Each
problem is a ``UsageError`` naming the option and the system's reason, raised before a sandbox
starts or a suite runs, so a run is never thrown away for a typo in an output path — and an I/O
error never ends a command with exit code 1, which means "not conformant".

The probe writes a temp file and removes it (``tempfile``), because a mode bit says nothing about a
read-only file system, a full disk or root's reach. A folder that does not exist yet is not made
here: the command makes it (0700 for run folders, harness/sandbox/private.py); only its nearest
existing parent is probed.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from harness.errors import UsageError


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def _cannot(what: str, option: str, given: Path, reason: str) -> UsageError:
    """The words of harness/files.py ("Cannot write folder: PATH: reason"), with the option named."""
    return UsageError(f"Cannot write {what}", f"{option} {given}: {reason}")


def _probe(folder: Path, option: str, given: Path, what: str) -> None:
    try:
        with tempfile.TemporaryFile(dir=folder, prefix=".smlite-probe-"):
            pass
    except OSError as exc:
        raise _cannot(what, option, given, _reason(exc)) from None


def _nearest_existing(path: Path, option: str, given: Path, what: str) -> Path:
    """The folder that exists nearest to ``path`` (itself or an ancestor); a file on the way is an error."""
    for candidate in (path, *path.parents):
        if candidate.is_dir():
            return candidate
        if candidate.exists() or candidate.is_symlink():
            kind = "a broken link" if not candidate.exists() else "a file, not a folder"
            where = "" if candidate == given.absolute() else f" ({candidate} is on its way)"
            raise _cannot(what, option, given, f"{kind}{where}")
    return Path.cwd()


def writable_folder(path: str | Path, option: str) -> Path:
    """``path``, checked: a folder (or makeable as one) that takes a new file."""
    given = Path(path)
    folder = _nearest_existing(given.absolute(), option, given, "folder")
    _probe(folder, option, given, "folder")
    return given


def writable_file(path: str | Path, option: str) -> Path:
    """``path``, checked: not a folder, and its folder (or makeable as one) takes a new file."""
    given = Path(path)
    if given.is_dir():
        raise _cannot("file", option, given, "a folder, not a file")
    folder = _nearest_existing(given.absolute().parent, option, given, "file")
    _probe(folder, option, given, "file")
    return given
