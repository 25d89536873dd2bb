"""`smlite report`: re-render a run's report from its results.json, or compare two runs."""

from __future__ import annotations

from typing import Any

from harness.errors import UsageError
from harness.files import ensure_dir
from harness.conformance.results import RunResults


def _load(path) -> RunResults:
    try:
        return RunResults.load(path)
    except FileNotFoundError:
        raise UsageError("No such results file", str(path)) from None
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError("Not an smlite results file", f"{path}: {exc}") from None


def main(args: Any) -> int:
    from harness.report.compare import write_comparison
    from harness.report.render import write_report

    first = _load(args.results)
    out_dir = args.output or args.results.resolve().parent
    ensure_dir(out_dir)
    if args.compare:
        second = _load(args.compare)
        if not args.output:
            out_dir = args.results.resolve().parent / f"compare-{second.run.id}"
            ensure_dir(out_dir)
        print(write_comparison(first, second, out_dir))
        return 0
    print(write_report(first, out_dir))
    return 0
