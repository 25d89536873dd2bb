"""Owns: turning what one step of a conversation caused into checks of the source's promises.

Each recipient's three columns are observed and judged exactly as the suite does
(``observe_recipient`` and ``judge`` of harness/conformance/judge.py); the level of every judgement is
the one ``judge`` and harness/policy.py give — nothing here decides a level. This module only says
*which promise* (harness/source_model/promises.py) a judgement is about: a recipient whose domain is a
variant of an internal one speaks for the promise about that variant, a mixed message's internal
recipient for the contract's per-recipient reading, a definition named in another case for the
contract's case-insensitive names, a copy that lacks part of the original for the meaning of its
kind, and otherwise the table cell. Checks without a table cell (an attribute in the SM Portal, a
refusal) take the level of their promise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness import policy
from harness.conformance.judge import Basis, Judgement, judge, observe_recipient
from harness.exploration.model import CASE_VARIANT, LOOK_ALIKE, SUB_DOMAIN, Person, Sent, content_tokens
from harness.observation.observer import Observer
from harness.source_model import promises as P
from harness.source_model import source
from harness.source_model.vocabulary import Cell


@dataclass(frozen=True)
class Check:
    promise: str
    level: str  # as judged (harness/policy.py): source | derived | contract
    status: str  # passed | failed
    who: str = ""
    detail: str = ""

    @property
    def broken(self) -> bool:
        return self.status == policy.FAILED

    @property
    def counts_against_source(self) -> bool:
        return policy.counts_against_source(self.status, self.level)


def on_promise(key: str, holds: bool, who: str = "", detail: str = "") -> Check:
    """A check with no table cell behind it, at its promise's level."""
    level = P.promise(key).level
    return Check(key, level, policy.cell_status(required=True, matches=holds), who, detail)


def _basis(sent: Sent, person: Person) -> Basis:
    if sent.definition != sent.canonical or person.plan.form == SUB_DOMAIN:
        return Basis.CONTRACT  # a definition named in another case; a sub-domain (external by exact match)
    if sent.mixed and person.internal:
        return Basis.CONTRACT_READING
    return Basis.SOURCE


def _cells(cells: dict[str, Cell], person: Person) -> dict[str, Cell]:
    """A recipient whose domain only *resembles* the declared spelling: what the row says for them follows
    from the source's words and the case-insensitivity of domains (as features/internal_domains.feature)."""
    if person.plan.form not in (CASE_VARIANT, LOOK_ALIKE):
        return cells
    return {c: Cell(cell.value, source.DERIVED, cell.note) if cell.required else cell for c, cell in cells.items()}


# The meanings a passing column also showed held: its copy's derived checks ran on it.
_MEANINGS = {
    source.NOTIFICATION: ("notification-is-not-the-message", "notification-leads-to-the-portal"),
    source.BANNER: ("banner-at-the-top", "banner-keeps-the-message"),
    source.YES: ("portal-holds-the-whole-message",),
}


def _promise_of(judged: Judgement, ref: str | None, sent: Sent, person: Person, basis: Basis) -> str:
    if judged.expected == "the contract's recognition signals":
        return "recognition-signals"
    if basis is Basis.CONTRACT:
        return "sub-domain-is-external" if person.plan.form == SUB_DOMAIN else "definition-named-in-any-case"
    if basis is Basis.CONTRACT_READING and judged.level == policy.CONTRACT:
        return "mixed-recipients-each-by-their-table"
    if person.plan.form == CASE_VARIANT:
        return "internal-domain-in-any-case"
    if person.plan.form == LOOK_ALIKE:
        return "look-alike-is-external"
    whole_copy = judged.expected == "no derived check failing" or judged.observed == judged.expected
    if judged.status == policy.FAILED and whole_copy and judged.level == policy.DERIVED:
        if judged.column == "Message in SM Portal":
            return "portal-holds-the-whole-message"
        if judged.expected == source.NOTIFICATION:
            return "notification-is-not-the-message"
        return "banner-keeps-the-message"
    return P.cell_key(ref or "", judged.column)


