"""`smlite report`: re-render a run's report from its results.json, or compare two runs.

``--compare`` exits 1 when any source-table cell differs between the two runs
(0 when every cell is the same), so a script can tell "nothing changed".
A results.json that cannot be used (harness/results/loading.py: too large, too deep, NaN, against
the schema) is one line naming it and exit 2, as is a folder that cannot be written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.errors import UsageError
from harness.files import atomic_write_bytes, atomic_write_text, ensure_dir
from harness.results import RunResults


def _load(path: Path) -> RunResults:
    from harness.results.loading import BadResults, load_results

    if not Path(path).exists():
        raise UsageError("No such results file", str(path))
    try:
        return load_results(path)
    except BadResults as exc:
        raise UsageError("Not an smlite results file", str(exc)) from None


def _report_of(results_path: Path, results: RunResults, fallback_dir: Path) -> Path:
    """The run's own index.html next to its results.json; when there is none, one written into fallback_dir."""
    from harness.report.render import render_html

    index = results_path.resolve().parent / "index.html"
    if index.is_file():
        return index
    return atomic_write_text(ensure_dir(fallback_dir) / "index.html", render_html(results))


def main(args: Any) -> int:
    from harness.report.compare import cells_differ, write_comparison
    from harness.report.render import write_report

    first = _load(args.results)
    out_dir = args.output or args.results.resolve().parent
    ensure_dir(out_dir)
    if args.compare:
        second = _load(args.compare)
        if not args.output:
            out_dir = args.results.resolve().parent / f"compare-{second.run.id}"
            ensure_dir(out_dir)
        page = write_comparison(
            first,
            second,
            out_dir,
            a_report=_report_of(Path(args.results), first, out_dir / "run-a"),
            b_report=_report_of(Path(args.compare), second, out_dir / "run-b"),
        )
        print(page)
        differ = cells_differ(first, second)
        print(f"{differ} source cell{'' if differ == 1 else 's'} differ" if differ else "no source cell differs")
        return 1 if differ else 0
    try:
        original = Path(args.results).read_bytes()
    except OSError as exc:
        raise UsageError("Cannot read results file", f"{args.results}: {exc.strerror or exc}") from None
    index = write_report(first, out_dir)
    # results.json is the record: keep its exact bytes (and any field this harness does not know yet)
    atomic_write_bytes(out_dir / "results.json", original)
    print(index)
    return 0
