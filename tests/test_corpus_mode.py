"""``smlite run --corpus DIR``: the user's own mail through the target, in the same report.

The messages are real mail of features/mail/ (CPython's test data and Mailpit's test messages, with their
licences); the broken one is one of them with its boundary parameter damaged.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness import results as R
from harness.conformance import corpus
from harness.conformance.runner import RunOptions, run
from harness.errors import UsageError

REPO = Path(__file__).resolve().parent.parent
MAIL = REPO / "features" / "mail"


def _users_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "my mail"
    (folder / "2025").mkdir(parents=True)
    shutil.copy(MAIL / "cpython" / "msg_07.txt", folder / "2025" / "gif attached.txt")  # text and a GIF
    shutil.copy(MAIL / "mailpit" / "mime-attachment.eml", folder / "alternatives|pdf.eml")  # a | in a name
    shutil.copy(MAIL / "mailpit" / "inline-attachment.eml", folder / "image only.eml")
    broken = (MAIL / "cpython" / "msg_02.txt").read_bytes().replace(b"boundary=", b"xboundary=", 1)
    (folder / "digest without boundary.eml").write_bytes(broken)
    (folder / "README.md").write_text("not a message")
    (folder / ".hidden.eml").write_bytes((MAIL / "cpython" / "msg_01.txt").read_bytes())
    return folder


def test_the_corpus_is_copied_privately_and_written_as_features(tmp_path):
    prepared = corpus.prepare(_users_folder(tmp_path), tmp_path / "run" / "corpus")
    assert prepared.valid == ["2025/gif attached.txt", "alternatives|pdf.eml"]
    assert list(prepared.broken) == ["digest without boundary.eml"]
    assert "boundary" in prepared.broken["digest without boundary.eml"]
    assert prepared.unsent == {"image only.eml": "no text to recognise its copies by"}
    internal = (prepared.folder / "corpus_internal.feature").read_text()
    assert (
        "| T3-r1 | alternatives\\|pdf.eml | All |" in internal
        and "| T3-r2 | 2025/gif attached.txt | External |" in internal
    )
    assert "Not sent: image only.eml" in internal
    assert "| image only.eml |" in (prepared.folder / "corpus_unsent.feature").read_text()
    assert (prepared.folder / "corpus_external.feature").read_text().count("| T1-r1 |") == 4
    for root, _dirs, files in os.walk(prepared.folder):
        assert os.stat(root).st_mode & 0o777 == 0o700, root
        for name in files:
            assert os.stat(Path(root) / name).st_mode & 0o777 == 0o600, name
    assert (prepared.folder / "mail" / "2025" / "gif attached.txt").read_bytes() == (
        MAIL / "cpython" / "msg_07.txt"
    ).read_bytes()


def test_a_corpus_with_nothing_to_send_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match=r"no \*\.eml"):
        corpus.message_files(tmp_path)
    with pytest.raises(UsageError, match="not a folder"):
        corpus.message_files(tmp_path / "missing")
    shutil.copy(MAIL / "mailpit" / "inline-attachment.eml", tmp_path / "only.eml")
    with pytest.raises(UsageError, match="Nothing in the corpus can be sent"):
        corpus.prepare(tmp_path, tmp_path / "out")


@pytest.mark.sandbox
@pytest.mark.parametrize(
    ("variant", "verdict"),
    [
        ("", "Conformant (partial: 1 not applicable) — only the scenarios matching -k 'corpus'"),
        ("portal-drops-attachments", "Not conformant"),
    ],
)
def test_the_corpus_runs_in_the_same_report(tmp_path, variant, verdict):
    options = RunOptions(
        reports_dir=tmp_path / "reports", seed=3, quiet=True, corpus=str(_users_folder(tmp_path)), variant=variant
    )
    options.select = "corpus"
    code, results, _ = run(options)
    names = sorted(s.name for s in results.scenarios)
    assert len(names) == 10, names  # 2 messages × 2 definitions × 2 recipients, 1 broken, 1 without text
    unsent = next(s for s in results.scenarios if "image only.eml" in s.name)
    assert unsent.status == R.NOT_APPLICABLE and "carries no text" in unsent.message, unsent
    assert results.verdict() == verdict, [(s.name, s.message) for s in results.scenarios if s.status != R.PASSED]
    broken = next(s for s in results.scenarios if "broken MIME" in s.name)
    assert broken.status == R.NOT_SPECIFIED and broken.observed.startswith("554 "), broken  # @contract
    assert not broken.message, broken.message  # refused with a reason: nothing differs from the contract
    if variant:
        failed = {s.name for s in results.scenarios if s.status == R.FAILED}
        assert failed and all("to an external recipient" in n for n in failed), failed
        assert code == 1
    else:
        assert code == 0


@pytest.mark.sandbox
def test_a_missing_corpus_is_one_line_and_exit_2(tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "harness.cli.main", "run", "--corpus", str(tmp_path / "nowhere")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 2, completed.stderr
    assert "No such corpus" in completed.stderr and "Traceback" not in completed.stderr
