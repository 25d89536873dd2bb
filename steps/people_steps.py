"""Steps that introduce people: internal and external users."""

from __future__ import annotations

from pytest_bdd import given, parsers


@given(parsers.parse('an internal user "{role}"'))
def an_internal_user(world, role: str) -> None:
    world.add_person(role, internal=True)


@given(parsers.parse('an external user "{role}"'))
def an_external_user(world, role: str) -> None:
    world.add_person(role, internal=False)
