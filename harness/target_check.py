"""`smlite target check PROFILE`: validate a profile, then probe its target, one line per item.

Probes: the driver loads; the target answers its health check; the
Administration Console lists definitions; Mailpit answers; a test message sent
through the target reaches the sandbox's Mailpit. Exit 0 all good, 1 the target
answered but something is wrong, 2 the profile is bad or nothing answers.
"""

from __future__ import annotations

import secrets
from typing import Any, Callable

from harness.drivers import load_driver
from harness.drivers.base import Outgoing
from harness.errors import SmliteError
from harness.mailbox import MailpitClient
from harness.profile import load

OK, WRONG, UNREACHABLE = "ok", "wrong", "unreachable"


def probe(name: str, check: Callable[[], str], lines: list[tuple[str, str, str]]) -> str:
    try:
        detail = check()
        lines.append((OK, name, detail))
        return OK
    except SmliteError as exc:
        state = UNREACHABLE if "unreachable" in exc.title.lower() else WRONG
        lines.append((state, name, str(exc).replace("\n", " ")))
    except (OSError, ValueError, KeyError) as exc:
        lines.append((UNREACHABLE, name, f"{type(exc).__name__}: {exc}"))
    return lines[-1][0]


def check_profile(path: str) -> tuple[int, list[tuple[str, str, str]]]:
    profile = load(path)  # UsageError → exit 2 via the CLI
    lines: list[tuple[str, str, str]] = [(OK, "profile", f"{profile.name} {profile.version}, driver "
                                         f"{profile.driver}, capabilities {', '.join(profile.capabilities)}")]
    driver = load_driver(profile)
    mailpit = MailpitClient(profile.mailpit.get("api", "")) if profile.mailpit.get("api") else None

    def health() -> str:
        described = driver.describe()
        return f"{described.get('name')} {described.get('version')}"

    def definitions() -> str:
        answer = driver.list_definitions()
        if answer.status != 200:
            raise SmliteError("definitions not listed", f"status {answer.status}", answer.text[:200])
        names = [d.get("name") for d in answer.body.get("definitions", [])]
        if sorted(names) != ["All", "External"]:
            raise SmliteError("wrong definitions", "expected exactly All, External", names)
        return ", ".join(names)

    def mailpit_up() -> str:
        if mailpit is None:
            raise SmliteError("no [mailpit] api in the profile")
        return f"{mailpit.count()} message(s) held"

    def relay() -> str:
        address = f"smlite-check-{secrets.token_hex(4)}@{profile.external_domains[0]}"
        sender = f"smlite-check@{profile.internal_domains[0]}"
        answer = driver.send("outlook", None, Outgoing(sender, [address], "smlite target check", "probe"))
        if not answer.ok:
            raise SmliteError("test message refused", f"{answer.status} {answer.text[:200]}")
        found = mailpit.wait_for_messages(address, count=1, deadline_s=profile.delivery_timeout_s)
        return f"delivered to Mailpit as {found[0].id}"

    reachable = probe("target health", health, lines) == OK
    if "admin-console" in driver.capabilities:
        probe("definitions listed", definitions, lines)
    mailpit_ok = probe("sandbox Mailpit", mailpit_up, lines) == OK
    if reachable and mailpit_ok and "smtp-submission" in driver.capabilities:
        probe("test message relayed to the sandbox", relay, lines)
    driver.close()
    states = {state for state, _, _ in lines}
    return (2 if UNREACHABLE in states else 1 if WRONG in states else 0), lines


def main(args: Any) -> int:
    code, lines = check_profile(args.profile)
    for state, name, detail in lines:
        print(f"{'✓' if state == OK else '✗'} {name:<38} {state:<12} {detail}")
    return code
