"""`smlite selfcheck`: prove the suite bites.

Runs the whole conformance suite against each deliberately broken variant of
the reference gateway (harness/gateway/variants.py), switched on by gateway
configuration alone — the suite is not touched — and counts the variants it
catches: the kill rate. A variant counts as caught only when a required
scenario *failed* (a harness error is not a catch). It also runs the correct
gateway first: a suite that fails the reference proves nothing.
"""

from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.conformance import results as R
from harness.errors import UsageError
from harness.gateway.variants import ALTERNATIVES, VARIANTS
from harness.conformance.runner import RunOptions, run


@dataclass
class VariantOutcome:
    variant: str
    description: str
    caught: bool
    caught_by: list[str] = field(default_factory=list)
    verdict: str = ""
    seconds: float = 0.0


def check_variant(variant: str, reports_dir: Path, workers: int = 1, seed: int | None = None,
                  exitfirst: bool = True) -> VariantOutcome:
    started = time.perf_counter()
    code, results, _ = run(RunOptions(variant=variant, reports_dir=reports_dir, quiet=True, report=False,
                                      exitfirst=exitfirst, workers=workers, seed=seed))
    failed = [s.name for s in results.scenarios if s.status == R.FAILED] if results else []
    described = {**VARIANTS, **ALTERNATIVES}.get(variant, "the correct reference gateway")
    return VariantOutcome(variant, described, bool(failed), failed,
                          results.verdict() if results else "no results", round(time.perf_counter() - started, 2))


def selfcheck(variants: list[str], workers: int = 1, log: Any = sys.stderr) -> tuple[VariantOutcome, list[VariantOutcome]]:
    with tempfile.TemporaryDirectory(prefix="smlite-selfcheck-") as folder:
        reports = Path(folder)
        print("the correct reference gateway first …", file=log, flush=True)
        baseline = check_variant("", reports, workers, exitfirst=False)
        outcomes = []
        for number, variant in enumerate(variants, 1):
            outcome = check_variant(variant, reports, workers)
            outcomes.append(outcome)
            mark = "caught" if outcome.caught else "MISSED"
            by = f" by: {outcome.caught_by[0]}" if outcome.caught else ""
            print(f"[{number:>2}/{len(variants)}] {variant:<30} {mark}{by} ({outcome.seconds:.1f}s)",
                  file=log, flush=True)
    return baseline, outcomes


def main(args: Any) -> int:
    if args.list:
        for name, description in VARIANTS.items():
            print(f"{name:<30} {description}")
        for name, description in ALTERNATIVES.items():
            print(f"{name:<30} (allowed by the source) {description}")
        return 0
    chosen = args.variant or list(VARIANTS)
    unknown = [v for v in chosen if v not in VARIANTS]
    if unknown:
        raise UsageError("Unknown variant", f"{', '.join(unknown)}; see `smlite selfcheck --list`")
    baseline, outcomes = selfcheck(chosen, args.workers)
    caught = sum(o.caught for o in outcomes)
    print(f"\nreference gateway: {baseline.verdict}")
    for outcome in outcomes:
        print(f"  {'caught' if outcome.caught else 'MISSED':<7} {outcome.variant:<30} "
              f"{outcome.caught_by[0] if outcome.caught else outcome.verdict}")
    print(f"kill rate: {caught}/{len(outcomes)} = {100 * caught / max(len(outcomes), 1):.0f}%")
    accepted = []
    if not args.variant:  # the choices the source allows must pass, reported as contract differences
        for name in ALTERNATIVES:
            outcome = check_variant(name, Path(tempfile.mkdtemp(prefix="smlite-selfcheck-")), args.workers,
                                    exitfirst=False)
            accepted.append(outcome.verdict.startswith("Conformant"))
            print(f"  {'accepted' if accepted[-1] else 'REJECTED':<8} {name:<30} {outcome.verdict}")
        print(f"alternatives accepted: {sum(accepted)}/{len(accepted)}")
    ok = caught == len(outcomes) and baseline.verdict == "Conformant" and all(accepted)
    return 0 if ok else 1
