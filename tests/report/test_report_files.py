"""Report files are written atomically, and a folder that cannot take them is one line, exit 2.

"Unwritable" is a path through a regular file (root ignores permission bits);
"full" is a real 2 MiB tmpfs mounted for the test (needs root and mount
rights; skipped, saying so, where the kernel refuses the mount).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.errors import HarnessError
from harness.files import atomic_write_text
from harness.report.render import write_report

from . import sample

REPO = Path(__file__).resolve().parents[2]
REPORT_FILES = {"results.json", "junit.xml", "cucumber.json", "index.html"}


def smlite(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli.main", *args], cwd=REPO, capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def results_file(tmp_path):
    run = tmp_path / "run"
    write_report(sample.full_run(), run)
    return run / "results.json"


def test_write_report_leaves_no_temp_files_and_same_content(tmp_path):
    results = sample.full_run()
    out = tmp_path / "out"
    write_report(results, out)
    assert {p.name for p in out.iterdir()} == REPORT_FILES
    assert json.loads((out / "results.json").read_text()) == results.to_dict()
    assert (out / "junit.xml").read_text().startswith("<?xml version='1.0' encoding='utf-8'?>")


def test_a_path_through_a_regular_file_is_one_harness_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(HarnessError) as caught:
        write_report(sample.full_run(), blocker / "run")
    assert "\n" not in str(caught.value) and str(blocker / "run") in str(caught.value)
    with pytest.raises(HarnessError, match="Not a directory"):
        atomic_write_text(blocker / "results.json", "{}")


def test_the_cli_says_it_in_one_line_with_exit_2(tmp_path, results_file):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    result = smlite("report", str(results_file), "-o", str(blocker / "out"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Cannot write folder" in result.stderr and "a-file" in result.stderr


@pytest.fixture
def tiny_tmpfs(tmp_path):
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount_point)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a 2 MiB tmpfs here to test a full disk: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=True)


def test_a_full_disk_keeps_the_old_file_and_is_one_line(tiny_tmpfs, results_file):
    out = tiny_tmpfs / "run"
    out.mkdir()
    (out / "results.json").write_text('{"old": true}')
    filler = tiny_tmpfs / "filler"
    with open(filler, "wb", buffering=0) as handle:  # fill the file system to the last byte
        for size in (4096, 1):
            try:
                while handle.write(b"\0" * size):
                    pass
            except OSError:
                pass
    with pytest.raises(HarnessError, match="No space left on device"):
        write_report(sample.full_run(), out)
    assert (out / "results.json").read_text() == '{"old": true}', "the previous file is intact"
    assert [p.name for p in out.iterdir()] == ["results.json"], "no temp file left behind"

    result = smlite("report", str(results_file), "-o", str(out))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "No space left on device" in result.stderr
    os.unlink(filler)
    assert smlite("report", str(results_file), "-o", str(out)).returncode == 0, "space again: it writes"
    assert {p.name for p in out.iterdir()} == REPORT_FILES
