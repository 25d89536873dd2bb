"""Owns: the command line of what ``smlite run`` runs beyond features/ — ``--explore-budget`` (exploration),
``--features`` (another feature file or folder) and ``--corpus`` (the user's own mail,
harness/conformance/corpus.py) — the ``smlite explore`` command, and the budget a certification requires
(harness/exploration/budgets.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import secrets
import sys
from pathlib import Path
from typing import Any

from harness.errors import UsageError


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 <= value <= 86400 * 7:
        raise argparse.ArgumentTypeError(f"seconds from 0 to a week, got {text}")
    return value


def _conversations(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of conversations: {text!r}") from None
    if not 1 <= value <= 1_000_000:
        raise argparse.ArgumentTypeError(f"from 1 to a million conversations, got {text}")
    return value


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--explore-budget",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help="explore the source's promises on generated conversations for SECONDS after the scenarios "
        "(default: about half the scenarios' time, at least 3; 0: no exploration; docs/exploration.md)",
    )
    parser.add_argument(
        "--explore-conversations",
        type=_conversations,
        default=None,
        metavar="N",
        help="explore at most N generated conversations (with --explore-budget: whichever comes first): the same "
        "seed then draws the same conversations however fast the machine is",
    )
    parser.add_argument(
        "--features",
        metavar="PATH",
        default="",
        help="run this feature file or folder instead of features/ (e.g. a reproduction exploration wrote)",
    )
    parser.add_argument(
        "--corpus",
        metavar="DIR",
        default="",
        help="also send every message file (*.eml, *.txt) of DIR as written, with each definition, to an internal "
        "and an external recipient, and judge that every copy is the whole message (docs/vendors.md)",
    )


def apply_run_arguments(options: Any, args: argparse.Namespace) -> None:
    """Exploration in ``smlite run``: the budget (a certification's minimum checked first) and the explorer."""
    from harness.exploration import budgets

    options.explore_budget = args.explore_budget
    options.explore_conversations = args.explore_conversations
    options.features = args.features
    options.corpus = args.corpus
    if args.features and not Path(args.features).exists():
        raise UsageError("No such feature file or folder", f"--features {args.features}")
    if args.certify:
        if args.features:
            raise UsageError("A certification run runs every scenario", "--certify refuses --features")
        if args.explore_budget is None:
            options.explore_budget = budgets.CERTIFY_MIN_BUDGET_S
        refusal = budgets.certify_refusal(options.explore_budget)
        if refusal:
            raise UsageError("A certification run explores for its minimum budget", refusal)
    options.explorer = explore_in_run


def explore_in_run(*args: Any) -> Any:
    """harness/exploration/product.py's ``explore_in_run``, imported only when a run explores (Hypothesis
    takes a third of a second to import)."""
    from harness.exploration.product import explore_in_run

    return explore_in_run(*args)


def add_explore_parser(commands: Any) -> None:
    explore = commands.add_parser(
        "explore",
        help="explore the source's promises on generated conversations, for long runs (docs/exploration.md)",
        description="Generate conversations (Hypothesis), check every promise of the source after each step, "
        "shrink each broken promise to its smallest conversation and write it as a reproduction.",
    )
    explore.add_argument("--target", metavar="PROFILE", help="target profile (default: the embedded reference)")
    explore.add_argument("--budget", type=_seconds, default=300.0, metavar="SECONDS", help="time budget (default 300)")
    explore.add_argument(
        "--conversations",
        type=_conversations,
        default=None,
        metavar="N",
        help="at most N generated conversations, whichever comes first with --budget (reach independent of speed)",
    )
    explore.add_argument(
        "--seed", type=int, help="seed of the generated exchanges (printed; same seed, same exchanges)"
    )
    explore.add_argument("--variant", default="", metavar="NAME", help="a broken variant of the embedded reference")
    explore.add_argument("--reports-dir", type=Path, default=None, help="where explore-<id>/ goes (default reports/)")


def main(args: argparse.Namespace, reports_root: Path) -> int:
    from harness.connection.opening import choose_seed, open_target
    from harness.exploration.product import explore_command

    if args.target and args.variant:
        raise UsageError("--variant applies to the embedded reference only", "drop --target or --variant")
    if args.budget <= 0:
        raise UsageError("Nothing to explore in no time", "give --budget SECONDS, more than 0")
    seed = choose_seed(args.seed)
    run_id = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(2)
    folder = (args.reports_dir or reports_root) / f"explore-{run_id}"
    counted = f" · at most {args.conversations} conversations" if args.conversations else ""
    replay = f"--seed {seed}" + (f" --conversations {args.conversations}" if args.conversations else "")
    print(
        f"smlite explore · {args.budget:g}s{counted} · seed {seed} (replay with {replay})", file=sys.stderr, flush=True
    )
    with open_target(args.target, variant=args.variant) as profile:
        return explore_command(profile, seed, args.budget, folder, args.conversations)
