"""Exit codes mean one thing: every bad path and hostile results.json is one line on stderr and exit 2.

Exit code 1 means "not conformant" to every CI, so an output path that is a file, a folder that cannot be
written, or a results.json that is too deep, too large, NaN or against docs/results.schema.json must end
with 2 and one line naming it - never a traceback, never 1 - and before a sandbox starts or a suite runs.
Each row of ``CASES`` runs the real ``smlite`` in a subprocess and is counted as a bad-input kind (channel
cli) for ``make hardening``; docs/hardening.md lists them. The dashboard skips a bad file with one line and
renders the good ones beside it; an unexpected exception is one line and 2 as well.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.cli import main as cli
from harness.report.render import write_report
from harness.results.loading import MAX_RESULTS_BYTES
from tests.report.sample import full_run

REPO = Path(__file__).resolve().parents[2]
BEFORE_ANYTHING_STARTS_S = 20.0  # a refusal comes before a sandbox or a suite: seconds, not a run


@dataclass
class Files:
    """The temp folder of one case, with a good results.json and a plain file to trip over."""

    tmp: Path

    @property
    def good(self) -> Path:
        path = self.tmp / "good" / "results.json"
        if not path.exists():
            write_report(full_run(), path.parent)
        return path

    @property
    def a_file(self) -> Path:
        path = self.tmp / "a-file"
        path.write_text("not a folder\n")
        return path

    def results(self, name: str, change: Callable[[dict], object] | None = None, raw: bytes | None = None) -> Path:
        """A results.json in its own folder: the good one changed by ``change``, or ``raw`` bytes."""
        folder = self.tmp / name
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "results.json"
        if raw is not None:
            path.write_bytes(raw)
            return path
        data = json.loads(self.good.read_text(encoding="utf-8"))
        replaced = change(data) if change else None
        text = replaced if isinstance(replaced, str) else json.dumps(data)
        path.write_text(text, encoding="utf-8")
        return path


def _nan(data: dict) -> str:
    return json.dumps(data).replace('"duration_s": ', '"duration_s": NaN, "was": ', 1)


def _infinity(data: dict) -> str:
    return json.dumps(data).replace('"seed": ', '"seed": 1e400, "was": ', 1)


def _unknown_status(data: dict) -> None:
    data["scenarios"][0]["status"] = "weird"


def _huge(files: Files) -> Path:
    path = files.tmp / "huge" / "results.json"
    path.parent.mkdir()
    with open(path, "wb") as handle:
        handle.truncate(MAX_RESULTS_BYTES + 1)  # sparse: costs no disk
    return path


@dataclass
class Case:
    id: str
    tried: str
    expected: str
    argv: Callable[[Files], list[str]]
    words: tuple[str, ...]  # in the last line
    lines: int = 1  # the dashboard names each file it skips, one line each, before its own line


CASES = [
    Case(
        "cli-run-reports-dir-is-a-file",
        "smlite run --reports-dir FILE",
        "exit 2 before a sandbox starts, Cannot write folder",
        lambda f: ["run", "--reports-dir", str(f.a_file)],
        ("Cannot write folder", "--reports-dir", "a file, not a folder"),
    ),
    Case(
        "cli-run-reports-dir-under-a-file",
        "smlite run --reports-dir FILE/reports",
        "exit 2, naming the file on the way",
        lambda f: ["run", "--reports-dir", str(f.a_file / "reports")],
        ("Cannot write folder", "is on its way"),
    ),
    Case(
        "cli-run-reports-dir-unwritable",
        "smlite run --reports-dir /proc/smlite-reports",
        "exit 2, the system's reason",
        lambda f: ["run", "--reports-dir", "/proc/smlite-reports"],
        ("Cannot write folder", "/proc/smlite-reports"),
    ),
    Case(
        "cli-selfcheck-reports-dir-is-a-file",
        "smlite selfcheck --reports-dir FILE",
        "exit 2 before any variant runs",
        lambda f: ["selfcheck", "--variant", "print-allowed", "--reports-dir", str(f.a_file)],
        ("Cannot write folder", "--reports-dir"),
    ),
    Case(
        "cli-load-json-is-a-folder",
        "smlite load --json FOLDER",
        "exit 2 before the load starts",
        lambda f: ["load", "--duration", "1", "--json", str(f.tmp)],
        ("Cannot write file", "--json", "a folder, not a file"),
    ),
    Case(
        "cli-sandbox-run-dir-is-a-file",
        "smlite sandbox up --run-dir FILE",
        "exit 2 before Mailpit starts",
        lambda f: ["sandbox", "up", "--name", "exitcodes", "--run-dir", str(f.a_file)],
        ("Cannot write folder", "--run-dir"),
    ),
    Case(
        "cli-sandbox-write-profile-is-a-folder",
        "smlite sandbox up --write-profile FOLDER",
        "exit 2 before Mailpit starts",
        lambda f: ["sandbox", "up", "--name", "exitcodes", "--write-profile", str(f.tmp)],
        ("Cannot write file", "--write-profile"),
    ),
    Case(
        "cli-report-output-is-a-file",
        "smlite report RESULTS.json -o FILE",
        "exit 2, Cannot write folder",
        lambda f: ["report", str(f.good), "-o", str(f.a_file)],
        ("Cannot write folder", "-o"),
    ),
    Case(
        "cli-report-deep-json",
        "smlite report <100,000 nested arrays>",
        "exit 2, refused before parsing",
        lambda f: ["report", str(f.results("deep", raw=b"[" * 100_000 + b"]" * 100_000))],
        ("Not an smlite results file", "nested deeper than 64"),
    ),
    Case(
        "cli-report-nan",
        "smlite report <duration_s: NaN>",
        "exit 2, not JSON",
        lambda f: ["report", str(f.results("nan", _nan))],
        ("Not an smlite results file", "NaN is not a JSON number"),
    ),
    Case(
        "cli-report-infinity",
        "smlite report <seed: 1e400>",
        "exit 2, beyond a float",
        lambda f: ["report", str(f.results("inf", _infinity))],
        ("Not an smlite results file", "beyond a float"),
    ),
    Case(
        "cli-report-unknown-status",
        "smlite report <a scenario status 'weird'>",
        "exit 2, violates docs/results.schema.json at /scenarios/0/status",
        lambda f: ["report", str(f.results("weird", _unknown_status))],
        ("violates docs/results.schema.json", "/scenarios/0/status"),
    ),
    Case(
        "cli-report-huge",
        "smlite report <a 64 MiB + 1 byte file>",
        "exit 2, refused unread",
        lambda f: ["report", str(_huge(f))],
        ("Not an smlite results file", "larger than 64 MiB"),
    ),
    Case(
        "cli-report-not-utf8",
        "smlite report <bytes \\xff\\xfe>",
        "exit 2, not UTF-8",
        lambda f: ["report", str(f.results("latin", raw=b"\xff\xfe{}"))],
        ("Not an smlite results file", "not UTF-8"),
    ),
    Case(
        "cli-report-other-schema",
        "smlite report <schema smlite-results/2>",
        "exit 2, naming the schema",
        lambda f: ["report", str(f.results("v2", lambda d: d.update(schema="smlite-results/2")))],
        ("Not an smlite results file", "smlite-results/2"),
    ),
    Case(
        "cli-report-a-folder",
        "smlite report FOLDER",
        "exit 2, a folder",
        lambda f: ["report", str(f.tmp)],
        ("Not an smlite results file", "a folder"),
    ),
    Case(
        "cli-compare-bad-other",
        "smlite report RESULTS.json --compare <NaN>",
        "exit 2 (never 1, which means the runs differ)",
        lambda f: ["report", str(f.good), "--compare", str(f.results("nan", _nan))],
        ("Not an smlite results file", "NaN"),
    ),
    Case(
        "cli-dashboard-output-is-a-file",
        "smlite dashboard DIR -o FILE",
        "exit 2, Cannot write folder",
        lambda f: ["dashboard", str(f.good.parent), "-o", str(f.a_file)],
        ("Cannot write folder", "-o"),
    ),
    Case(
        "cli-dashboard-nothing-usable",
        "smlite dashboard <only a NaN and a deep results.json>",
        "exit 2 when nothing valid remains",
        lambda f: [
            "dashboard",
            str(f.results("nan", _nan)),
            str(f.results("deep", raw=b"{" * 200)),
            "-o",
            str(f.tmp / "site"),
        ],
        ("No usable results.json", "all 2 found were skipped"),
        lines=3,
    ),
    Case(
        "cli-run-allure-is-a-file",
        "smlite run --allure FILE",
        "exit 2 before a sandbox starts, Cannot write folder",
        lambda f: ["run", "--allure", str(f.a_file)],
        ("Cannot write folder", "--allure"),
    ),
    Case(
        "cli-verify-not-a-zip",
        "smlite verify <a text file>",
        "exit 2, not a readable zip file",
        lambda f: ["verify", str(f.a_file)],
        ("Not a certificate bundle", "not a readable zip file"),
    ),
    Case(
        "cli-verify-no-such-bundle",
        "smlite verify <a path that does not exist>",
        "exit 2, no such file or folder",
        lambda f: ["verify", str(f.tmp / "absent.zip")],
        ("No such certificate bundle",),
    ),
    Case(
        "cli-verify-zip-without-manifest",
        "smlite verify <a zip holding results.json only>",
        "exit 2, not a certificate bundle (no SHA256SUMS)",
        lambda f: ["verify", str(_zip_of(f, {"results.json": f.good.read_bytes()}))],
        ("Not a certificate bundle", "SHA256SUMS"),
    ),
]


def _zip_of(files: Files, members: dict[str, bytes]) -> Path:
    import zipfile

    path = files.tmp / "bundle.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def smlite(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    entry = Path(sys.executable).with_name("smlite")
    argv = [str(entry), *args] if entry.exists() else [sys.executable, "-m", "harness.cli.main", *args]
    env = dict(os.environ, XDG_STATE_HOME=str(tmp / "state"))
    return subprocess.run(argv, cwd=tmp, env=env, capture_output=True, text=True, timeout=120)


def test_every_case_is_documented():
    doc = (REPO / "docs" / "hardening.md").read_text(encoding="utf-8")
    missing = [case.id for case in CASES if f"| `{case.id}` | cli |" not in doc]
    assert missing == [], f"docs/hardening.md does not list {missing}"


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_a_bad_path_or_file_is_one_line_and_exit_2(case: Case, tmp_path, tally):
    with tally.bad_input(case.id, "cli"):
        argv = case.argv(Files(tmp_path))
        started = time.monotonic()
        done = smlite(tmp_path, *argv)
        took = time.monotonic() - started
        assert done.returncode == 2, f"exit {done.returncode}, expected 2: {done.stderr[-600:]!r}"
        assert "Traceback" not in done.stdout + done.stderr, done.stderr[-1200:]
        lines = done.stderr.strip().splitlines()
        assert len(lines) == case.lines, f"{case.lines} line(s) expected, got {len(lines)}: {done.stderr[-1200:]}"
        for word in case.words:
            assert word in lines[-1], f"{word!r} not in {lines[-1]!r}"
        assert took < BEFORE_ANYTHING_STARTS_S, f"refused after {took:.1f}s: something started first"


def test_the_dashboard_renders_the_good_runs_beside_bad_files(tmp_path, capsys):
    files = Files(tmp_path)
    other = files.results(
        "other",
        lambda d: d["run"].update(id="20260101T000000Z-beef", target=dict(d["run"]["target"], name="Other Gateway")),
    )
    bad = [
        files.results("nan", _nan),
        files.results("deep", raw=b"[" * 100_000),
        files.results("weird", _unknown_status),
        files.results("empty", raw=b""),
    ]
    assert cli.main(["dashboard", str(tmp_path), "-o", str(tmp_path / "site")]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == len(bad), err
    for path in bad:
        assert sum(line.startswith(f"smlite dashboard: skipped {path}: ") for line in err) == 1, (path, err)
    page = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    good_name = json.loads(files.good.read_text(encoding="utf-8"))["run"]["target"]["name"]
    assert "2 targets, 2 runs" in page and good_name in page and "Other Gateway" in page
    assert "../good/index.html" in page  # the good run links to its own report
    assert len(list((tmp_path / "site" / "runs").glob("*/index.html"))) == 1  # the other got one written
    assert not (other.parent / "index.html").exists()


def test_an_unexpected_error_is_one_line_and_exit_2_never_1(monkeypatch, capsys):
    def broken(_args):
        raise RuntimeError("a bug\nwith a second line")

    monkeypatch.setattr(cli, "dispatch", broken)
    monkeypatch.delenv("SMLITE_TRACEBACK", raising=False)
    assert cli.main(["dashboard"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("smlite: internal error: RuntimeError: a bug"), err

    def unwritable(_args):
        raise PermissionError(13, "Permission denied", "/somewhere/index.html")

    monkeypatch.setattr(cli, "dispatch", unwritable)
    assert cli.main(["dashboard"]) == 2
    assert capsys.readouterr().err.strip() == "smlite: harness error: /somewhere/index.html: Permission denied"


def test_a_file_that_passed_is_remembered_and_one_changed_byte_is_checked_again(tmp_path, monkeypatch):
    from harness.results import validation
    from harness.results.loading import BadResults, load_results

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    files = Files(tmp_path)
    assert load_results(files.good).run.id
    remembered = list((tmp_path / "cache" / "smlite" / "valid-results").iterdir())
    assert len(remembered) == 1 and oct(remembered[0].parent.stat().st_mode & 0o777) == "0o700"
    text = files.good.read_text(encoding="utf-8")
    files.good.write_text(text.replace('"status": "passed"', '"status": "passeD"', 1), encoding="utf-8")
    with pytest.raises(BadResults, match=r"violates docs/results\.schema\.json"):
        load_results(files.good)
    assert validation.violations(b"not the bytes that passed", json.loads(text)) == []  # valid data: checked, passes
    assert len(list(remembered[0].parent.iterdir())) == 2
