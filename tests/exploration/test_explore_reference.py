"""Exploration against the reference gateway, in a real sandbox: it explores a counted budget and breaks no
promise of the source; the same seed draws the same exchanges; a broken variant is caught, shrunk, and its
reproduction fails on the variant and passes on the reference."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness.connection.connect import connect
from harness.exploration.explorer import STEPS_PER_CONVERSATION, explore
from harness.exploration.product import to_result, write_reproductions
from harness.gateway.clock import MAX_OFFSET_DAYS
from harness.profile.schema import from_sandbox
from harness.sandbox.lifecycle import Sandbox

pytestmark = pytest.mark.sandbox
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def reference():
    with Sandbox() as sandbox:
        yield from_sandbox(sandbox.info())


def _explore(profile, seed, conversations, folder=None):
    """Counted, not timed: what is drawn (and so what is found) does not depend on the machine's speed; the
    seconds are only a bound against a target that hangs."""
    with connect(profile, progress=None) as connection:
        return explore(connection, seed=seed, budget_s=600, folder=folder, conversations=conversations)


def test_the_reference_keeps_every_promise_of_the_source(reference, tmp_path):
    found = _explore(reference, seed=11, conversations=60, folder=tmp_path)
    assert not found.error, found.error
    assert found.exchanges > 40, found.exchanges
    broken = [c for c in to_result(found).counterexamples if c.counts_against_source()]
    assert not broken, [(c.promise, c.detail, c.steps) for c in broken]
    checked = set(found.checks)
    assert len(checked) >= 10, sorted(checked)
    for promise in ("T1-r1 Mail Box", "T1-r1 Message in SM Portal", "exactly-two-definitions"):
        assert promise in checked, sorted(checked)
    assert (tmp_path / "examples").is_dir()  # Hypothesis's database is kept with the run


def test_the_same_seed_draws_the_same_exchanges(reference):
    first, second = _explore(reference, seed=5, conversations=15), _explore(reference, seed=5, conversations=15)
    assert len(first.drawn) >= 20, first.drawn
    assert first.drawn == second.drawn and first.digest == second.digest  # all of it, however long each took
    assert first.conversations == second.conversations == 15
    other = _explore(reference, seed=6, conversations=15)
    assert other.drawn != first.drawn


def _smlite(*args, timeout=600):
    command = [sys.executable, "-m", "harness.cli.main", *map(str, args)]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize(("variant", "promise"), [("print-allowed", "print-refused")])
def test_a_broken_variant_is_caught_with_a_reproduction_that_fails_on_it_and_passes_on_the_reference(
    tmp_path, variant, promise
):
    with Sandbox(variant=variant) as sandbox:
        explored = _explore(from_sandbox(sandbox.info()), seed=3, conversations=30)
    found = to_result(explored)
    caught = {c.promise: c for c in found.counterexamples if c.counts_against_source()}
    assert promise in caught, [(c.promise, c.detail) for c in found.counterexamples]
    counterexample = caught[promise]
    # shrunk by Hypothesis within its time share, or the smallest conversation seen: no longer than one
    # conversation, ending where the promise broke (shrinking against a live target is slow: how far it gets
    # in the time given varies with the machine's load)
    assert len(counterexample.steps) <= STEPS_PER_CONVERSATION, counterexample.steps
    assert counterexample.steps[-1].startswith(("open", "clock")), counterexample.steps  # where print is tried
    (feature,) = [p for p in write_reproductions(explored, tmp_path) if p.stem == promise]
    reports = tmp_path / "reports"
    on_variant = _smlite("run", "-q", "--variant", variant, "--features", feature, "--reports-dir", reports)
    assert on_variant.returncode == 1, on_variant.stdout + on_variant.stderr
    on_reference = _smlite("run", "-q", "--features", feature, "--reports-dir", reports)
    assert on_reference.returncode == 0, on_reference.stdout + on_reference.stderr


def test_a_clock_that_will_not_move_further_is_said_and_no_longer_drawn(tmp_path):
    """A target may bound how far its clock goes (the reference: a thousand years in total): exploration says
    where moving it stopped, draws no further move, and breaks no promise for it."""
    with Sandbox() as sandbox, connect(from_sandbox(sandbox.info()), progress=None) as connection:
        assert connection.driver.advance_clock(MAX_OFFSET_DAYS).ok  # as far as the reference lets it go
        found = explore(connection, seed=3, budget_s=600, folder=None, conversations=25)
    assert not found.error, found.error
    refused = [line for line in found.not_explored if line.startswith("the clock moved further")]
    assert refused and "422" in refused[0], found.not_explored
    assert sum(1 for line in found.drawn if line.startswith("clock")) == 1, found.drawn
    assert not [c for c in to_result(found).counterexamples if c.counts_against_source()]
