"""Fixtures of the report tests: a realistic hand-built run and its written report."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.report import write_report

from .htmlq import parse
from .sample import full_run


@pytest.fixture
def results():
    return full_run()


@pytest.fixture
def report(tmp_path: Path, results):
    """(index.html path, parsed tree, raw html) of the full run's report."""
    index = write_report(results, tmp_path / "run")
    html = index.read_text(encoding="utf-8")
    return index, parse(html), html