def recipient_checks(
    observer: Observer, sent: Sent, person: Person, application: str, sender_internal: bool
) -> tuple[list[Check], list[str]]:
    """What ``person`` got of ``sent`` (sent from ``application``), as checks; and the SM Portal links they
    were given."""
    ref, cells = source.expected_cells(application, sent.canonical, sender_internal, person.internal)
    cells = _cells(cells, person)
    basis = _basis(sent, person)
    observed = observe_recipient(
        observer,
        person.address,
        person.internal,
        cells,
        marker=sent.marker,
        subject=sent.subject,
        seen_mail=person.seen_mail,
        seen_mpp=person.seen_mpp,
    )
    portal = observed.get("Message in SM Portal")
    links = list(portal.links) if portal is not None and portal.value == source.YES else []
    checks = []
    for judged in judge(cells, observed, basis):
        if judged.status not in (policy.PASSED, policy.FAILED) or not judged.level:
            continue  # observed where the source is silent, or not observable: no promise to keep
        key = _promise_of(judged, ref, sent, person, basis)
        detail = f"{judged.column}: expected {judged.expected!r}, got {judged.observed!r} — {judged.detail}"
        checks.append(Check(key, judged.level, judged.status, person.name, detail[:600]))
        if judged.status == policy.PASSED:  # the copy's own checks (whole message, no leak) ran and held
            column_value = source.YES if judged.column == "Message in SM Portal" else judged.observed
            checks += [on_promise(m, True, person.name) for m in _MEANINGS.get(str(column_value), ())]
    return checks, links


def expect_content(observer: Observer, sent: Sent) -> None:
    """Every full copy of ``sent`` must keep the text only one of its parts carries (derived)."""
    if sent.content is not None:
        observer.expect_content(sent.marker, content_tokens(sent.content, sent.marker))


def portal_checks(opened: Any, printed: Any, person: Person) -> list[Check]:
    """What an external recipient is allowed in the SM Portal: the five attributes, from ``portal_open``'s
    answer and the answer to printing."""
    checks = []
    if not getattr(opened, "ok", False):
        detail = f"opening the message answered {opened.status} {opened.text[:200]}"
        return [on_promise("never-expires", False, person.name, detail)]
    body = opened.body if isinstance(opened.body, dict) else {}
    allowed = body.get("permissions") or {}
    checks.append(on_promise("print-refused", allowed.get("print") is False, person.name, f"permissions {allowed}"))
    checks.append(
        on_promise(
            "print-refused",
            400 <= printed.status < 500,
            person.name,
            f"printing answered {printed.status} {printed.text[:200]}",
        )
    )
    checks.append(on_promise("reply-offered", allowed.get("reply") is True, person.name, f"permissions {allowed}"))
    checks.append(
        on_promise("reply-all-offered", allowed.get("reply_all") is True, person.name, f"permissions {allowed}")
    )
    expires = body.get("expires_at")
    checks.append(on_promise("never-expires", expires is None, person.name, f"expires_at {expires!r}"))
    return checks


def definitions_checks(listed: Any, refused: Any, after: Any) -> list[Check]:
    """The Administration Console: exactly the two definitions, their attributes, and no change."""
    definitions = (listed.body or {}).get("definitions", []) if getattr(listed, "ok", False) else []
    names = sorted(str(d.get("name")) for d in definitions)
    checks = [on_promise("exactly-two-definitions", names == sorted(source.DEFINITIONS), detail=f"listed {names}")]
    wanted = sorted(source.ATTRIBUTES)
    for item in definitions:
        got = sorted((str(a.get("name")), str(a.get("value"))) for a in item.get("attributes", []))
        checks.append(
            on_promise("definitions-carry-the-attributes", got == wanted, detail=f"{item.get('name')}: {got}")
        )
    unchanged = getattr(after, "body", None) == getattr(listed, "body", None)
    holds = 400 <= refused.status < 500 and unchanged
    detail = f"changing a definition answered {refused.status} {refused.text[:160]}; unchanged: {unchanged}"
    checks.append(on_promise("definitions-cannot-be-changed", holds, detail=detail))
    return checks
