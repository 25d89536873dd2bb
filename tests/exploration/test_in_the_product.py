"""Exploration in the product: its counterexamples judged by the one policy in the run's verdict, carried
by results.json, junit.xml and cucumber.json alike, its budgets, and --certify's minimum."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness import policy
from harness import results as R
from harness.exploration import budgets
from harness.report.cucumber import build_cucumber
from harness.report.junit import write_junit
from harness.report.render import render_html
from tests.schemas import check_three_files_agree, validate_results

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "tests" / "schemas" / "results-sample.json"


def _with(*counterexamples: R.ExploredCounterexample, error: str = "") -> R.RunResults:
    results = R.RunResults.load(SAMPLE)
    checked = {"T1-r1 Mail Box": 4, "print-refused": 2, **{c.promise: 1 for c in counterexamples}}
    results.explorations = [
        R.Exploration(7, 10.0, 9.5, 120, 30, checked, list(counterexamples), ["Bcc recipients"], "abc", "", error)
    ]
    return results


def _counterexample(promise: str, level: str) -> R.ExploredCounterexample:
    return R.ExploredCounterexample(promise, level, "attribute", "words", "Erik2", "printing answered 200", ["open"])


@pytest.mark.parametrize(
    ("level", "verdict"), [("source", policy.NOT_CONFORMANT), ("derived", policy.NOT_CONFORMANT), ("contract", None)]
)
def test_a_counterexample_is_judged_at_its_level(tmp_path, level, verdict):
    plain = R.RunResults.load(SAMPLE)
    results = _with(_counterexample("print-refused", level))
    assert results.judged().kind == (verdict or plain.judged().kind)
    check_three_files_agree(results, write_junit(results, tmp_path / "junit.xml"), build_cucumber(results))
    loaded = R.RunResults.from_dict(copy.deepcopy(results.to_dict()))
    assert loaded.explorations == results.explorations
    page = render_html(results)
    assert 'id="explored"' in page and "print-refused" in page


def test_an_exploration_that_stopped_early_leaves_the_run_incomplete(tmp_path):
    results = _with(error="the target stopped answering")
    assert results.judged().kind in (policy.INCOMPLETE, policy.NOT_CONFORMANT)
    assert not results.complete
    check_three_files_agree(results, write_junit(results, tmp_path / "junit.xml"), build_cucumber(results))


def test_a_run_without_exploration_writes_what_it_always_wrote():
    assert "explorations" not in R.RunResults.load(SAMPLE).to_dict()


def test_the_default_budget_follows_the_scenarios_time():
    assert budgets.default_budget(0) == budgets.MIN_DEFAULT_BUDGET_S
    assert budgets.default_budget(100) == pytest.approx(budgets.DEFAULT_SHARE * 100)
    assert budgets.certify_refusal(budgets.CERTIFY_MIN_BUDGET_S) == ""
    assert "at least" in budgets.certify_refusal(10)


def test_certify_refuses_a_budget_below_its_minimum(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness.cli.main",
            "run",
            "--certify",
            "--explore-budget",
            "30",
            "--reports-dir",
            tmp_path,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "A certification run explores for its minimum budget: --certify explores for at least 60s" in done.stderr
    assert "Traceback" not in done.stderr


def test_explore_refuses_no_time(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "harness.cli.main", "explore", "--budget", "0", "--reports-dir", tmp_path],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "Nothing to explore in no time" in done.stderr


def test_a_counted_budget_counts_the_conversations_drawn_and_not_shrinkings_replays():
    budget = budgets.Budget(3600.0, conversations=3)
    for _ in range(2):
        budget.start_conversation()
    budget.start_shrinking()
    for _ in range(10):  # replays while shrinking: as many as its time allows, none counted
        budget.start_conversation()
    budget.stop_shrinking()
    budget.start_conversation()
    assert budget.drawn == 3
    with pytest.raises(budgets.BudgetSpent):
        budget.start_conversation()
    timed = budgets.Budget(3600.0)
    for _ in range(1000):
        timed.start_conversation()  # time alone: no count binds


def test_a_counted_budget_shrinks_for_a_bounded_time_and_gets_seconds_enough():
    counted = budgets.Budget(3000.0, conversations=100)
    counted.start_shrinking()
    assert counted.shrink_until is not None
    assert counted.shrink_until - counted.started <= budgets.COUNTED_SHRINK_S + 1
    assert budgets.default_budget(5.0, conversations=100) == 100 * budgets.CONVERSATION_BOUND_S


def test_a_counted_budget_is_carried_by_results_json():
    results = _with()
    results.explorations[0].conversations_budget = 40
    data = results.to_dict()
    validate_results(data)
    assert R.RunResults.from_dict(copy.deepcopy(data)).explorations[0].conversations_budget == 40
    validate_results(_with().to_dict())  # the time budget alone: null


@pytest.mark.parametrize(
    "args",
    [
        ["run", "--explore-conversations", "0"],
        ["run", "--explore-conversations", "many"],
        ["explore", "--conversations", "-1"],
    ],
)
def test_a_count_of_conversations_that_is_no_count_is_refused(tmp_path, args):
    done = subprocess.run(
        [sys.executable, "-m", "harness.cli.main", *args, "--reports-dir", tmp_path],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "conversations" in done.stderr and "Traceback" not in done.stderr, done.stderr


@pytest.mark.sandbox
def test_smlite_explore_draws_exactly_the_conversations_counted(tmp_path):
    command = [sys.executable, "-m", "harness.cli.main", "explore", "--conversations", "3", "--seed", "9"]
    done = subprocess.run([*command, "--reports-dir", tmp_path], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "replay with --seed 9 --conversations 3" in done.stderr
    (folder,) = tmp_path.glob("explore-*")
    data = json.loads((folder / "exploration.json").read_text(encoding="utf-8"))
    validate_results({**R.RunResults.load(SAMPLE).to_dict(), "explorations": [data]})
    assert data["conversations_budget"] == 3 and data["conversations"] == 3, data
    assert "and 3 conversations" in done.stdout
