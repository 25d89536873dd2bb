"""`smlite simulate`: push one secure message through a target and say what each recipient got.

Per recipient it prints the Mail Box / MPP / SM Portal outcome as observed,
the source's expectation for that case (harness.source_model.source, the oracle), whether
they match, and the source row. It reaches the target through ``connect(profile)`` and judges
with ``harness.conformance.judge`` and the one policy (harness/policy.py), exactly as the suite
does: a contract difference is listed beside "matches the source" and never makes it differ.
"""

from __future__ import annotations

import json
import secrets
import sys
from dataclasses import dataclass
from typing import Any

from harness import policy
from harness.conformance.judge import judge, observe_recipient
from harness.connection.connect import connect
from harness.connection.opening import open_target
from harness.drivers.base import Driver, Outgoing
from harness.errors import HarnessError, UsageError
from harness.observation.observer import Observer
from harness.profile.schema import TargetProfile
from harness.source_model import source


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


def _portal_reply(driver: Driver, observer: Observer, request: SimulateRequest, marker: str) -> Any:
    """The SM Portal only replies: the recipient first sends the sender a message, then the sender replies."""
    if len(request.to) + len(request.cc) != 1:
        raise UsageError("A Secure Messaging Portal reply has one recipient", "give exactly one --to")
    counterpart = request.to[0]
    via = "mpp" if _internal(driver.profile, counterpart) and "mpp" in driver.capabilities else "outlook"
    first = driver.send(
        via, request.definition, Outgoing(counterpart, [request.sender], f"{request.subject} (original)", "original")
    )
    if not first.ok:
        raise HarnessError("The target refused the message to reply to", f"{first.status} {first.text}")
    seen: set[str] = set()
    mail = observer.mailbox(request.sender, seen, None)
    links = (
        mail.links or observer.mpp(request.sender, _internal(driver.profile, request.sender), set(), None, False).links
    )
    if not links:
        raise HarnessError("No portal link to reply from", mail.detail)
    return driver.portal_reply(links[0], f"{request.text}\n{marker}")


def simulate(profile: TargetProfile, request: SimulateRequest) -> dict[str, Any]:
    app = source.application(request.application)
    definition = source.definition(request.definition)
    if not _internal(profile, request.sender) and app.slug != "portal":
        raise UsageError(
            "Only internal users send from this application",
            f"{request.sender} is external; internal domains: {', '.join(profile.internal_domains)}",
        )
    marker = f"smlite-{secrets.token_hex(6)}"
    request.subject = request.subject or f"smlite simulate [{marker[-6:]}]"
    request.text = request.text or "A secure message sent by smlite simulate."
    with connect(profile) as connection:
        driver, observer = connection.driver, connection.observer()
        if app.slug == "portal":
            answer = _portal_reply(driver, observer, request, marker)
        else:
            answer = driver.send(
                app.slug,
                definition,
                Outgoing(request.sender, request.to, request.subject, f"{request.text}\n{marker}", cc=request.cc),
            )
        report: dict[str, Any] = {
            "application": app.name,
            "definition": definition,
            "sender": request.sender,
            "accepted": answer.ok,
            "answer": f"{answer.status} {answer.text[:300]}",
            "recipients": [],
        }
        if answer.ok:
            for address in request.to + request.cc:
                report["recipients"].append(
                    _observe(observer, profile, app.slug, definition, request.sender, address, request.subject, marker)
                )
    verdict = policy.message_verdict(
        [(c["status"], c["level"]) for r in report["recipients"] for c in r["columns"]], accepted=report["accepted"]
    )
    report["verdict"] = verdict.text
    report["exit_code"] = verdict.exit_code
    report["contract_differences"] = [
        f"{r['address']} {c['column']}: {c['detail']}"
        for r in report["recipients"]
        for c in r["columns"]
        if policy.is_contract_difference(c["status"], c["level"])
    ]
    return report


def _observe(
    observer: Observer,
    profile: TargetProfile,
    app: str,
    definition: str,
    sender: str,
    address: str,
    subject: str,
    marker: str,
) -> dict[str, Any]:
    internal = _internal(profile, address)
    ref, cells = source.expected_cells(app, definition, _internal(profile, sender), internal)
    observed = observe_recipient(observer, address, internal, cells, marker=marker, subject=subject)
    columns = [
        {
            "column": j.column,
            "observed": j.observed if j.observed is not None else "not observable",
            "expected": j.expected,
            "standing": j.standing,
            "status": j.status,
            "level": j.level,
            "verdict": policy.judgement_words(j.status, j.level),
            "detail": j.detail,
        }
        for j in judge(cells, observed)
    ]
    verdict = policy.message_verdict([(str(c["status"]), c["level"]) for c in columns])
    return {
        "address": address,
        "internal": internal,
        "source_row": ref,
        "columns": columns,
        "matches": verdict.conformant,
        "verdict": verdict.text,
    }


def render_text(report: dict[str, Any]) -> str:
    lines = [f"{report['application']} · definition {report['definition']} · from {report['sender']}"]
    if not report["accepted"]:
        lines.append(f"refused by the target: {report['answer']}")
        return "\n".join(lines)
    for recipient in report["recipients"]:
        kind = "internal" if recipient["internal"] else "external"
        row = recipient["source_row"] or "no source row (not specified)"
        lines.append(f"\n{recipient['address']} ({kind}) — {recipient['verdict']}, {row}")
        for column in recipient["columns"]:
            if policy.is_contract_difference(column["status"], column["level"]):
                continue  # listed under the verdict, with the others
            expected = column["expected"] or "not specified"
            if column["standing"] == source.DERIVED:
                expected += " (derived)"
            lines.append(
                f"  {column['column']:<22} {column['observed']:<34} expected: {expected:<24} {column['verdict']}"
            )
    differences = report.get("contract_differences") or []
    lines.append(
        f"\n{report['verdict']}; {policy.contract_line(len(differences))}"
        + (f" ({policy.CONTRACT_NOTE})" if differences else "")
    )
    lines += [f"  contract: {difference}" for difference in differences]
    return "\n".join(lines)


def main(args: Any) -> int:
    request = SimulateRequest(
        args.app, args.definition, getattr(args, "from"), args.to, args.cc or [], args.subject or "", args.text or ""
    )
    try:
        source.application(request.application)
        source.definition(request.definition)
    except KeyError as exc:
        raise UsageError("Bad argument", str(exc.args[0])) from None
    with open_target(args.target, embedded=args.ephemeral) as profile:
        report = simulate(profile, request)
    print(json.dumps(report, indent=2, default=str) if args.json else render_text(report), file=sys.stdout)
    return int(report["exit_code"])
