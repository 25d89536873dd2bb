"""The `smlite` command line: argument parsing and dispatch, nothing else.

Every failure the user can act on becomes one message on stderr and exit code
2 (usage, harness errors); a run's verdict decides 0 (conformant) or 1. Exit code
1 means "not conformant" to every CI, so nothing else may end with it: where a
command will write is checked before it starts (harness/cli/outputs.py), an I/O
error no command worded itself is one line and 2, and so is an unexpected
exception (a bug: one line, and the traceback only with ``SMLITE_TRACEBACK=1``).
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from pathlib import Path

from harness import __version__
from harness.cli import evidence, outputs
from harness.cli import explore as explore_cli
from harness.errors import HarnessError, UsageError

DEFAULT_REPORTS = Path(__file__).resolve().parents[2] / "reports"  # as harness/conformance/runner.py's
APPLICATIONS_HELP = (
    "outlook | office (Mimecast for Outlook, 'Microsoft Office'), mac (Mimecast for Mac), "
    "mpp (Mimecast Personal Portal), portal (Secure Messaging Portal: replies) — or the full name"
)

EPILOG = """examples:
  smlite run                              suite against the embedded reference sandbox, report in reports/latest
  smlite run -n 2 -k T3                   only table 3's scenarios, two workers
  smlite run --target vendor.toml         suite against a vendor's implementation (docs/vendors.md)
  smlite sandbox up                       Mailpit + reference gateway until Ctrl-C
  smlite sandbox up --gateway-config acme.toml --write-profile acme-profile.toml
                                          the reference configured otherwise, and its profile
  smlite target check acme-profile.toml   validate a profile and probe its target
  smlite run --target acme-profile.toml --certify
                                          certification run: whole suite, every capability the source requires,
                                          and reports/<run-id>/certificate.zip
  smlite verify certificate.zip           judge a certificate bundle again from its evidence (exit 0: it holds)
  smlite simulate --ephemeral --app mpp --definition All --from a@corp.example --to b@corp.example
  smlite explore --budget 1000 --seed 7   explore the source's promises on generated conversations
  smlite selfcheck                        run the suite against every broken variant: the kill rate
  smlite load --users 20 --rate 20 --duration 60   a bounded load with a conformance sample
  smlite report reports/latest/results.json --compare other/results.json
                                          exits 1 when source cells differ
  smlite dashboard reports/ vendor-a/ -o dashboard/   one page across runs and targets

