"""Steps in the Administration Console: list the definitions, try to change them."""

from __future__ import annotations

from pytest_bdd import parsers, then, when

from harness import policy
from harness import results as R
from harness.errors import ConformanceFailure, HarnessError
from harness.source_model import source
from steps.world import World


def _definitions(world: World) -> list[dict]:
    answer = world.driver.list_definitions()
    if answer.status != 200 or not isinstance(answer.body, dict):
        raise ConformanceFailure(
            "The Administration Console does not list definitions",
            "expected 200 with a definitions list",
            f"{answer.status} {answer.text[:300]}",
        )
    return list(answer.body.get("definitions", []))


@when("an administrator lists the definitions in the Administration Console")
def lists_the_definitions(world: World) -> None:
    world.snapshot = _definitions(world)


@then(parsers.parse("exactly these definitions are listed: {names}"))
def exactly_these_definitions(world: World, names: str) -> None:
    wanted = sorted(n.strip() for n in names.split(","))
    listed = sorted(d.get("name", "?") for d in world.snapshot)
    world.record.expect(", ".join(wanted), ", ".join(listed))
    cell = R.CellResult(
        "D-list",
        "names",
        "Administration Console",
        ", ".join(wanted),
        source.STATED,
        ", ".join(listed),
        R.PASSED if listed == wanted else R.FAILED,
    )
    world.record.cells.append(cell)
    if listed != wanted:
        raise ConformanceFailure("The wrong definitions are listed", f"expected exactly {wanted}", listed)


def same_value(seen: str, wanted: str) -> bool:
    """The same value whatever its case and spacing (a JSON boolean reads as True/False)."""
    return " ".join(seen.split()).casefold() == " ".join(wanted.split()).casefold()


@then(parsers.parse('the "{name}" definition has these attributes:'))
def has_these_attributes(world: World, name: str, datatable: list[list[str]]) -> None:
    found = [d for d in world.snapshot if d.get("name") == name]
    if not found:
        raise ConformanceFailure(f"The {name} definition is not listed", "", [d.get("name") for d in world.snapshot])
    attributes = {a.get("name"): str(a.get("value")) for a in found[0].get("attributes", [])}
    failures = []
    for attribute, value in datatable[1:]:
        seen = attributes.get(attribute)
        ok = seen is not None and same_value(seen, value)  # "false" is the source's "False"
        world.record.cells.append(
            R.CellResult(
                f"D-{name}",
                attribute,
                name,
                value,
                source.STATED,
                seen,
                R.PASSED if ok else R.FAILED,
                level=world.level(policy.SOURCE),
            )
        )
        if ok and seen != value:
            world.record.cells.append(
                R.CellResult(
                    f"D-{name}",
                    attribute,
                    name,
                    value,
                    source.STATED,
                    seen,
                    R.FAILED,
                    level=policy.CONTRACT,
                    detail="docs/contract.md writes the source's spelling",
                )
            )
        world.record.expect(f"{attribute} = {value}", f"{attribute} = {seen}")
        if not ok:
            failures.append(f"{attribute}: expected {value!r}, observed {seen!r}")
    extra = sorted(set(attributes) - {row[0] for row in datatable[1:]})
    if extra:
        failures.append(f"attributes the source does not list: {extra}")
    if failures:
        raise ConformanceFailure(f"The {name} definition's attributes differ from the source", "", "\n".join(failures))


@when(parsers.parse('an administrator tries to create a definition called "{name}"'))
def tries_to_create(world: World, name: str) -> None:
    world.snapshot = _definitions(world)
    body = {"name": name, "attributes": [{"name": a, "value": v} for a, v in source.ATTRIBUTES]}
    world.responses.append(world.driver.change_definition("create", name, body))


@when(parsers.parse('an administrator tries to {action} the "{name}" definition'))
def tries_to_change(world: World, action: str, name: str) -> None:
    if action not in ("change", "delete"):
        raise HarnessError("Unknown Administration Console action", f"{action!r}: change or delete")
    world.snapshot = _definitions(world)
    body = (
        {"attributes": [{"name": "Allow External Recipients to Print", "value": "True"}]} if action == "change" else {}
    )
    world.responses.append(world.driver.change_definition(action, name, body))


@then("the Administration Console refuses the change")
def refuses_the_change(world: World) -> None:
    answer = world.responses[-1]
    world.record.expect("a 4xx refusal", f"{answer.status} {answer.text[:200]}")
    if not 400 <= answer.status < 500:
        raise ConformanceFailure(
            "The Administration Console accepted a change to a Lite definition",
            "expected a 4xx refusal (definitions cannot be changed)",
            f"{answer.status} {answer.text[:300]}",
        )


@then("the definitions are unchanged")
def definitions_unchanged(world: World) -> None:
    after = _definitions(world)
    world.record.expect("the same definitions as before", "same" if after == world.snapshot else "changed")
    if after != world.snapshot:
        raise ConformanceFailure(
            "The definitions changed", "expected them unchanged", {"before": world.snapshot, "after": after}
        )
