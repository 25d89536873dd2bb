"""Writes a run directory: index.html, results.json, junit.xml, cucumber.json.

Owns the Jinja2 environment (autoescape on for .html/.j2 templates and for
strings; compiled templates cached in ``${XDG_CACHE_HOME:-~/.cache}/smlite/
jinja``, keyed by the template's own checksum, so a run does not spend 0.3 s
compiling the page) and the ``reports/latest`` pointer. The page itself is
templates/report.html.j2; what it shows comes from ``view.build``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import shutil
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemBytecodeCache, FileSystemLoader, StrictUndefined, select_autoescape

from harness import results as R
from harness.files import atomic_write_text, ensure_dir
from harness.report import view as V
from harness.report.cucumber import write_cucumber
from harness.report.gallery import gallery
from harness.report.junit import write_junit
from harness.source_model import source

TEMPLATES = Path(__file__).parent / "templates"


def _bytecode_cache() -> FileSystemBytecodeCache | None:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path(os.environ.get("HOME", "~")).expanduser() / ".cache")
    folder = Path(base) / "smlite" / "jinja"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None  # a read-only home: compile every time
    return FileSystemBytecodeCache(str(folder)) if os.access(folder, os.W_OK) else None


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        bytecode_cache=_bytecode_cache(),
        autoescape=select_autoescape(["html", "htm", "xml", "j2"], default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        labels=V.STATUS_LABELS,
        duration=V.duration,
        main_link=V.main_link,
        scenario_status=V.scenario_status,
        known_rows=frozenset(r.ref for r in source.rows()),
    )
    return env


def render_html(results: R.RunResults, run_dir: Path | None = None) -> str:
    """index.html as a string (the page carries its own CSS and JS, and a CSP with a fresh nonce);
    ``run_dir``: where the pictures the results name are (harness/report/gallery.py)."""
    report = V.build(results)
    report.gallery = gallery(results, run_dir)
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return (
        environment()
        .get_template("report.html.j2")
        .render(r=report, nonce=secrets.token_urlsafe(16), generated=generated)
    )


def write_report(results: R.RunResults, out_dir: Path) -> Path:
    """Write the four report files into ``out_dir`` (created if needed); return index.html's path.

    Each file is replaced atomically (harness/files.py): a reader sees the old
    file or the new one. A folder that cannot be written, or a full disk, is one
    ``HarnessError`` line (CLI exit 2).
    """
    out_dir = ensure_dir(out_dir)
    atomic_write_text(out_dir / "results.json", json.dumps(results.to_dict(), indent=2, ensure_ascii=False))
    write_junit(results, out_dir / "junit.xml")
    write_cucumber(results, out_dir / "cucumber.json")
    index = out_dir / "index.html"
    atomic_write_text(index, render_html(results, out_dir))
    return index


def update_latest(reports_root: Path, run_dir: Path) -> Path:
    """Point ``reports_root/latest`` at ``run_dir``: a relative symlink, swapped in atomically.

    Where symlinks cannot be made (some Windows setups, some mounts) ``latest``
    becomes a copy of the run directory instead. Returns the ``latest`` path.
    """
    reports_root, run_dir = Path(reports_root), Path(run_dir)
    reports_root.mkdir(parents=True, exist_ok=True)
    latest = reports_root / "latest"
    try:
        target = os.path.relpath(run_dir.resolve(), reports_root.resolve())
    except ValueError:  # another drive
        target = str(run_dir.resolve())
    temp = reports_root / f".latest-{secrets.token_hex(4)}"
    try:
        os.symlink(target, temp, target_is_directory=True)
        if latest.is_dir() and not latest.is_symlink():
            shutil.rmtree(latest)
        os.replace(temp, latest)
    except OSError:
        if temp.is_symlink():
            temp.unlink()
        shutil.copytree(run_dir, temp, symlinks=True)
        if latest.is_symlink() or latest.is_file():
            latest.unlink()
        elif latest.is_dir():
            shutil.rmtree(latest)
        os.replace(temp, latest)
    return latest
