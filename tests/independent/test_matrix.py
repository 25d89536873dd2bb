"""Owns: the behaviour matrix as pytest tests: the suite against the independent gateway, per behaviour.

A deviation must make the suite say "Not conformant"; an alternative (a choice
the source allows) must leave it "Conformant…"; a contract difference (allowed by
the source, not by docs/contract.md) must leave it Conformant and be reported. Today the suite misses many
deviations and wrongly fails some alternatives: those tests fail, by design,
and name what the suite would have to check (the lead's work list).

    .venv/bin/python -m pytest tests/independent/test_matrix.py                                 # correct only
    .venv/bin/python -m pytest tests/independent/test_matrix.py -m independent                  # all
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from tools.independent import behaviours as B
from tools.independent.matrix import DEFAULT_SEED, run_one

pytestmark = pytest.mark.independent


def _run(name: str):
    return run_one(name, DEFAULT_SEED, Path(tempfile.mkdtemp(prefix="nw-pytest-reports-")))


@pytest.mark.sandbox
def test_the_correct_implementation_is_conformant():
    outcome = _run("")
    assert not outcome.error, outcome.error
    assert outcome.verdict == "Conformant", f"{outcome.verdict}: failed {outcome.failed} ({outcome.report})"


@pytest.mark.slow
@pytest.mark.sandbox
@pytest.mark.parametrize("name", [b.name for b in B.deviations()])
def test_the_suite_catches_the_deviation(name):
    entry = B.get(name)
    outcome = _run(name)
    assert not outcome.error, outcome.error
    assert outcome.verdict == "Not conformant", (
        f"the suite missed {name} ({entry.ref}): {entry.description}; the source says: {entry.source} "
        f"— verdict {outcome.verdict!r} ({outcome.report})"
    )


@pytest.mark.slow
@pytest.mark.sandbox
@pytest.mark.parametrize("name", [b.name for b in B.alternatives()])
def test_the_suite_accepts_the_alternative(name):
    entry = B.get(name)
    outcome = _run(name)
    assert not outcome.error, outcome.error
    assert outcome.verdict.startswith("Conformant"), (
        f"the suite wrongly failed {name} ({entry.ref}): {entry.description}; allowed because: {entry.source} "
        f"— failed {outcome.failed} ({outcome.report})"
    )


@pytest.mark.slow
@pytest.mark.sandbox
@pytest.mark.parametrize("name", [b.name for b in B.contract_differences()])
def test_the_suite_reports_the_contract_difference_and_stays_conformant(name):
    entry = B.get(name)
    outcome = _run(name)
    assert not outcome.error, outcome.error
    assert outcome.verdict.startswith("Conformant") and outcome.contract_differences > 0, (
        f"{name} ({entry.ref}): {entry.description} — expected Conformant with contract differences, got "
        f"{outcome.verdict!r} and {outcome.contract_differences} difference(s) ({outcome.report})"
    )
