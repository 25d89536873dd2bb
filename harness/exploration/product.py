"""Owns: exploration as the product runs it — after the scenarios of ``smlite run`` (``explore_in_run``,
handed to the runner by the command line, so the engine below never imports exploration), and alone, for
long runs (``smlite explore``: ``explore_command``) — and an exploration as results.json carries it
(``to_result``), with each counterexample's reproduction written next to the report as a ``.feature``.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

from harness import policy
from harness import results as R
from harness.connection.connect import connect
from harness.exploration.budgets import default_budget
from harness.exploration.explorer import Exploration, explore
from harness.exploration.minimise.reproduction import eml_files
from harness.files import atomic_write_bytes, atomic_write_text, ensure_dir
from harness.profile.schema import TargetProfile


def to_result(found: Exploration) -> R.Exploration:
    return R.Exploration(
        seed=found.seed,
        budget_s=found.budget_s,
        elapsed_s=found.elapsed_s,
        exchanges=found.exchanges,
        conversations=found.conversations,
        promises_checked=dict(found.checks),
        counterexamples=[
            R.ExploredCounterexample(
                c.promise,
                c.level,
                c.kind,
                c.words,
                c.who,
                c.detail,
                [s.line() for s in c.steps],
                c.shrunk,
                c.feature,
                list(c.commands),
            )
            for c in found.counterexamples
        ],
        not_explored=list(found.not_explored),
        digest=found.digest,
        database=found.database,
        error=found.error,
        conversations_budget=found.conversations_budget,
    )


def write_reproductions(found: Exploration, folder: Path) -> list[Path]:
    """One ``<promise>.feature`` per counterexample in ``folder`` (run with ``smlite run --features``), and
    the messages as written it sends (``<promise>-<n>.eml``, next to it: the run finds them there)."""
    written = []
    for counterexample in found.counterexamples:
        name = "".join(c if c.isalnum() or c in "-_" else "-" for c in counterexample.promise)
        written.append(atomic_write_bytes(ensure_dir(folder) / f"{name}.feature", counterexample.feature.encode()))
        for eml, raw in eml_files(counterexample.promise, counterexample.steps).items():
            written.append(atomic_write_bytes(ensure_dir(folder) / Path(eml).name, raw))
    return written


def explore_in_run(
    profile: TargetProfile,
    seed: int,
    budget_s: float | None,
    scenarios_wall_s: float,
    folder: Path,
    conversations: int | None = None,
) -> R.Exploration:
    """The exploration of ``smlite run``: ``budget_s`` seconds (None: the default for the scenarios' time),
    and at most ``conversations`` conversations when given."""
    budget = default_budget(scenarios_wall_s, conversations) if budget_s is None else budget_s
    with connect(profile, progress=None) as connection:
        found = explore(connection, seed=seed, budget_s=budget, folder=folder, conversations=conversations)
    write_reproductions(found, folder)
    return to_result(found)


def summary(found: R.Exploration) -> str:
    rate = found.exchanges / found.elapsed_s if found.elapsed_s else 0.0
    lines = [
        f"explored: {found.exchanges} exchanges in {found.conversations} conversations, {found.elapsed_s:.1f}s "
        f"of a {found.budget_s:g}s budget{_at_most(found)} ({rate:.1f}/s), {len(found.promises_checked)} promises checked, "
        f"seed {found.seed}, digest {found.digest}"
    ]
    for c in found.counterexamples:
        words = policy.judgement_words(policy.FAILED, c.level)
        lines.append(f"  {words}: {c.promise} ({c.level}) for {c.who}: {c.detail.splitlines()[0][:200]}")
    lines += [f"  not explored: {what}" for what in found.not_explored]
    if found.error:
        lines.append(f"  INCOMPLETE: {found.error}")
    return "\n".join(lines)


def _at_most(found: R.Exploration) -> str:
    limit = found.conversations_budget
    return "" if limit is None else f" and {limit} conversation{'s' if limit != 1 else ''}"


def explore_command(
    profile: TargetProfile, seed: int, budget_s: float, folder: Path, conversations: int | None = None
) -> int:
    """``smlite explore``: explore alone, write exploration.json and the reproductions; the exit code of
    harness/policy.py (1 when a counterexample counts against the source, 2 when it stopped early)."""
    with connect(profile, progress=None) as connection:
        explored = explore(connection, seed=seed, budget_s=budget_s, folder=folder, conversations=conversations)
    write_reproductions(explored, folder)
    found = to_result(explored)
    atomic_write_text(folder / "exploration.json", json.dumps(asdict(found), indent=2, ensure_ascii=False))
    print(summary(found) + f"\nwritten: {folder}", file=sys.stdout, flush=True)
    failing = sum(c.counts_against_source() for c in found.counterexamples)
    return policy.run_verdict(failed=failing, complete=not found.error).exit_code
