"""The suite's Gherkin scenarios and step definitions, as the scenario engine runs them.

Owns ``scenario_of(item)`` (the scenario a pytest-bdd item stands for, its Examples row filled in) and
``StepIndex`` (every step definition the step modules declared with pytest-bdd's ``given``/``when``/
``then``, and ``match(step)``: the one definition whose parser matches the step, with its arguments
converted). The definitions stay pytest-bdd's own: the same functions run whether pytest-bdd executes a
scenario (``--smlite-engine sequential``, pytest-xdist workers) or the engine does.

pytest-bdd keeps both registries internally (``scenario_wrapper_template_registry`` and
``step_function_context_registry``) and offers no public accessor; this module is the one place that
reads them, and ``tests/test_engine.py`` checks that every step of features/ matches exactly one
definition here.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from harness.errors import HarnessError

PROVIDED = ("world", "datatable", "docstring")  # what the engine hands a step function besides its arguments


@dataclass(frozen=True)
class Matched:
    """A step and the definition that implements it, with the arguments parsed from the step's text."""

    function: Callable[..., object]
    arguments: dict[str, object]


def scenario_of(item: Any) -> Any | None:
    """The rendered pytest-bdd ``Scenario`` of ``item`` (None for an item that is not a scenario)."""
    from pytest_bdd.scenario import scenario_wrapper_template_registry

    function = getattr(item, "obj", None)
    template = scenario_wrapper_template_registry.get(function) if callable(function) else None
    if template is None:
        return None
    callspec = getattr(item, "callspec", None)
    example = dict(callspec.params.get("_pytest_bdd_example", {})) if callspec else {}
    return template.render(example)


class StepIndex:
    """Every step definition pytest-bdd knows in this process (the step modules imported by the conftest)."""

    def __init__(self, definitions: Iterable[Any] | None = None):
        if definitions is None:
            from pytest_bdd.steps import step_function_context_registry

            definitions = list(step_function_context_registry.values())
        self.definitions = list(definitions)

    def match(self, step: Any) -> Matched:
        """The definition of ``step`` (its type — given, when, then — and its text), or HarnessError."""
        found = [d for d in self.definitions if d.type in (step.type, None) and d.parser.is_matching(step.name)]
        if len(found) != 1:
            what = "no step definition" if not found else f"{len(found)} step definitions"
            raise HarnessError(
                f"{what} for a step of the suite",
                f"{step.keyword} {step.name}",
                [getattr(d.step_func, "__qualname__", d) for d in found],
            )
        definition = found[0]
        parsed = definition.parser.parse_arguments(step.name) or {}
        converted = {k: definition.converters.get(k, _same)(v) for k, v in parsed.items()}
        parameters = inspect.signature(definition.step_func).parameters
        unknown = [p for p in parameters if p not in converted and p not in PROVIDED]
        if unknown:
            raise HarnessError(
                "A step asks for something the engine does not provide",
                f"{definition.step_func.__qualname__} wants {unknown}; it gets its arguments and {', '.join(PROVIDED)}",
            )
        return Matched(definition.step_func, {k: v for k, v in converted.items() if k in parameters})


def _same(value: object) -> object:
    return value
