"""`smlite load`: a bounded load of secure messages against a target, on loopback.

``smlite load --users N --rate R --duration D [--target PROFILE]`` drives a
target with a seeded faker population of internal and external users who
send secure messages from Mimecast for Outlook and Mimecast for Mac (SMTP
submission) and the Mimecast Personal Portal (HTTP), with both definitions,
using Locust as a library (headless). A sample of the messages (1 in
``--sample-every``, at most ``--max-samples``) is checked per recipient
against the source's tables (``harness.source_model.source.expected_cells``, observed with
``harness.observation.observer.Observer``); at the end every accepted message's
deliveries are counted in Mailpit. docs/load.md has the details and Locust's
master/worker mode.

This module is the CLI half and never imports Locust (Locust patches the
process with gevent on import): it validates the arguments, starts the
embedded sandbox when there is no ``--target``, and runs the load itself in
a child process (``python -m harness.load.run``). Exit code: 0 the sample
conforms, nothing was lost and nothing failed; 1 otherwise; 2 usage or
harness error.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from harness.errors import UsageError
from harness.profile.mailbox_table import kind_of
from harness.profile.schema import TargetProfile, from_sandbox, load

REPO = Path(__file__).resolve().parents[2]
LIMITS = {"users": (1, 500), "rate": (0.1, 2000.0), "duration": (1.0, 3600.0)}
APPLICATIONS = ("outlook", "mac", "mpp")
ALLOW_REMOTE_ENV = "SMLITE_LOAD_ALLOW_REMOTE"  # a vendor's own lab only (docs/load.md)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--users", type=int, default=10, metavar="N", help="concurrent simulated users (10)")
    parser.add_argument(
        "--rate", type=float, default=10.0, metavar="R", help="messages per second, all users together (10)"
    )
    parser.add_argument("--duration", type=float, default=30.0, metavar="D", help="seconds of load (30)")
    parser.add_argument(
        "--target", metavar="PROFILE", help="target profile (TOML/JSON); default: the embedded reference sandbox"
    )
    parser.add_argument("--seed", type=int, default=None, help="faker seed of the population (printed)")
    parser.add_argument(
        "--sample-every",
        type=int,
        default=10,
        metavar="K",
        help="check 1 message in K against the source's tables (10)",
    )
    parser.add_argument("--max-samples", type=int, default=60, metavar="S", help="at most S sampled messages (60)")
    parser.add_argument(
        "--drain-timeout",
        type=float,
        default=60.0,
        metavar="SEC",
        help="after the load, how long deliveries may take to reach Mailpit (60)",
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the results as JSON")
    parser.add_argument(
        "--apps",
        default=",".join(APPLICATIONS),
        metavar="LIST",
        help="applications the users send from, comma-separated (outlook,mac,mpp)",
    )


def check_arguments(args: argparse.Namespace) -> None:
    for name, (low, high) in LIMITS.items():
        value = getattr(args, name)
        if not low <= value <= high:
            raise UsageError(f"--{name} out of bounds", f"between {low:g} and {high:g}, got {value:g}")
    if args.sample_every < 1 or not 0 <= args.max_samples <= 1000:
        raise UsageError("Bad sampling", "--sample-every ≥ 1 and 0 ≤ --max-samples ≤ 1000")
    if not 1 <= args.drain_timeout <= 600:
        raise UsageError("--drain-timeout out of bounds", "between 1 and 600 seconds")
    apps = [a.strip() for a in str(getattr(args, "apps", ",".join(APPLICATIONS))).split(",") if a.strip()]
    unknown = [a for a in apps if a not in APPLICATIONS]
    if not apps or unknown:
        raise UsageError("Bad --apps", f"a comma-separated subset of {', '.join(APPLICATIONS)}; got {args.apps!r}")


def _hosts(profile: TargetProfile) -> list[tuple[str, str]]:
    """(where, host) for every network address the profile names."""
    found = []
    for section, values in (("target", profile.target), ("mailpit", profile.mailpit)):
        for key, value in values.items():
            if not isinstance(value, str) or key in ("admin_token",):
                continue
            host = (
                urlsplit(value).hostname
                if "://" in value
                else (value.rpartition(":")[0] if value.rpartition(":")[2].isdigit() else None)
            )
            if host:
                found.append((f"{section}.{key}", host.strip("[]")))
    return found


def require_loopback(profile: TargetProfile) -> None:
    """Load goes to this machine only, unless a lab opts in (docs/load.md); and into a Mailpit."""
    require_catch_all_mailbox(profile)
    if os.environ.get(ALLOW_REMOTE_ENV) == "1":
        return
    for where, host in _hosts(profile):
        try:
            addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
        except OSError as exc:
            raise UsageError("Cannot resolve a load target", f"{where} = {host}: {exc}") from None
        remote = [str(a) for a in addresses if not ipaddress.ip_address(str(a).split("%")[0]).is_loopback]
        if remote:
            raise UsageError(
                "smlite load sends to loopback only",
                f"{where} = {host} resolves to {', '.join(sorted(remote))}; use a target on 127.0.0.0/8 or ::1",
            )


def require_catch_all_mailbox(profile: TargetProfile) -> None:
    """The load's population is made up (seeded faker addresses at the profile's domains) and every
    delivery is counted in one place: that needs a Mailpit that takes mail for any address. Test
    mailboxes read over IMAP exist for a few addresses only, so a profile observing through IMAP is
    refused with one line (exit 2) rather than reported as lost mail."""
    if kind_of(profile) == "imap":
        raise UsageError(
            "smlite load needs a Mailpit, not IMAP mailboxes",
            'the profile reads delivered mail over IMAP ([mailbox] kind = "imap"); the load sends to '
            "made-up addresses and counts every delivery in Mailpit: give it a profile with [mailpit] api "
            "(e.g. `smlite sandbox up --mailpit-only`, docs/load.md)",
        )
    if not profile.mailpit.get("api"):
        raise UsageError("Bad target profile", "[mailpit] needs 'api': the load counts deliveries in Mailpit")


def child_command(args: argparse.Namespace, profile_path: Path, seed: int) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "harness.load.run",
        "--profile",
        str(profile_path),
        "--seed",
        str(seed),
        "--users",
        str(args.users),
        "--rate",
        str(args.rate),
        "--duration",
        str(args.duration),
        "--sample-every",
        str(args.sample_every),
        "--max-samples",
        str(args.max_samples),
        "--drain-timeout",
        str(args.drain_timeout),
        "--apps",
        args.apps,
    ]
    return command + (["--json", str(args.json)] if args.json else [])


def main(args: argparse.Namespace) -> int:
    check_arguments(args)
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(3), "big")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    if args.target:
        profile = load(args.target)
        require_loopback(profile)
        return subprocess.run(child_command(args, Path(args.target), seed), env=env).returncode
    from harness.sandbox.lifecycle import Sandbox

    print("smlite load: starting the embedded sandbox (Mailpit + reference gateway) …", file=sys.stderr, flush=True)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="smlite-load-") as scratch, Sandbox() as sandbox:
        print(f"smlite load: sandbox ready in {time.perf_counter() - started:.2f}s", file=sys.stderr, flush=True)
        profile = from_sandbox(sandbox.info())
        require_loopback(profile)
        path = profile.save_json(Path(scratch) / "profile.json")
        return subprocess.run(child_command(args, path, seed), env=env).returncode


def _standalone() -> int:
    """``python -m harness.load.command`` (``make load``), with the CLI's error handling."""
    from harness.errors import HarnessError

    parser = argparse.ArgumentParser(prog="python -m harness.load.command", description=__doc__.splitlines()[0])
    add_arguments(parser)
    try:
        return main(parser.parse_args())
    except HarnessError as exc:  # UsageError included
        print(f"smlite load: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(_standalone())
