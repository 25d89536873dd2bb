"""A shrunk counterexample is written with steps that exist: every line of a reproduction matches exactly
one step definition of steps/, for every kind of action and every form of address and content."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.conformance.stepdefs import StepIndex
from harness.exploration import mime
from harness.exploration import strategies as S
from harness.exploration.minimise.reproduction import feature_text, simulate_commands
from harness.exploration.model import AddressPlan, ContentPlan, Step
from harness.profile.schema import TargetProfile

INTERNAL, EXTERNAL = ["corp.example"], ["example.net"]


def _plans(draw, n):
    return tuple(draw(S.recipients(INTERNAL, EXTERNAL)) for _ in range(n))


@st.composite
def conversations(draw):
    from harness.exploration.world import MessagePlan

    app = draw(st.sampled_from(("outlook", "mac", "mpp")))
    to, cc = _plans(draw, draw(st.integers(1, 3))), _plans(draw, draw(st.integers(0, 2)))
    bcc = _plans(draw, draw(st.integers(0, 1))) if app != "mpp" else ()
    plan = MessagePlan(
        app,
        draw(S.definitions_named()),
        draw(S.senders(INTERNAL)),
        to,
        cc,
        bcc,
        draw(S.contents(attachments_allowed=app != "mpp")),
    )
    names = ["Ines1", *(f"P{i}" for i in range(2, 2 + len(to) + len(cc) + len(bcc)))]
    steps = [Step("send", {"plan": plan, "names": names})]
    other = AddressPlan("ida", "corp.example", S.INTERNAL)
    steps.append(
        Step("unknown", {"definition": "Internal", "names": ["Ines9", "Ida10"], "plans": [plan.sender, other]})
    )
    steps += [Step("reply", {"replier": names[1], "reply_all": draw(st.booleans())})]
    steps += [Step("open", {"who": names[1], "sender": "Ines1"}), Step("clock", {"days": draw(st.integers(1, 3650))})]
    steps.append(Step("console", {"definition": "All", "action": draw(st.sampled_from(("change", "delete")))}))
    if app != "mpp":
        written = MessagePlan(app, plan.definition, plan.sender, to[:1], (), (), plan.content)
        names = ["Ines11", "P12"]
        steps.append(Step("raw", {"plan": written, "shape": draw(mime.raw_plans()), "names": names}))
        steps.append(Step("malformed", {"malformation": mime.MALFORMED[0], "definition": "All", "names": ["I", "E"]}))
    return steps


@pytest.fixture(scope="module")
def index():
    import steps.conftest  # noqa: F401  (the step modules register their definitions)

    return StepIndex()


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(steps=conversations())
def test_every_line_of_a_reproduction_is_a_step_of_the_suite(tmp_path_factory, index, steps):
    from pytest_bdd.feature import get_features

    path = tmp_path_factory.mktemp("repro") / "repro.feature"
    path.write_text(feature_text("T1-r1 Mail Box", steps, 7), encoding="utf-8")
    (feature,) = get_features([str(path)])
    (scenario,) = [t.render({}) for t in feature.scenarios.values()]
    assert len(scenario.steps) > 10
    for step in scenario.steps:
        assert index.match(step).function is not None, step.name


def test_the_simulate_commands_name_every_recipient_with_a_fresh_tag():
    from harness.exploration.world import MessagePlan

    quoted = AddressPlan('"anne van"', "example.net", S.EXTERNAL, "Anne")
    plan = MessagePlan(
        "outlook", "eXTERNAL", AddressPlan("ines", "corp.example", S.INTERNAL), (quoted,), (), (), ContentPlan("s", "t")
    )
    commands = simulate_commands([Step("send", {"plan": plan, "names": ["Ines1", "Erik2"]})], TargetProfile("x"))
    assert commands[0] == "TAG=$(date +%s%N)"
    assert "--definition 'eXTERNAL'" in commands[1]
    assert '--to "\\"anne van.$TAG\\"@example.net"' in commands[1]