exit codes: 0 conformant / success, 1 not conformant, 2 usage or harness error."""


def _run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--target",
        metavar="PROFILE",
        help="target profile (TOML); default: the embedded reference gateway in a fresh sandbox",
    )
    parser.add_argument("-k", dest="select", metavar="EXPR", help="only scenarios matching EXPR (pytest -k)")
    parser.add_argument(
        "-n",
        dest="workers",
        type=int,
        default=1,
        metavar="N",
        help="pytest-xdist worker processes (each runs its scenarios one after the other)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=None,
        metavar="N",
        help="at most N scenarios at once (default: as many as the target's latency asks for, up to 64); "
        "1 runs them one after the other",
    )
    parser.add_argument("--seed", type=int, help="faker seed, to replay a run's people (printed by every run)")
    parser.add_argument(
        "--certify", action="store_true", help="certification run: every scenario, every capability the source requires"
    )
    parser.add_argument(
        "--reports-dir", type=Path, default=None, help="where reports/<run-id>/ goes (default reports/)"
    )
    parser.add_argument(
        "--variant",
        default="",
        metavar="NAME",
        help="run the embedded reference as a deliberately broken variant (see `smlite selfcheck --list`)",
    )
    parser.add_argument("-x", "--exitfirst", action="store_true", help="stop at the first failing scenario")
    parser.add_argument(
        "--reveal-secrets",
        action="store_true",
        help="keep tokens and passwords in the report and terminal (local debugging; the report says so)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    evidence.add_run_arguments(parser)
    explore_cli.add_run_arguments(parser)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="smlite",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
        description="Conformance harness and scenario simulator for Secure Messaging - Lite "
        "(source: 'Secure Messaging - Lite Definitions').",
    )
    parser.add_argument("--version", action="version", version=f"smlite {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="run the conformance suite and write the report",
        description="Run every scenario against a target and write reports/<run-id>/.",
    )
    _run_arguments(run)

    sandbox = commands.add_parser("sandbox", help="the sandbox: Mailpit and the reference gateway")
    sandbox_commands = sandbox.add_subparsers(dest="sandbox_command", metavar="ACTION", required=True)
    up = sandbox_commands.add_parser("up", help="start Mailpit and the gateway, print their URLs, stay until Ctrl-C")
    up.add_argument("--domains", nargs="+", metavar="DOMAIN", help="internal domains (default corp.example)")
    up.add_argument("--variant", default="", help="start a broken variant of the gateway")
    up.add_argument("--name", default="", help="a named sandbox, so several can run at once (default: unnamed)")
    up.add_argument("--run-dir", type=Path, help="keep databases and logs here (default: a temporary folder)")
    up.add_argument(
        "--gateway-config",
        type=Path,
        metavar="FILE",
        help="gateway settings (TOML, keys of docs/contract.md: internal_domains, banner_text, "
        "notification_subject, notification_text, notification_from, smtp_port, http_port, ...)",
    )
    up.add_argument(
        "--write-profile",
        type=Path,
        metavar="PATH",
        help="write the target profile of this sandbox (TOML) for `smlite run --target PATH`; "
        "with --mailpit-only, a starter profile for your own target",
    )
    up.add_argument(
        "--mailpit-only",
        action="store_true",
        help="start Mailpit alone: the sandbox a vendor's target relays into (docs/vendors.md)",
    )
    up.add_argument(
        "--tls",
        choices=("none", "starttls", "implicit"),
        default="none",
        help="TLS on the gateway's SMTP submission port (and HTTPS), with a CA the sandbox makes",
    )
    up.add_argument(
        "--auth",
        action="store_true",
        help="require SMTP AUTH on the gateway (an account with a random password, printed)",
    )
    status = sandbox_commands.add_parser("status", help="is a sandbox running, and is every part answering")
    status.add_argument("--name", default="", help="the named sandbox (see sandbox up --name)")

    simulate = commands.add_parser(
        "simulate", help="push one message through the sandbox, show what each recipient got"
    )
    simulate.add_argument("--app", required=True, metavar="APP", help=APPLICATIONS_HELP)
    simulate.add_argument("--definition", required=True, metavar="DEF", help="All or External")
    simulate.add_argument("--from", required=True, metavar="ADDR", help="the sender")
    simulate.add_argument("--to", required=True, nargs="+", metavar="ADDR", help="recipients")
    simulate.add_argument("--cc", nargs="+", metavar="ADDR", help="copy recipients")
    simulate.add_argument("--subject", help="subject (default: generated)")
    simulate.add_argument("--text", help="body text (default: generated)")
    simulate.add_argument(
        "--ephemeral", action="store_true", help="use a throw-away sandbox instead of the running one"
    )
    simulate.add_argument("--target", metavar="PROFILE", help="simulate against a target profile instead")
    simulate.add_argument("--json", action="store_true", help="machine-readable output")

    explore_cli.add_explore_parser(commands)

    selfcheck = commands.add_parser("selfcheck", help="prove the suite bites: run it against every broken variant")
    selfcheck.add_argument("--list", action="store_true", help="list the broken variants and exit")
    selfcheck.add_argument("--variant", nargs="+", metavar="NAME", help="only these variants")
    selfcheck.add_argument("-n", dest="workers", type=int, default=1, metavar="N", help="parallel workers per run")
    selfcheck.add_argument(
        "--reports-dir",
        type=Path,
        metavar="DIR",
        help="where selfcheck-<id>/ (index.html, selfcheck.json) goes (default reports/)",
    )

    from harness.load import command as load_command

    load_parser = commands.add_parser(
        "load",
        help="a bounded load of secure messages with a conformance sample (docs/load.md)",
        description="Send secure messages at a bounded rate for a bounded time, check a sample "
        "against the source's tables, count lost messages.",
    )
    load_command.add_arguments(load_parser)

    report = commands.add_parser("report", help="re-render a report, or compare two runs")
    report.add_argument("results", type=Path, metavar="RESULTS.json")
    report.add_argument("-o", "--output", type=Path, help="output folder (default: next to RESULTS.json)")
    report.add_argument(
        "--compare",
        type=Path,
        metavar="OTHER.json",
        help="compare RESULTS.json with OTHER.json; exit 1 when source cells differ",
    )

    from harness.report import dashboard as dashboard_command

    dashboard = commands.add_parser(
        "dashboard",
        help="one static page across runs and targets (docs/report.md)",
        description="Build a self-contained site from any number of results.json: a matrix of targets x "
        "source cells and each target's history, linking to every run's report.",
    )
    dashboard_command.add_arguments(dashboard)

    target = commands.add_parser("target", help="target profiles")
    target_commands = target.add_subparsers(dest="target_command", metavar="ACTION", required=True)
    check = target_commands.add_parser("check", help="validate a profile and probe its target")
    check.add_argument("profile", metavar="PROFILE")
    evidence.add_verify(commands)
    return parser


def _run(args: argparse.Namespace) -> int:
    from harness.conformance import runner

    options = runner.RunOptions(
        target=args.target,
        variant=args.variant,
        select=args.select,
        workers=args.workers,
        seed=args.seed,
        certify=args.certify,
        quiet=args.quiet,
        exitfirst=args.exitfirst,
        reveal_secrets=args.reveal_secrets,
        concurrency=args.concurrency,
        allure=args.allure,
        pictures=args.pictures,
    )
    if args.concurrency is not None and args.concurrency < 1:
        raise UsageError("--concurrency must be at least 1", f"got {args.concurrency}")
    if args.reports_dir:
        options.reports_dir = args.reports_dir
    explore_cli.apply_run_arguments(options, args)
    if args.target and args.variant:
        raise UsageError("--variant applies to the embedded reference only", "drop --target or --variant")
    code, results, index = runner.run(options)
    if results is not None:
        emit(runner.summary(results) + f"\nreport: {index}")
    return code


def emit(text: str, stream: str = "stdout") -> None:
    """Print; a reader that closed the pipe (``| head``) stops the output, never the command or its exit code."""
    try:
        print(text, file=getattr(sys, stream), flush=True)
    except (BrokenPipeError, OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, getattr(sys, stream).fileno())  # so the flush at exit cannot fail either


def check_outputs(args: argparse.Namespace) -> None:
    """Every path the command will write, checked before it starts anything (harness/cli/outputs.py)."""
    if args.command in ("run", "selfcheck", "explore") and not getattr(args, "list", False):
        outputs.writable_folder(args.reports_dir or DEFAULT_REPORTS, "--reports-dir")
    if getattr(args, "allure", None):
        outputs.writable_folder(Path(args.allure), "--allure")
    for option, name in (("--run-dir", "run_dir"), ("-o", "output")):
        if getattr(args, name, None):
            outputs.writable_folder(getattr(args, name), option)
    for option, name in (("--json", "json"), ("--write-profile", "write_profile")):
        if isinstance(getattr(args, name, None), (str, Path)):
            outputs.writable_file(getattr(args, name), option)


def dispatch(args: argparse.Namespace) -> int:
    check_outputs(args)
    if args.command == "run":
        return _run(args)
    if args.command == "sandbox":
        from harness.cli import sandbox

        return sandbox.up(args) if args.sandbox_command == "up" else sandbox.status(args)
    if args.command == "simulate":
        from harness.conformance import simulate

        return simulate.main(args)
    if args.command == "explore":
        return explore_cli.main(args, DEFAULT_REPORTS)
    if args.command == "selfcheck":
        from harness.conformance import selfcheck

        return selfcheck.main(args, explorer=explore_cli.explore_in_run)
    if args.command == "load":
        from harness.load import command as load

        return load.main(args)
    if args.command == "report":
        from harness.cli import report as report_cli

        return report_cli.main(args)
    if args.command == "dashboard":
        from harness.report import dashboard

        return dashboard.main(args)
    if args.command == "verify":
        return evidence.verify(args, emit)
    if args.command == "target":
        from harness.connection import check as target_check

        return target_check.main(args)
    raise UsageError("No command", "run `smlite --help`")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    try:
        return dispatch(args)
    except UsageError as exc:
        emit(f"smlite: {exc}", "stderr")
        return 2
    except HarnessError as exc:
        emit(f"smlite: harness error: {exc}", "stderr")
        return 2
    except KeyboardInterrupt:
        emit("smlite: interrupted", "stderr")
        return 130
    except OSError as exc:  # an I/O error no command worded: still one line, and never 1 ("not conformant")
        where = f"{exc.filename}: " if exc.filename else ""
        emit(f"smlite: harness error: {where}{exc.strerror or exc}", "stderr")
        return 2
    except Exception as exc:  # a bug in smlite: one line and 2, never a traceback and 1
        if os.environ.get("SMLITE_TRACEBACK"):
            traceback.print_exc()
        emit(
            f"smlite: internal error: {type(exc).__name__}: {' '.join(str(exc).split())[:300]} "
            "(a bug in smlite; SMLITE_TRACEBACK=1 shows where)",
            "stderr",
        )
        return 2


if __name__ == "__main__":
    sys.exit(main())
