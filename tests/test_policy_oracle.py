"""The reference gateway's policy against the suite's oracle (harness.source_model.source), property-based.

The two are written independently (the gateway never imports harness.source_model.source);
here they must agree on every cell the source states or implies, for any
recipient mix, application and definition. Where the source is silent the
gateway may do anything, and is not judged.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.gateway import policy
from harness.gateway.variants import VARIANTS
from harness.source_model import source

KIND_NAMES = {
    policy.NOTIFICATION: source.NOTIFICATION,
    policy.BANNER: source.BANNER,
    policy.PLAIN: "plain email",
    policy.NONE: "none",
}


def gateway_cells(
    app: str, definition: str, sender_internal: bool, recipient_internal: bool, variant: str = ""
) -> dict[str, str]:
    out = policy.outcome(app, definition, sender_internal, recipient_internal, variant=variant)
    return {
        "Mail Box": KIND_NAMES[out.mailbox],
        "MPP": KIND_NAMES[out.mpp],
        "Message in SM Portal": source.YES if out.in_sm_portal else source.NO,
    }


def disagreements(app, definition, sender_internal, recipient_internal, variant="") -> list[str]:
    _, expected = source.expected_cells(app, definition, sender_internal, recipient_internal)
    actual = gateway_cells(app, definition, sender_internal, recipient_internal, variant)
    return [
        f"{column}: source {cell.value!r}, gateway {actual[column]!r}"
        for column, cell in expected.items()
        if cell.required and actual[column] != cell.value
    ]


recipients = st.lists(st.booleans(), min_size=1, max_size=12)  # True = internal


@settings(max_examples=300, deadline=None)
@given(
    app=st.sampled_from(["outlook", "mac", "mpp", "portal"]),
    definition=st.sampled_from(["All", "External"]),
    sender_internal=st.booleans(),
    mix=recipients,
)
def test_each_recipient_gets_what_the_source_says(app, definition, sender_internal, mix):
    if app != "portal":
        sender_internal = True  # only the SM Portal lets an external user send (a reply)
    for recipient_internal in mix:
        assert disagreements(app, definition, sender_internal, recipient_internal) == []


def test_every_source_case_is_checked_by_the_property():
    for case in source.cases():
        assert disagreements(case.application, case.definition, case.sender_internal, case.recipient_internal) == []


def test_policy_variants_disagree_with_the_oracle_somewhere():
    """Each variant that lives in the policy must break at least one required cell."""
    policy_variants = [
        "mpp-external-banner",
        "mpp-not-in-portal",
        "internal-as-external",
        "table2-swapped",
        "office-internal-notification",
    ]
    assert set(policy_variants) <= set(VARIANTS)
    for variant in policy_variants:
        broken = [
            case.ref
            for case in source.cases()
            if disagreements(case.application, case.definition, case.sender_internal, case.recipient_internal, variant)
        ]
        assert broken, variant
