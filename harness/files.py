"""Writing files so that a reader sees the old content or the new, never half of one.

Owns:

* ``atomic_write_bytes`` / ``atomic_write_text``: a temp file in the target's
  own folder (so ``os.replace`` is a rename on one file system), written,
  flushed and fsynced, given its mode, then renamed over the target; the
  folder is fsynced afterwards so the rename survives a power cut. On any
  failure the temp file is removed and the old file is left as it was.
* ``ensure_dir``: a folder made with its parents.
* ``toml_text``: the TOML files smlite hands to people and processes (target profiles, the
  gateway's configuration), with one writer, ``tomli-w`` (the standard library reads TOML but
  cannot write it).

Every ``OSError`` (a folder that cannot be written or made, a full disk, a
path through a regular file) becomes one ``HarnessError`` line naming the
path and the system's reason, which the CLI prints and exits 2 on; nothing
here prints a traceback. Hand-written rather than with ``atomicwrites``
(archived upstream) or ``atomicwrites-homm``: twenty lines of standard library
cover it, and the error wording must be ours.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomli_w

from harness.errors import HarnessError


def cannot_write(path: Path, exc: OSError, what: str = "file") -> HarnessError:
    reason = exc.strerror or str(exc) or type(exc).__name__
    return HarnessError(f"Cannot write {what}", f"{path}: {reason}")


def ensure_dir(path: str | Path, mode: int = 0o777) -> Path:
    """``path`` as a folder (made with its parents; `mode` applies to the ones made, before umask)."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True, mode=mode)
    except OSError as exc:
        raise cannot_write(path, exc, "folder") from None
    if not path.is_dir():
        raise HarnessError("Cannot write folder", f"{path}: exists and is not a folder")
    return path


def atomic_write_bytes(path: str | Path, data: bytes, *, mode: int = 0o644) -> Path:
    """Replace ``path`` with ``data`` atomically; the file gets ``mode`` (0o600 for secrets).

    The temp file is created 0600 by ``mkstemp``, so a secret is never readable
    by others, not even for a moment.
    """
    path = Path(path)
    try:
        fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise cannot_write(path, exc) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp_name, mode)
        os.replace(temp_name, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        if isinstance(exc, OSError):
            raise cannot_write(path, exc) from None
        raise
    _fsync_dir(path.parent)
    return path


def atomic_write_text(path: str | Path, text: str, *, mode: int = 0o644, encoding: str = "utf-8") -> Path:
    """``atomic_write_bytes`` of ``text`` encoded with ``encoding``."""
    return atomic_write_bytes(path, text.encode(encoding), mode=mode)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return  # not supported here (some file systems, Windows): the rename itself is done
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def toml_text(values: Mapping[str, Any], comment: str = "") -> str:
    """``values`` as TOML (keys, then tables), under ``comment`` written as ``#`` lines."""
    header = "".join(f"# {line}".rstrip() + "\n" for line in comment.splitlines())
    return header + ("\n" if header else "") + tomli_w.dumps(dict(values))
