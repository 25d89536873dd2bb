"""Steps in the Secure Messaging Portal: open, print, permissions, expiry, the clock."""

from __future__ import annotations

from pytest_bdd import given, parsers, then, when

from harness.errors import ConformanceFailure, HarnessError
from harness.observation.page import expiry_announced, offers
from steps.world import Person, World


def _open(world: World, person: Person) -> dict:
    link = person.portal_links[0] if person.portal_links else world.portal_link_for(person)
    answer = world.driver.portal_open(link)
    person.opened = answer
    if answer.status != 200 or not isinstance(answer.body, dict):
        raise ConformanceFailure(
            f"{person.role} cannot read the message in the SM Portal",
            "expected 200 with the message",
            f"{answer.status} {answer.text[:300]}",
        )
    return answer.body


def _opened(person: Person) -> dict:
    if person.opened is None or not isinstance(person.opened.body, dict):
        raise HarnessError(f"{person.role} has not opened a message in the SM Portal yet")
    return person.opened.body


def _permission(world: World, role: str, name: str, wanted: bool) -> None:
    permissions = _opened(world.person(role)).get("permissions", {})
    world.record.expect(f"permissions.{name} = {wanted}", f"permissions = {permissions}")
    if permissions.get(name) is not wanted:
        raise ConformanceFailure(
            f"The SM Portal's '{name}' permission is wrong",
            f"expected {name} = {wanted} (the definitions' attributes)",
            permissions,
        )
    if "sm-portal-page" in world.driver.capabilities:
        _on_the_page(world, world.person(role), name, wanted)


def _on_the_page(world: World, person: Person, name: str, wanted: bool) -> None:
    """The same attribute where a person meets it: the SM Portal's page offers the control, or not."""
    page = world.driver.portal_page(person.portal_links[0])
    if page.status != 200:
        raise ConformanceFailure(
            f"{person.role} cannot open the SM Portal's page of the message",
            "expected 200 with the page",
            f"{page.status} {page.text[:300]}",
        )
    word = {"print": "print", "reply": "reply", "reply_all": "all"}[name]
    found = (
        [c for c in offers(page.text, word) if name != "reply" or "all" not in c.lower()]
        if name != "reply_all"
        else [c for c in offers(page.text, "reply") if "all" in c.lower()]
    )
    world.record.add_evidence(
        "http",
        f"SM Portal page of {person.role}",
        {"status": page.status, "controls": found[:10], "html": page.text[:20000]},
    )
    world.record.expect(
        f"the page {'offers' if wanted else 'does not offer'} {name.replace('_', ' ')}", f"controls: {found[:5]}"
    )
    if bool(found) is not wanted:
        raise ConformanceFailure(
            f"The SM Portal's page {'lacks' if wanted else 'offers'} {name.replace('_', ' ')}",
            f"expected {name} = {wanted} on the page too (the definitions' attributes)",
            found[:5] or "no such control",
        )


@when(parsers.parse("{role} opens the message in the SM Portal"))
def opens_the_message(world: World, role: str) -> None:
    _open(world, world.person(role))


@then(parsers.parse("the SM Portal does not offer {role} printing"))
def printing_not_offered(world: World, role: str) -> None:
    _permission(world, role, "print", False)


@then(parsers.parse("{role}'s attempt to print the message is refused"))
def print_refused(world: World, role: str) -> None:
    person = world.person(role)
    answer = world.driver.portal_print(person.portal_links[0])
    world.record.expect("print refused (4xx)", f"{answer.status} {answer.text[:200]}")
    if not 400 <= answer.status < 500:
        raise ConformanceFailure(
            "Printing was not refused", "expected a 4xx refusal", f"{answer.status} {answer.text[:300]}"
        )


@then(parsers.parse("the SM Portal offered {role} to reply"))
def reply_offered(world: World, role: str) -> None:
    _permission(world, role, "reply", True)


@then(parsers.parse("the SM Portal offered {role} to reply to all"))
def reply_all_offered(world: World, role: str) -> None:
    _permission(world, role, "reply_all", True)


@given(parsers.parse("the target's clock has moved forward {years:d} years"))
@when(parsers.parse("the target's clock moves forward {years:d} years"))
def clock_moves_forward(world: World, years: int) -> None:
    answer = world.driver.advance_clock(days=365 * years + years // 4)
    if not answer.ok:
        raise HarnessError("The target's clock could not be moved", f"{answer.status} {answer.text[:300]}")


@when(parsers.parse("the target's clock moves forward {days:d} days"))
def clock_moves_forward_days(world: World, days: int) -> None:
    answer = world.driver.advance_clock(days=days)
    if not answer.ok:
        raise HarnessError("The target's clock could not be moved", f"{answer.status} {answer.text[:300]}")


@then(parsers.parse("{role} can still read the message in the SM Portal"))
def can_still_read(world: World, role: str) -> None:
    person = world.person(role)
    body = _open(world, person)
    marker = person.portal_marker or world.last_sent().marker  # the message the person's link leads to
    world.record.expect("the message opens with its text", f"{person.opened.status if person.opened else '-'}")
    if marker not in f"{body.get('text', '')}{body.get('html', '')}":
        raise ConformanceFailure(
            "The SM Portal shows another message", f"expected the text with {marker}", body.get("subject")
        )


@then(parsers.parse("the SM Portal shows {role} that the message never expires"))
def never_expires(world: World, role: str) -> None:
    person = world.person(role)
    body = _opened(person)
    world.record.expect("expires_at = null", f"expires_at = {body.get('expires_at')!r}")
    if body.get("expires_at") is not None:
        raise ConformanceFailure("The message has an expiry", "expected Never Expire", body.get("expires_at"))
    if "sm-portal-page" in world.driver.capabilities:  # derived: where the person reads it, too
        page = world.driver.portal_page(person.portal_links[0])
        said = (
            expiry_announced(page.text, f"{body.get('text', '')}\n{body.get('subject', '')}")
            if page.status == 200
            else []
        )
        world.record.add_evidence(
            "http",
            f"SM Portal page of {person.role}",
            {"status": page.status, "expiry": said[:5], "html": page.text[:20000]},
        )
        world.record.expect("the page announces no expiry (Never Expire)", f"expiry on the page: {said[:3] or 'none'}")
        if page.status != 200:
            raise ConformanceFailure(
                f"{person.role} cannot open the SM Portal's page of the message",
                "expected 200 with the page",
                f"{page.status} {page.text[:300]}",
            )
        if said:
            raise ConformanceFailure(
                "The SM Portal's page announces an expiry",
                "expected none: 'Expire Secure Messages for External Recipients After: Never Expire'",
                said[:3],
            )
