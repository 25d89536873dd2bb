"""`smlite simulate`: push one secure message through a target and say what each recipient got.

Per recipient it prints the Mail Box / MPP / SM Portal outcome as observed,
the source's expectation for that case (harness.source, the oracle), whether
they match, and the source row. It drives the target only through a driver,
exactly as the suite does.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import sys
from dataclasses import dataclass
from typing import Any, Iterator

from harness import source
from harness.drivers import load_driver
from harness.drivers.base import Driver, Outgoing
from harness.errors import HarnessError, UsageError
from harness.mailboxes import open_mailbox
from harness.observe import Observer
from harness.profile import TargetProfile, from_sandbox, load


@dataclass
class SimulateRequest:
    application: str
    definition: str
    sender: str
    to: list[str]
    cc: list[str]
    subject: str = ""
    text: str = ""


def _internal(profile: TargetProfile, address: str) -> bool:
    return address.rpartition("@")[2].lower() in profile.internal_domains


@contextlib.contextmanager
def simulation_target(ephemeral: bool, profile_path: str | None) -> Iterator[TargetProfile]:
    if profile_path:
        yield load(profile_path)
        return
    from harness.sandbox import Sandbox, read_state

    if ephemeral:
        with Sandbox() as sandbox:
            yield from_sandbox(sandbox.info())
        return
    state = read_state()
    if not state:
        raise UsageError("No sandbox is running",
                         "start one with `smlite sandbox up` in another terminal, or pass --ephemeral")
    yield from_sandbox(state)


def _portal_reply(driver: Driver, observer: Observer, request: SimulateRequest, marker: str) -> Any:
    """The SM Portal only replies: the recipient first sends the sender a message, then the sender replies."""
    if len(request.to) + len(request.cc) != 1:
        raise UsageError("A Secure Messaging Portal reply has one recipient", "give exactly one --to")
    counterpart = request.to[0]
    via = "mpp" if _internal(driver.profile, counterpart) and "mpp" in driver.capabilities else "outlook"
    first = driver.send(via, request.definition, Outgoing(counterpart, [request.sender],
                                                          f"{request.subject} (original)", "original"))
    if not first.ok:
        raise HarnessError("The target refused the message to reply to", f"{first.status} {first.text}")
    seen: set[str] = set()
    mail = observer.mailbox(request.sender, seen, None)
    links = mail.links or observer.mpp(request.sender, _internal(driver.profile, request.sender), set(),
                                       None, False).links
    if not links:
        raise HarnessError("No portal link to reply from", mail.detail)
    return driver.portal_reply(links[0], f"{request.text}\n{marker}")


def simulate(profile: TargetProfile, request: SimulateRequest) -> dict[str, Any]:
    app = source.application(request.application)
    definition = source.definition(request.definition)
    if not _internal(profile, request.sender) and app.slug != "portal":
        raise UsageError("Only internal users send from this application",
                         f"{request.sender} is external; internal domains: {', '.join(profile.internal_domains)}")
    driver = load_driver(profile)
    observer = Observer(driver, open_mailbox(profile), profile.classification,
                        profile.delivery_timeout_s)
    marker = f"smlite-{secrets.token_hex(6)}"
    request.subject = request.subject or f"smlite simulate [{marker[-6:]}]"
    request.text = request.text or "A secure message sent by smlite simulate."
    try:
        if app.slug == "portal":
            answer = _portal_reply(driver, observer, request, marker)
        else:
            answer = driver.send(app.slug, definition, Outgoing(request.sender, request.to, request.subject,
                                                                f"{request.text}\n{marker}", cc=request.cc))
        report: dict[str, Any] = {"application": app.name, "definition": definition, "sender": request.sender,
                                  "accepted": answer.ok, "answer": f"{answer.status} {answer.text[:300]}",
                                  "recipients": []}
        if not answer.ok:
            return report
        for address in request.to + request.cc:
            report["recipients"].append(_observe(driver, observer, profile, app.slug, definition,
                                                 request.sender, address, request.subject, marker))
        return report
    finally:
        driver.close()


def _observe(driver: Driver, observer: Observer, profile: TargetProfile, app: str, definition: str,
             sender: str, address: str, subject: str, marker: str) -> dict[str, Any]:
    internal = _internal(profile, address)
    ref, cells = source.expected_cells(app, definition, _internal(profile, sender), internal)
    seen_mail: set[str] = set()
    mailbox = observer.mailbox(address, seen_mail, marker)
    mpp = observer.mpp(address, internal, set(), marker, required=cells["MPP"].required) \
        if "mpp" in driver.capabilities or not internal else None
    links = mailbox.links + (mpp.links if mpp else [])
    portal = observer.sm_portal(address, links, subject, marker) if "sm-portal" in driver.capabilities else None
    columns = []
    for column, observation in zip(source.COLUMNS, (mailbox, mpp, portal)):
        cell = cells[column]
        observed = observation.value if observation else "not observable (capability missing)"
        verdict = "observed" if not cell.required else ("matches" if observed == cell.value else "DIFFERS")
        columns.append({"column": column, "observed": observed, "expected": cell.value,
                        "standing": cell.standing, "verdict": verdict,
                        "detail": observation.detail if observation else ""})
    return {"address": address, "internal": internal, "source_row": ref, "columns": columns,
            "matches": all(c["verdict"] != "DIFFERS" for c in columns)}


def render_text(report: dict[str, Any]) -> str:
    lines = [f"{report['application']} · definition {report['definition']} · from {report['sender']}"]
    if not report["accepted"]:
        lines.append(f"refused by the target: {report['answer']}")
        return "\n".join(lines)
    for recipient in report["recipients"]:
        kind = "internal" if recipient["internal"] else "external"
        row = recipient["source_row"] or "no source row (not specified)"
        verdict = "matches the source" if recipient["matches"] else "DIFFERS from the source"
        lines.append(f"\n{recipient['address']} ({kind}) — {verdict}, {row}")
        for column in recipient["columns"]:
            expected = column["expected"] or "not specified"
            if column["standing"] == source.DERIVED:
                expected += " (derived)"
            lines.append(f"  {column['column']:<22} {column['observed']:<34} expected: {expected:<24} "
                         f"{column['verdict']}")
    return "\n".join(lines)


def main(args: Any) -> int:
    request = SimulateRequest(args.app, args.definition, getattr(args, "from"), args.to, args.cc or [],
                              args.subject or "", args.text or "")
    try:
        source.application(request.application)
        source.definition(request.definition)
    except KeyError as exc:
        raise UsageError("Bad argument", str(exc.args[0])) from None
    with simulation_target(args.ephemeral, args.target) as profile:
        report = simulate(profile, request)
    print(json.dumps(report, indent=2, default=str) if args.json else render_text(report), file=sys.stdout)
    if not report["accepted"]:
        return 1
    return 0 if all(r["matches"] for r in report["recipients"]) else 1
