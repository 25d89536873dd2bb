"""The command line of the evidence a run leaves: ``smlite run``'s ``--allure`` and ``--no-pictures``, and
``smlite verify BUNDLE``.

Owns the parsing of those options and ``verify``'s exit code: 0 when the verdict reached from the
bundle's evidence equals its claim, 1 when it does not (or any file, scenario or cell differs), 2 for a
bundle that cannot be used (one line, never a traceback). The work is harness/conformance/verify.py's.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

ALLURE_DEFAULT = "allure-results"


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allure",
        nargs="?",
        const="",
        default=None,
        type=str,
        metavar="DIR",
        help="also write Allure results (one *-result.json per scenario, attachments) to DIR "
        f"(default: {ALLURE_DEFAULT}/ in the run's report folder); `allure generate DIR` makes the report",
    )
    parser.add_argument(
        "--no-pictures",
        dest="pictures",
        action="store_false",
        help="skip the pictures of what the recipients saw (rendered by headless Chromium)",
    )


def add_verify(commands: Any) -> None:
    verify = commands.add_parser(
        "verify",
        help="judge a certificate bundle again from its own evidence (docs/report.md)",
        description="Check a certificate bundle of `smlite run --certify`: checksums, every scenario of this "
        "suite present, every cell judged again from the recorded observations with this suite's policy. "
        "Exit 0 only when the verdict reached equals the bundle's claim; 1 when not; 2 for an unusable bundle.",
    )
    verify.add_argument(
        "bundle", type=Path, metavar="BUNDLE", help="certificate.zip, or the folder it was unpacked into"
    )


def verify(args: argparse.Namespace, emit: Any) -> int:
    from harness.conformance.verify import lines, verify_bundle

    report = verify_bundle(args.bundle)
    emit("\n".join(lines(report, args.bundle)))
    return 0 if report.holds else 1
