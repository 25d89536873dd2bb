"""`smlite selfcheck`: prove the suite bites.

Owns: running the suite against each deliberately broken variant of the
reference gateway (harness/gateway/variants.py), switched on by gateway
configuration alone — the suite is not touched — and counting the variants it
catches: the kill rate; printing one line per variant as it finishes; and the
kill-rate report ``reports/selfcheck-<id>/index.html`` + ``selfcheck.json``
(variant, the scenario that caught it, how long it took). A variant counts as
caught only when a required scenario *failed* (a harness error is not a
catch). It also runs the correct gateway first: a suite that fails the
reference proves nothing.

The page is one self-contained HTML file (inline CSS, no script, no external
resource) rendered by Jinja2 with autoescape on; the template is inline here
because it is small and only this module uses it.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, StrictUndefined

from harness import __version__, policy
from harness import results as R
from harness.conformance.runner import REPO, RunOptions, run
from harness.errors import UsageError
from harness.gateway.variants import ALTERNATIVES, VARIANTS

#: how many conversations a selfcheck explores for a variant its scenarios missed (and the reference, and
#: the alternatives): counted, not timed, so that a kill rate does not depend on how fast or loaded the
#: machine is (seed 1 finds the rarest kind of the 22 variants in its 21st conversation); more than
#: ``smlite run``'s default reaches, so that it does not hang on one short draw
SELFCHECK_EXPLORE_CONVERSATIONS = 100


@dataclass
class VariantOutcome:
    variant: str
    description: str
    caught: bool
    caught_by: list[str] = field(default_factory=list)
    verdict: str = ""
    seconds: float = 0.0


def check_variant(
    variant: str,
    reports_dir: Path,
    workers: int = 1,
    seed: int | None = None,
    exitfirst: bool = True,
    explorer: Any = None,
    explore_conversations: int | None = SELFCHECK_EXPLORE_CONVERSATIONS,
) -> VariantOutcome:
    """The suite against ``variant``: its scenarios first (stopping at the first failure), then, when
    they all pass and an ``explorer`` is handed in (the command line's; nothing here imports
    exploration), a whole run that explores after them as ``smlite run`` does, for
    ``explore_conversations`` conversations (None: ``smlite run``'s default budget). Caught by a failed scenario or by a counterexample at a level that
    counts against the source."""
    started = time.perf_counter()
    results = _run(variant, reports_dir, workers, seed, exitfirst=exitfirst)
    failed = _failed(results)
    if not failed and explorer is not None and results is not None and results.verdict() != policy.INCOMPLETE:
        results = _run(
            variant,
            reports_dir,
            workers,
            seed,
            explorer=explorer,
            explore_budget=None,
            explore_conversations=explore_conversations,
        )
        failed = _failed(results)
    described = {**VARIANTS, **ALTERNATIVES}.get(variant, "the correct reference gateway")
    return VariantOutcome(
        variant,
        described,
        bool(failed),
        failed,
        results.verdict() if results else "no results",
        round(time.perf_counter() - started, 2),
    )


def _run(variant: str, reports_dir: Path, workers: int, seed: int | None, **options: Any) -> R.RunResults | None:
    options.setdefault("explore_budget", 0)
    _code, results, _ = run(
        RunOptions(
            variant=variant, reports_dir=reports_dir, quiet=True, report=False, workers=workers, seed=seed, **options
        )
    )
    return results


def _failed(results: R.RunResults | None) -> list[str]:
    """The failed scenarios, then the promises exploration found broken at a level against the source."""
    if results is None:
        return []
    failed = [s.name for s in results.scenarios if s.status == R.FAILED]
    for exploration in results.explorations:
        failed += [f"explored: {c.promise}" for c in exploration.counterexamples if c.counts_against_source()]
    return failed


def selfcheck(
    variants: list[str], workers: int = 1, log: Any = sys.stderr, explorer: Any = None
) -> tuple[VariantOutcome, list[VariantOutcome]]:
    with tempfile.TemporaryDirectory(prefix="smlite-selfcheck-") as folder:
        reports = Path(folder)
        print("the correct reference gateway first …", file=log, flush=True)
        baseline = check_variant("", reports, workers, exitfirst=False, explorer=explorer)
        print(
            f"[ 0/{len(variants)}] {'(reference gateway)':<30} {baseline.verdict} ({baseline.seconds:.1f}s)",
            file=log,
            flush=True,
        )
        outcomes = []
        for number, variant in enumerate(variants, 1):
            outcome = check_variant(variant, reports, workers, explorer=explorer)
            outcomes.append(outcome)
            mark = "caught" if outcome.caught else "MISSED"
            by = f" by: {outcome.caught_by[0]}" if outcome.caught else ""
            print(
                f"[{number:>2}/{len(variants)}] {variant:<30} {mark}{by} ({outcome.seconds:.1f}s)", file=log, flush=True
            )
    return baseline, outcomes


# -- the report ------------------------------------------------------------------
_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>smlite selfcheck {{ data.id }}: kill rate {{ data.kill_rate.caught }}/{{ data.kill_rate.total }}</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;color:#1b1b1b}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #ccc;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}.caught{color:#0a6b2a;font-weight:600}.missed{color:#a30000;font-weight:700}
.num{text-align:right;font-variant-numeric:tabular-nums}.muted{color:#555}
</style></head><body>
<h1>Self-check: does the suite catch broken gateways?</h1>
<p><strong class="{{ 'caught' if data.kill_rate.caught == data.kill_rate.total else 'missed' }}">kill rate
{{ data.kill_rate.caught }}/{{ data.kill_rate.total }} = {{ data.kill_rate.percent }}%</strong>
· reference gateway: <strong class="{{ 'caught' if data.reference.verdict == 'Conformant' else 'missed' }}">{{ data.reference.verdict }}</strong>
({{ '%.1f' % data.reference.seconds }} s)</p>
<p class="muted">run {{ data.id }} · smlite {{ data.harness_version }} · {{ data.started_at }} → {{ data.finished_at }}
· {{ '%.1f' % data.duration_s }} s · each variant runs the suite with -x (it stops at the first failing scenario), then, if no scenario failed, the whole run exploring {{ data.explore_conversations }} generated conversations</p>
<table><thead><tr><th>variant</th><th>what is broken</th><th>result</th><th>scenario that caught it</th><th class="num">time (s)</th></tr></thead>
<tbody>
{% for v in data.variants %}<tr>
<td><code>{{ v.variant }}</code></td><td>{{ v.description }}</td>
<td class="{{ 'caught' if v.caught else 'missed' }}">{{ 'caught' if v.caught else 'MISSED' }}</td>
<td>{{ v.caught_by[0] if v.caught else v.verdict }}</td><td class="num">{{ '%.1f' % v.seconds }}</td>
</tr>{% endfor %}
</tbody></table>
{% if data.alternatives %}<h2>Choices the source allows (must be accepted)</h2>
<table><thead><tr><th>alternative</th><th>what it does</th><th>result</th><th>verdict</th><th class="num">time (s)</th></tr></thead>
<tbody>
{% for a in data.alternatives %}<tr><td><code>{{ a.variant }}</code></td><td>{{ a.description }}</td>
<td class="{{ 'caught' if a.accepted else 'missed' }}">{{ 'accepted' if a.accepted else 'REJECTED' }}</td>
<td>{{ a.verdict }}</td><td class="num">{{ '%.1f' % a.seconds }}</td></tr>{% endfor %}
</tbody></table>{% endif %}
</body></html>
"""


def report_data(
    baseline: VariantOutcome,
    outcomes: list[VariantOutcome],
    run_id: str,
    started_at: dt.datetime,
    finished_at: dt.datetime,
    alternatives: list[VariantOutcome] | None = None,
) -> dict[str, Any]:
    caught = sum(o.caught for o in outcomes)
    return {
        "id": run_id,
        "harness_version": __version__,
        "started_at": started_at.isoformat(timespec="seconds"),
        "finished_at": finished_at.isoformat(timespec="seconds"),
        "duration_s": round((finished_at - started_at).total_seconds(), 2),
        "reference": {"verdict": baseline.verdict, "seconds": baseline.seconds},
        "kill_rate": {"caught": caught, "total": len(outcomes), "percent": round(100 * caught / max(len(outcomes), 1))},
        "variants": [asdict(o) for o in outcomes],
        "alternatives": [asdict(o) | {"accepted": o.verdict.startswith("Conformant")} for o in alternatives or []],
        "explore_conversations": SELFCHECK_EXPLORE_CONVERSATIONS,
    }


def write_report(data: dict[str, Any], reports_dir: Path) -> Path:
    """``reports_dir/selfcheck-<id>/index.html`` and ``selfcheck.json``; returns the page."""
    folder = Path(reports_dir) / f"selfcheck-{data['id']}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "selfcheck.json").write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    page = Environment(autoescape=True, undefined=StrictUndefined).from_string(_PAGE).render(data=data)
    (folder / "index.html").write_text(page, encoding="utf-8")
    return folder / "index.html"


def main(args: Any, explorer: Any = None) -> int:
    """``explorer``: the command line's exploration (harness/cli/explore.py), as ``smlite run`` has it."""
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
    started_at = dt.datetime.now(dt.UTC)
    run_id = started_at.strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(2)
    baseline, outcomes = selfcheck(chosen, args.workers, explorer=explorer)
    alternatives = []
    if not args.variant:  # the choices the source allows must pass, reported as contract differences
        for name in ALTERNATIVES:
            with tempfile.TemporaryDirectory(prefix="smlite-selfcheck-") as folder:
                outcome = check_variant(name, Path(folder), args.workers, exitfirst=False, explorer=explorer)
            alternatives.append(outcome)
            print(
                f"  {'accepted' if outcome.verdict.startswith('Conformant') else 'REJECTED':<8} {name:<30} "
                f"{outcome.verdict} ({outcome.seconds:.1f}s)",
                file=sys.stderr,
                flush=True,
            )
    data = report_data(baseline, outcomes, run_id, started_at, dt.datetime.now(dt.UTC), alternatives)
    index = write_report(data, Path(getattr(args, "reports_dir", None) or REPO / "reports"))
    caught = data["kill_rate"]["caught"]
    print(f"\nreference gateway: {baseline.verdict}")
    for outcome in outcomes:
        print(
            f"  {'caught' if outcome.caught else 'MISSED':<7} {outcome.variant:<30} "
            f"{outcome.caught_by[0] if outcome.caught else outcome.verdict}"
        )
    print(f"kill rate: {caught}/{len(outcomes)} = {data['kill_rate']['percent']}%")
    accepted = [a["accepted"] for a in data["alternatives"]]
    if accepted:
        print(f"alternatives accepted: {sum(accepted)}/{len(accepted)}")
    print(f"report: {index}")
    if baseline.verdict == policy.INCOMPLETE:  # the environment failed, not the suite: never 1
        print("selfcheck incomplete: the reference gateway's own run did not complete", file=sys.stderr)
        return 2
    ok = caught == len(outcomes) and baseline.verdict == "Conformant" and all(accepted)
    return 0 if ok else 1
