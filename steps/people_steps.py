"""Steps that introduce people: internal and external users."""

from __future__ import annotations

import pytest
from pytest_bdd import given, parsers

from harness.mailbox.backends import kind_of
from harness.source_model import domains


def _require_any_domain(world) -> None:
    """A look-alike of an internal domain has a mailbox only where the mail sink takes every domain
    (Mailpit); real test mailboxes (IMAP) exist at the profile's own domains only."""
    if kind_of(world.profile) != "mailpit":
        pytest.skip(
            "not applicable: the target's test mailboxes (IMAP) receive only the profile's own "
            "domains, and this scenario needs an address at a look-alike of an internal domain"
        )


@given(parsers.parse('an internal user "{role}"'))
def an_internal_user(world, role: str) -> None:
    world.add_person(role, internal=True)


@given(parsers.parse('an external user "{role}"'))
def an_external_user(world, role: str) -> None:
    world.add_person(role, internal=False)


# -- how the target decides "internal" (docs/contract.md: exact domain, case-insensitive) -------------
@given(parsers.parse('an internal user "{role}" whose address writes an internal domain in mixed case'))
def an_internal_user_mixed_case(world, role: str) -> None:
    world.add_person(role, internal=True, domain_variant=domains.mixed_case)


@given(parsers.parse('an external user "{role}" at a domain that ends with an internal domain\'s name'))
def an_external_user_glued(world, role: str) -> None:
    _require_any_domain(world)
    world.add_person(role, internal=False, domain_variant=domains.glued)


@given(parsers.parse('an external user "{role}" at a sub-domain of an internal domain'))
def an_external_user_sub_domain(world, role: str) -> None:
    _require_any_domain(world)
    world.add_person(role, internal=False, domain_variant=domains.sub_domain)
