"""`smlite run --certify` refuses what would make it less than the whole suite, before starting anything.

Refused with exit 2 and one message, with no sandbox started and no report
folder written: `-k`, `-x`, and a profile lacking a capability the source
requires (harness.profile.schema.REQUIRED_BY_SOURCE). What a certification run
records is proved in test_other_configuration.py.
"""

from __future__ import annotations

import time

import pytest

from harness.profile.schema import CAPABILITIES, REQUIRED_BY_SOURCE

from .vendorkit import free_ports, smlite


def nowhere_profile(tmp_path, capabilities):
    http, smtp, mailpit = free_ports(3)  # nothing there: a refusal must not even try to reach it
    path = tmp_path / "p.toml"
    path.write_text(
        f'name = "T"\ncapabilities = {list(capabilities)!r}\n'.replace("'", '"')
        + f'[target]\nhttp = "http://127.0.0.1:{http}"\nsmtp = "127.0.0.1:{smtp}"\nadmin_token = "x"\n'
        f'[mailpit]\napi = "http://127.0.0.1:{mailpit}"\n'
    )
    return path


@pytest.mark.parametrize(
    "args, message",
    [
        (["-k", "T1"], "A certification run runs every scenario: --certify refuses -k"),
        (["-x"], "A certification run runs every scenario: --certify refuses -x"),
    ],
)
def test_certify_refuses_a_partial_selection(tmp_path, args, message):
    started = time.monotonic()
    done = smlite("run", "--certify", *args, "--reports-dir", tmp_path)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr
    assert "starting the embedded sandbox" not in done.stderr and time.monotonic() - started < 10
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("missing", [*REQUIRED_BY_SOURCE, "mpp admin-console"])
def test_certify_refuses_a_target_lacking_what_the_source_requires(tmp_path, missing):
    capabilities = [c for c in CAPABILITIES if c not in missing.split()]
    done = smlite(
        "run", "--certify", "--target", nowhere_profile(tmp_path, capabilities), "--reports-dir", tmp_path / "reports"
    )
    assert done.returncode == 2, done.stdout + done.stderr
    absent = ", ".join(c for c in REQUIRED_BY_SOURCE if c in missing.split())
    assert f"The target lacks capabilities the source requires: --certify needs {absent}" in done.stderr
    assert "Target unreachable" not in done.stderr and not (tmp_path / "reports").exists()


def test_optional_capabilities_are_not_required_for_certification(tmp_path):
    """Without clock and sm-portal-index --certify goes ahead (and here finds nothing listening: exit 2)."""
    done = smlite(
        "run",
        "--certify",
        "--target",
        nowhere_profile(tmp_path, REQUIRED_BY_SOURCE),
        "--reports-dir",
        tmp_path / "reports",
    )
    assert done.returncode == 2 and "Target unreachable" in done.stderr and "lacks capabilities" not in done.stderr
