"""What `smlite run` is asked to do.

Owns ``RunOptions`` (a run's options, from the command line or from code), ``explores`` (whether the
run explores after its scenarios) and ``check_certify`` (what a certification run refuses).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from harness import results as R
from harness.errors import UsageError
from harness.profile.schema import REQUIRED_BY_SOURCE, TargetProfile

REPO = Path(__file__).resolve().parents[2]


@dataclass
class RunOptions:
    target: str | None = None  # profile path; None = embedded reference sandbox
    variant: str = ""  # a broken variant of the embedded reference gateway
    select: str | None = None  # -k
    workers: int = 1  # -n
    concurrency: int | None = None  # at most this many scenarios at once (None: the engine's default)
    engine: str = "concurrent"  # or "sequential": pytest-bdd runs the scenarios itself, one after the other
    seed: int | None = None
    certify: bool = False
    reports_dir: Path = REPO / "reports"
    report: bool = True
    quiet: bool = False
    exitfirst: bool = False
    extra_domains: list[str] = field(default_factory=list)
    reveal_secrets: bool = False  # keep tokens and passwords in the report (local debugging)
    allure: str | None = None  # write Allure results to this folder ("": allure-results/ in the run's folder)
    pictures: bool = True  # what the recipient sees, rendered by headless Chromium (--no-pictures)
    features: str = ""  # a feature file or folder instead of features/ (a reproduction of exploration)
    corpus: str = ""  # the user's own mail (a folder or a file) sent through the target as well (corpus.py)
    # exploration after the scenarios (harness/exploration/, handed in by the command line): its budget in
    # seconds (None: the default for the scenarios' time; 0: none) and the function that explores
    explore_budget: float | None = None
    explore_conversations: int | None = None  # and at most this many conversations (reach independent of speed)
    # (profile, seed, budget_s, scenarios_wall_s, folder, conversations=…) -> the exploration
    explorer: Callable[..., R.Exploration] | None = None


def explores(options: RunOptions) -> bool:
    """A whole run explores after its scenarios unless told not to; a selection (-k, -x, a feature) only
    when given a budget."""
    if options.explorer is None or options.explore_budget == 0:
        return False
    partial = bool(options.select or options.exitfirst or options.features)
    return options.explore_budget is not None or options.explore_conversations is not None or not partial


def check_certify(options: RunOptions, profile: TargetProfile | None = None) -> None:
    """A certification run is the whole suite against a target able to do what the source requires."""
    if options.select:
        raise UsageError("A certification run runs every scenario", "--certify refuses -k; drop -k or --certify")
    if options.exitfirst:
        raise UsageError("A certification run runs every scenario", "--certify refuses -x; drop -x or --certify")
    if profile is None:
        return
    missing = [c for c in REQUIRED_BY_SOURCE if not profile.has(c)]
    if missing:
        raise UsageError(
            "The target lacks capabilities the source requires",
            f"--certify needs {', '.join(missing)} (the source requires "
            f"{', '.join(REQUIRED_BY_SOURCE)}); declare them in the profile or drop --certify",
        )
