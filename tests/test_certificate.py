"""The certificate bundle end to end: a real `smlite run --certify`, then `smlite verify` on it and on edits of it.

verify must accept the untouched bundle of the reference gateway and of the independent implementation
(tools/independent), and refuse one changed observation (even with every checksum recomputed, and even
when the results are changed to agree with it: the raw message, classified again, disagrees), one missing
scenario, and a changed verdict; an unusable file is one line and exit 2.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import tempfile
import zipfile
from pathlib import Path

import pytest

from harness.conformance.certificate import BUNDLE_NAME, MANIFEST

pytestmark = pytest.mark.sandbox

REPO = Path(__file__).resolve().parent.parent
SMLITE = REPO / ".venv" / "bin" / "smlite"


def certify(reports: Path, *extra: str) -> Path:
    done = subprocess.run(
        [str(SMLITE), "run", "--certify", "--seed", "4242", "-q", "--reports-dir", str(reports), *extra],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    report = next(
        line.split("report:", 1)[1].strip() for line in done.stdout.splitlines() if line.startswith("report:")
    )
    bundle = Path(report).parent / BUNDLE_NAME
    assert bundle.is_file(), f"no {BUNDLE_NAME} next to {report}"
    return bundle


def verify(bundle: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(SMLITE), "verify", str(bundle)], cwd=REPO, capture_output=True, text=True, timeout=300)


def files_of(bundle: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(bundle) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rewrite(files: dict[str, bytes], out: Path, *, checksums: bool = True) -> Path:
    """A bundle of ``files``; with ``checksums``, SHA256SUMS made again to match them (a careful forger)."""
    files = dict(files)
    if checksums:
        files[MANIFEST] = "".join(
            f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(files.items()) if name != MANIFEST
        ).encode()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out


@pytest.fixture(scope="module")
def reference_bundle(tmp_path_factory) -> Path:
    return certify(tmp_path_factory.mktemp("reports"))


def test_an_untouched_bundle_holds(reference_bundle):
    done = verify(reference_bundle)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "certificate holds" in done.stdout
    assert "verdict reached: Conformant" in done.stdout and "bundle claims:   Conformant" in done.stdout
    judged = next(line for line in done.stdout.splitlines() if line.startswith("judged again:"))
    assert int(judged.split()[2]) > 100, judged  # cells judged again from what was observed


def test_the_bundle_holds_what_it_says(reference_bundle):
    files = files_of(reference_bundle)
    assert {"results.json", "observations.json", "profile.json", "suite.json", MANIFEST} <= set(files)
    messages = [name for name in files if name.startswith("messages/")]
    assert messages and all(hashlib.sha256(files[n]).hexdigest() == Path(n).stem for n in messages)
    profile = json.loads(files["profile.json"])
    token = profile["target"].get("admin_token")
    assert token in (None, "***"), "the profile keeps no secret"
    listed = dict(reversed(line.split("  ", 1)) for line in files[MANIFEST].decode().splitlines())
    assert set(listed) == set(files) - {MANIFEST}


def _mail_observation(files: dict[str, bytes], value: str) -> tuple[dict, str, dict]:
    observations = json.loads(files["observations.json"])
    for scenario_id, records in observations.items():
        for record in records:
            seen = record["observed"].get("Mail Box")
            if seen and seen["value"] == value and seen["raw_sha256"]:
                return observations, scenario_id, record
    raise AssertionError(f"no Mail Box observation of {value!r}")


def test_one_changed_observation_is_refused_even_with_checksums_made_again(reference_bundle, tmp_path):
    files = files_of(reference_bundle)
    observations, _scenario_id, record = _mail_observation(files, "Email with banner")
    record["observed"]["Mail Box"]["value"] = "Notification"
    files["observations.json"] = json.dumps(observations).encode()
    done = verify(rewrite(files, tmp_path / "edited.zip"))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "classified again" in done.stdout and "certificate REFUSED" in done.stdout


def test_an_observation_changed_with_its_results_is_refused_by_its_raw_message(reference_bundle, tmp_path):
    files = files_of(reference_bundle)
    observations, scenario_id, record = _mail_observation(files, "Email with banner")
    record["observed"]["Mail Box"]["value"] = "Notification"
    record["cells"]["Mail Box"]["value"] = "Notification"  # the forger makes the judgement agree
    files["observations.json"] = json.dumps(observations).encode()
    results = json.loads(files["results.json"])
    scenario = next(s for s in results["scenarios"] if s["id"] == scenario_id)
    for cell in scenario["cells"][record["first_cell"] : record["first_cell"] + record["cell_count"]]:
        if cell["column"] == "Mail Box":
            cell["observed"] = cell["expected"] = "Notification"
    files["results.json"] = json.dumps(results).encode()
    done = verify(rewrite(files, tmp_path / "forged.zip"))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "its raw message is 'Email with banner' when classified again" in done.stdout


def test_a_changed_raw_message_fails_its_checksum(reference_bundle, tmp_path):
    files = files_of(reference_bundle)
    name = next(n for n in files if n.endswith(".eml"))
    files[name] = files[name].replace(b"Subject:", b"Subject: (edited)", 1)
    done = verify(rewrite(files, tmp_path / "raw.zip", checksums=False))
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"{name}: sha256 differs from {MANIFEST}" in done.stdout


def test_a_missing_scenario_is_refused(reference_bundle, tmp_path):
    files = files_of(reference_bundle)
    results = json.loads(files["results.json"])
    gone = results["scenarios"].pop(3)
    files["results.json"] = json.dumps(results).encode()
    done = verify(rewrite(files, tmp_path / "missing.zip"))
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"scenario missing from the bundle: {gone['id']}" in done.stdout
    assert "verdict reached: Incomplete" in done.stdout


def test_a_changed_verdict_is_refused(reference_bundle, tmp_path):
    files = files_of(reference_bundle)
    results = json.loads(files["results.json"])
    results["summary"]["verdict"] = "Not conformant"
    files["results.json"] = json.dumps(results).encode()
    done = verify(rewrite(files, tmp_path / "verdict.zip"))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "verdict reached: Conformant" in done.stdout and "bundle claims:   Not conformant" in done.stdout


def test_a_scenario_claimed_passed_despite_a_failed_cell_is_refused(reference_bundle, tmp_path):
    files = files_of(reference_bundle)
    results = json.loads(files["results.json"])
    scenario = next(
        s for s in results["scenarios"] if s["status"] == "passed" and any(c["level"] == "source" for c in s["cells"])
    )
    next(c for c in scenario["cells"] if c["level"] == "source")["status"] = "failed"
    files["results.json"] = json.dumps(results).encode()
    done = verify(rewrite(files, tmp_path / "cell.zip"))
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"{scenario['id']}: results say passed, the policy gives failed" in done.stdout


@pytest.mark.parametrize(
    "content", [b"not a zip at all", b"PK\x03\x04 truncated", None], ids=["text", "truncated-zip", "absent"]
)
def test_an_unusable_bundle_is_one_line_and_exit_2(tmp_path, content):
    path = tmp_path / "bundle.zip"
    if content is not None:
        path.write_bytes(content)
    done = verify(path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith("smlite: ") and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_bundle_of_another_suite_is_unusable(reference_bundle, tmp_path):
    files = files_of(reference_bundle)
    suite = json.loads(files["suite.json"])
    suite["source_sha256"] = "0" * 64
    files["suite.json"] = json.dumps(suite).encode()
    done = verify(rewrite(files, tmp_path / "other-suite.zip"))
    assert done.returncode == 2 and "another suite" in done.stderr, done.stdout + done.stderr


def test_the_independent_implementations_bundle_holds():
    from tools.independent.matrix import Running

    with tempfile.TemporaryDirectory(prefix="nw-certify-") as tmp, Running(Path(tmp), "") as running:
        profile = running.write_profile(Path(tmp) / "profile.toml")
        bundle = certify(Path(tmp) / "reports", "--target", str(profile))
        done = verify(bundle)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "certificate holds" in done.stdout
