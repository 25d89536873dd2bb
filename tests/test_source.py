"""The source model restates SPEC-READING.md, and the features restate the source model."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.source_model import source

FEATURES = Path(__file__).resolve().parent.parent / "features"


def test_two_definitions_with_five_attributes_verbatim():
    assert list(source.DEFINITIONS) == ["All", "External"]
    assert dict(source.ATTRIBUTES) == {
        "Allow External Recipients to Print": "False",
        "Allow External Recipients to Reply": "True",
        "Allow External Recipients to Reply All": "True",
        "Expire Secure Messages for External Recipients After": "Never Expire",
        "Send Read Receipt": "No",
    }


def test_table_one_expands_to_six_cases():
    cases = [c for c in source.cases() if c.ref == "T1-r1"]
    assert {(c.application, c.definition) for c in cases} == {
        (a, d) for a in ("outlook", "mac", "mpp") for d in ("All", "External")
    }
    assert all(c.sender_internal and not c.recipient_internal for c in cases)


@pytest.mark.parametrize(
    "ref, box, mpp, portal",
    [
        ("T1-r1", "Notification", "not specified", "Yes (derived)"),
        ("T2-r1", "Notification", "not specified", "Yes (derived)"),
        ("T2-r2", "Email with banner", "not specified", "not specified"),
        ("T3-r1", "Email with banner", "Email with banner", "No"),
        ("T3-r2", "Email with banner", "Email with banner", "No"),
        ("T3-r3", "Notification", "Notification", "Yes"),
        ("T3-r4", "Email with banner", "Email with banner", "Yes"),
        ("T3-r5", "Notification", "Notification", "Yes"),
        ("T3-r6", "Email with banner", "Email with banner", "Yes"),
    ],
)
def test_every_cell_as_spec_reading_restores_it(ref, box, mpp, portal):
    cells = source.row(ref).cells
    assert [cells[c].gherkin() for c in source.COLUMNS] == [box, mpp, portal]


def test_row_six_keeps_the_verbatim_text_and_says_it_is_an_interpretation():
    row = source.row("T3-r6")
    assert row.definition_text == "Reply using the All definition"
    assert row.cases[0].definition == "External"
    assert "Interpretation" in row.interpretation and "D1" in row.defects


def test_oracle_is_silent_where_no_row_covers_the_case():
    ref, cells = source.expected_cells("mac", "All", True, True)
    assert ref is None and not any(c.required for c in cells.values())


@pytest.mark.parametrize("text", ["Notification", "Yes (derived)", "not specified", "Email with banner"])
def test_gherkin_cells_round_trip(text):
    assert source.parse_gherkin_cell(text).gherkin() == text


def test_applications_accept_source_names_and_slugs():
    assert source.application("Microsoft Office").slug == "outlook"
    assert source.application("portal").name == "Secure Messaging Portal"
    with pytest.raises(KeyError, match="known"):
        source.application("thunderbird")


def _examples(feature: str) -> list[dict[str, str]]:
    """Rows of the Examples tables that restate the source's cells (those with its three columns),
    as dicts (a plain reading of Gherkin tables). Outlines that send realistic mail name only a row."""
    rows, header = [], None
    for line in (FEATURES / feature).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line.startswith("Examples"):
            header = None
            continue
        if line.startswith("|") and line.endswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if header is None:
                header = cells
            elif "ref" in header and "<" not in line and set(source.COLUMNS) <= set(header):
                rows.append(dict(zip(header, cells)))
        elif line and not line.startswith("#"):
            header = None if not line.startswith("|") else header
    return rows


@pytest.mark.parametrize(
    "feature, table",
    [
        ("table1_internal_to_external.feature", "T1"),
        ("table2_external_replies.feature", "T2"),
        ("table3_internal_to_internal.feature", "T3"),
    ],
)
def test_each_table_outline_has_one_examples_row_per_source_case(feature, table):
    examples = _examples(feature)
    cases = [c for r in source.TABLES[table].rows for c in r.cases]
    assert len(examples) == len(cases)
    for case, example in zip(cases, examples):
        assert example["ref"] == case.ref
        assert source.application(example["application"]).slug == case.application
        assert example["definition"] == case.definition
        assert [example[c] for c in source.COLUMNS] == [case.cells[c].gherkin() for c in source.COLUMNS]


def test_table_three_examples_keep_the_verbatim_definition_text():
    for example in _examples("table3_internal_to_internal.feature"):
        assert example["source definition"] == source.row(example["ref"]).definition_text


def test_every_scenario_outline_names_its_source_row():
    for feature in (
        "table1_internal_to_external.feature",
        "table2_external_replies.feature",
        "table3_internal_to_internal.feature",
    ):
        text = (FEATURES / feature).read_text(encoding="utf-8")
        assert re.findall(r"Scenario Outline: <ref>", text), feature
