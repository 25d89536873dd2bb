"""`smlite target check PROFILE`: validate a profile, then probe its target, one line per item.

Items, in order: the profile validates; its driver loads; the target answers
its health check (reachable); the Administration Console lists exactly All
and External; the MPP answers; the sandbox Mailpit answers; for a driver
with TLS settings (the reference driver), what TLS the HTTPS and SMTP
endpoints show: version, certificate subject and expiry, the AUTH mechanisms
offered and the login (harness/connection/tls_probe.py); a plain test
message submitted to the target reaches the sandbox's Mailpit. Probes are
independent where they can be, so a profile pointing at nothing gets one
line per failed probe. Exit 0 all good; 1 the target answered but something
is wrong; 2 the profile is bad or something does not answer.

A profile that turns a certificate check off (harness/profile/trust.py) gets a warning line ``!``
right after the profile's, never a ✓; it does not change the exit code (a lab may mean it). Every
line is masked with the profile's ``Masker`` (harness/results/masking.py) before it is printed:
the Mailpit URL's userinfo, the admin token and passwords never reach the terminal.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import warnings
from collections.abc import Callable
from typing import Any

from harness.connection.connect import Connection, connect
from harness.drivers.base import Outgoing
from harness.errors import SmliteError, UsageError
from harness.mailbox.types import WaitTimeout
from harness.profile.mailbox_table import describe as describe_mailbox
from harness.profile.mailbox_table import kind_of
from harness.profile.schema import TargetProfile, load
from harness.profile.trust import unchecked_tls
from harness.results.masking import Masker

OK, WRONG, UNREACHABLE, INVALID, SKIPPED = "ok", "wrong", "unreachable", "invalid", "skipped"
WARNING = "warning"
Line = tuple[str, str, str]  # state, item, detail

_CAUSES = (  # the root cause a requests/socket error chain buries, in words
    (re.compile(r"Connection refused|Errno 111"), "connection refused"),
    (re.compile(r"timed out|Timeout", re.I), "timed out"),
    (
        re.compile(r"Name or service not known|nodename nor servname|getaddrinfo failed|Errno -[23]"),
        "host name not found",
    ),
    (re.compile(r"No route to host|Network is unreachable"), "no route to host"),
    (re.compile(r"Connection reset|RemoteDisconnected|Connection aborted"), "connection reset"),
)


def short(exc: BaseException) -> str:
    """One line: what was tried, and the root cause in words."""
    if isinstance(exc, SmliteError):
        text, observed = exc.title + (f": {exc.message}" if exc.message else ""), str(exc.observed or "")
    else:
        text, observed = type(exc).__name__, str(exc)
    cause = next((words for pattern, words in _CAUSES if pattern.search(observed)), None)
    if cause is None and observed:
        cause = observed.replace("\n", " ")[:160]
    return f"{text} — {cause}" if cause else text


def probe(item: str, check: Callable[[], str], lines: list[Line]) -> str:
    try:
        lines.append((OK, item, check()))
    except (WaitTimeout, UsageError) as exc:
        lines.append((WRONG, item, short(exc)))
    except SmliteError as exc:
        unreachable = any(w in exc.title.lower() for w in ("unreachable", "no answer", "cannot connect"))
        lines.append((UNREACHABLE if unreachable else WRONG, item, short(exc)))
    except OSError as exc:  # a driver on plain sockets/urllib: connection refused, timeout...
        lines.append((UNREACHABLE, item, short(exc)))
    except (ValueError, KeyError, TypeError, AttributeError, NotImplementedError) as exc:
        lines.append((WRONG, item, f"{type(exc).__name__}: {exc}"))
    return lines[-1][0]


def check_profile(path: str) -> tuple[int, list[Line]]:
    """The exit code and the lines, every detail masked (no secret of the profile reaches the terminal)."""
    try:
        profile = load(path)
    except UsageError as exc:
        return 2, _masked([(INVALID, "profile", str(exc).replace("\n", " "))], Masker())
    code, lines = _check_loaded(profile)
    return code, _masked(lines, Masker.from_profile(profile))


def _masked(lines: list[Line], masker: Masker) -> list[Line]:
    return [(state, item, masker.text(detail)) for state, item, detail in lines]


def _check_loaded(profile: TargetProfile) -> tuple[int, list[Line]]:
    lines: list[Line] = [
        (
            OK,
            "profile",
            f"{profile.name} {profile.version}".strip() + f"; internal domains {', '.join(profile.internal_domains)}",
        )
    ]
    lines += [(WARNING, "certificate checks", notice) for notice in unchecked_tls(profile.to_dict())]
    with contextlib.ExitStack() as stack:
        try:
            connection = stack.enter_context(connect(profile, progress=None))
        except UsageError as exc:
            return 2, [*lines, (INVALID, "driver", str(exc).replace("\n", " "))]
        return _probe_target(connection, lines)


def _probe_target(connection: Connection, lines: list[Line]) -> tuple[int, list[Line]]:
    profile, driver, mailpit = connection.profile, connection.driver, connection.mailbox
    lines.append((OK, "driver", f"{profile.driver}; capabilities {', '.join(sorted(driver.capabilities))}"))
    imap = kind_of(profile) == "imap"
    internal, external = profile.internal_domains[0], profile.external_domains[0]

    def reachable() -> str:
        described = driver.describe()
        return f"answers as {described.get('name')} {described.get('version')}".strip()

    def definitions() -> str:
        answer = driver.list_definitions()
        if answer.status != 200 or not isinstance(answer.body, dict):
            raise SmliteError("definitions not listed", f"status {answer.status}", answer.text[:200])
        names = [d.get("name") for d in answer.body.get("definitions", [])]
        if sorted(map(str, names)) != ["All", "External"]:
            raise SmliteError("wrong definitions", f"expected exactly All, External, got {names}")
        return "All, External"

    def mpp() -> str:
        items = driver.mpp_view(f"smlite-check-{secrets.token_hex(3)}@{internal}")
        return f"MPP view of a new internal user answers ({len(items)} item(s))"

    def mailpit_up() -> str:
        if imap:
            probe_address = f"smlite-check@{internal}"
            held = len(mailpit.messages_to(probe_address))
            return f"{describe_mailbox(profile)} answers (mailbox of {probe_address}: {held} message(s))"
        return f"{profile.mailpit['api']} answers ({mailpit.count()} message(s) held)"  # type: ignore[attr-defined]

    def relay() -> str:
        address = f"smlite-check-{secrets.token_hex(4)}@{external}"
        answer = driver.send(
            "outlook", None, Outgoing(f"smlite-check@{internal}", [address], "smlite target check", "probe")
        )
        if not answer.ok:
            raise SmliteError("test message refused", f"{answer.status} {answer.text[:200]}")
        if mailpit_state != OK:
            raise SmliteError(
                "test message accepted but not followed",
                "the sandbox Mailpit does not answer, so its arrival cannot be checked",
            )
        try:
            found = mailpit.wait_for_messages(address, count=1, deadline_s=profile.delivery_timeout_s)
        except WaitTimeout:
            where = describe_mailbox(profile) if imap else profile.mailpit.get("smtp", "the sandbox Mailpit's SMTP")
            raise SmliteError(
                "test message never reached the sandbox Mailpit",
                f"not there within {profile.delivery_timeout_s:.0f}s: does the target relay "
                f"the mail it delivers to {where}?",
            ) from None
        return f"a plain message to {address} arrived in {'its mailbox' if imap else 'Mailpit'} as {found[0].id}"

    def https() -> str:
        import ssl

        from harness.connection import tls_probe

        try:
            reference: Any = driver  # a driver with TLS settings (the reference driver): checked by the caller
            return tls_probe.describe_https(reference.base_url, reference._ssl_context(), reference.timeout)
        except ssl.SSLError as exc:  # it answered, but its certificate or TLS is not acceptable
            raise SmliteError("TLS handshake failed (ca_bundle? tls_verify?)", reference.base_url, str(exc)) from None

    def smtp_security() -> str:
        from harness.connection import tls_probe

        return tls_probe.describe_smtp(driver)

    capabilities = driver.capabilities
    probe("target reachable", reachable, lines)
    if hasattr(driver, "_ssl_context") and str(getattr(driver, "base_url", "")).startswith("https://"):
        probe("HTTPS", https, lines)
    secured = getattr(driver, "smtp_tls", "none") != "none" or getattr(driver, "smtp_username", "")
    if "smtp-submission" in capabilities and hasattr(driver, "smtp_connect") and secured:
        probe("SMTP submission TLS and AUTH", smtp_security, lines)
    if "admin-console" in capabilities:
        probe("definitions listed", definitions, lines)
    if "mpp" in capabilities:
        probe("MPP answers", mpp, lines)
    mailpit_state = probe("IMAP mailboxes" if imap else "sandbox Mailpit", mailpit_up, lines)
    if "smtp-submission" in capabilities:
        probe("test message relayed to the sandbox", relay, lines)
    else:
        lines.append((SKIPPED, "test message relayed to the sandbox", "the profile does not declare smtp-submission"))
    states = {state for state, _, _ in lines}
    return (2 if states & {UNREACHABLE, INVALID} else 1 if WRONG in states else 0), lines


def format_line(state: str, item: str, detail: str) -> str:
    mark = {OK: "✓", SKIPPED: "-", WARNING: "!"}.get(state, "✗")
    return f"{mark} {item:<38} {state:<12} {detail}"


def main(args: Any) -> int:
    with warnings.catch_warnings():  # urllib3 would repeat, per request, the one warning line printed here
        warnings.filterwarnings("ignore", message="Unverified HTTPS request")
        code, lines = check_profile(args.profile)
    for line in lines:
        print(format_line(*line))
    verdict = {
        0: "target check passed",
        1: "target check: the target answered, but see ✗ above",
        2: "target check failed: fix the items marked ✗",
    }[code]
    noted = sum(1 for state, _, _ in lines if state == WARNING)
    if noted:
        verdict += f" — with {noted} warning{'' if noted == 1 else 's'} (marked !)"
    print(verdict)
    return code
