"""The redrawn source tables: cell colours, links, standings, rows, defects, verdict."""

from __future__ import annotations

import copy

import pytest

from harness import results as R
from harness.report import view as V
from harness.report.render import render_html
from harness.source_model import source

from .htmlq import parse
from .sample import all_passed, full_run, scenario


def cell(tree, ref: str, column: str):
    return tree.find("td", cls="cell", data_ref=ref, data_column=column)


def test_failed_t3_r4_cell_is_red_and_links_to_its_scenario(report, results):
    _, tree, _ = report
    failing = scenario(results, "T3-r4")
    for column in ("Mail Box", "MPP"):
        td = cell(tree, "T3-r4", column)
        assert "st-failed" in td.classes
        anchor = td.find("a", cls="cell-main").attrs["href"].lstrip("#")
        target = tree.by_id(anchor)
        assert target.tag == "details" and target.attrs["data-status"] == R.FAILED
        assert failing.name in target.find("span", cls="sname").text()
        assert "observed: Notification" in td.text()
    assert "st-passed" in cell(tree, "T3-r4", "Message in SM Portal").classes
    assert len(tree.find_all("td", cls="st-failed")) == 2


def test_passing_rows_are_green(report):
    _, tree, _ = report
    for ref in ("T3-r1", "T3-r2", "T3-r3", "T3-r5", "T3-r6"):
        for column in source.COLUMNS:
            assert "st-passed" in cell(tree, ref, column).classes, (ref, column)


def test_stated_derived_and_not_specified_cells_look_different(report):
    _, tree, _ = report
    derived = cell(tree, "T1-r1", "Message in SM Portal")
    silent = cell(tree, "T1-r1", "MPP")
    stated = cell(tree, "T3-r1", "Mail Box")
    assert "standing-derived" in derived.classes and "derived" in derived.find("span", cls="standing-tag").text()
    assert "standing-not-specified" in silent.classes
    assert silent.find("span", cls="standing-tag").text() == "not specified"
    assert "blank in source" in silent.text() and "observed: nothing" in silent.text()
    assert "standing-stated" in stated.classes and not stated.find_all("span", cls="standing-tag")
    assert "st-observed" in cell(tree, "T2-r2", "MPP").classes
    legend = tree.find("div", cls="legend").text()
    for words in ("stated by the source", "derived", "not specified", "not applicable", "harness error", "not run"):
        assert words in legend


def test_table_headings_and_row_labels_are_verbatim(report):
    _, tree, _ = report
    for table in source.TABLES.values():
        section = tree.by_id(f"table-{table.key}")
        text = section.text()
        assert table.title in text and table.application_heading in text and table.recipient_heading in text
        for row in table.rows:
            assert row.application_text in text and row.definition_text in text
            assert tree.by_id(f"row-{row.ref}")


def test_t1_single_row_notes_its_six_cases(report, results):
    _, tree, _ = report
    cases = tree.find("tr", cls="cases-row")
    assert "6 cases: 3 applications × 2 definitions" in cases.text()
    links = cases.find_all("a", cls="case")
    assert len(links) == 6
    anchors = {a.attrs["href"].lstrip("#") for a in links}
    assert all(tree.by_id(a).tag == "details" for a in anchors)
    chips = cell(tree, "T1-r1", "Mail Box").find_all("a", cls="chip")
    assert [c.text() for c in chips] == ["1", "2", "3", "4", "5", "6"]
    assert "st-not_applicable" in chips[3].classes  # Mimecast for Mac / External, n/a: same number as the list


def test_t3_r6_shows_verbatim_definition_and_interpretation(report):
    _, tree, _ = report
    row = tree.by_id("row-T3-r6")
    definition = row.find("td", cls="def")
    assert "Reply using the All definition" in definition.text()
    interp = definition.find("div", cls="interp")
    assert interp.find("span", cls="interp-tag").text() == "interpretation"
    assert "Reply using the External definition" in interp.text()


def test_worst_status_wins():
    assert V.worst([R.PASSED, R.CELL_OBSERVED, R.FAILED]) == R.FAILED
    assert V.worst([R.PASSED, R.NOT_APPLICABLE]) == R.NOT_APPLICABLE
    assert V.worst([R.PASSED, R.HARNESS_ERROR, R.NOT_APPLICABLE]) == R.HARNESS_ERROR
    assert V.worst([]) == R.CELL_NOT_RUN
    cells = V.source_cells(full_run(), V.scenario_anchors(full_run().scenarios))
    assert cells[("T1-r1", "Mail Box")].status == R.NOT_APPLICABLE
    assert cells[("T2-r1", "MPP")].status == R.CELL_OBSERVED
    assert len(cells[("T2-r1", "Mail Box")].links) == 2  # the T2 row and the reply-all attribute scenario


def test_harness_error_is_purple_and_unrun_cells_are_white():
    results = full_run()
    broken = scenario(results, "T3-r3")
    broken.status, broken.message = R.HARNESS_ERROR, "HarnessError: Mailpit unreachable"
    for c in broken.cells:
        c.status, c.observed = R.CELL_NOT_RUN, None
    results.scenarios = [s for s in results.scenarios if "T2-r2" not in s.refs]
    tree = parse(render_html(results))
    assert "st-harness_error" in cell(tree, "T3-r3", "Mail Box").classes
    assert "st-not_run" in cell(tree, "T2-r2", "Mail Box").classes
    assert tree.by_id("verdict").text() == "Not conformant"


def test_source_defects_have_anchors_and_are_linked_from_rows_and_scenarios(report, results):
    _, tree, _ = report
    for defect in source.DEFECTS:
        item = tree.by_id(f"defect-{defect.key}")
        assert defect.title in item.text()
        hrefs = [a.attrs["href"] for a in item.find("div", cls="touch").find_all("a")]
        for ref in defect.touches:
            if ref.startswith("T"):
                assert f"#row-{ref}" in hrefs
                row = tree.by_id(f"row-{ref}")
                assert f"#defect-{defect.key}" in [a.attrs["href"] for a in row.find_all("a", cls="defect")]
    mac = tree.by_id("defect-D3").find("div", cls="touch").text()
    assert "Mimecast for Mac between internal users" in mac
    failing = tree.by_id(V.scenario_anchors(results.scenarios)[results.scenarios.index(scenario(results, "T3-r5"))])
    assert "#defect-D1" in [a.attrs["href"] for a in failing.find_all("a", cls="defect")]


def _verdict_cases():
    passed = all_passed()
    partial = copy.deepcopy(passed)
    partial.scenarios[0].status = R.NOT_APPLICABLE
    incomplete = copy.deepcopy(passed)
    incomplete.scenarios[1].status = R.HARNESS_ERROR
    empty = copy.deepcopy(passed)
    empty.scenarios = []
    return [
        (full_run(), "Not conformant", "fail"),
        (passed, "Conformant", "pass"),
        (partial, "Conformant (partial: 1 not applicable)", "partial"),
        (incomplete, "Incomplete", "error"),
        (empty, "Incomplete", "error"),
    ]


@pytest.mark.parametrize("results, text, cls", _verdict_cases(), ids=["failed", "passed", "partial", "error", "empty"])
def test_verdict_text(results, text, cls):
    tree = parse(render_html(results))
    verdict = tree.by_id("verdict")
    assert verdict.text() == text == results.verdict()
    assert f"v-{cls}" in verdict.parent.classes
    counts = {b.attrs["data-filter-status"]: b.find("b").text() for b in tree.by_id("counts").find_all("button")}
    assert counts == {k: str(v) for k, v in results.counts().items()}


def test_run_info_and_certification_banner():
    results = full_run(certify=True)
    tree = parse(render_html(results))
    banner = tree.by_id("certification")
    assert "Certification run" in banner.text() and "reference.toml" in banner.text() and "0.1.0" in banner.text()
    assert tree.find("body").find_all()[0] is banner  # the very top of the page
    info = tree.find("dl", cls="runinfo").text()
    for value in (
        "smlite reference gateway 0.1.0",
        "000_99618b2f85010427",
        source.SOURCE_TITLE,
        "4242",
        "2025-05-04T10:00:00+00:00",
        "ci-runner-3",
        "1 min 12 s",
    ):
        assert value in info
    assert not parse(render_html(full_run())).find_all(id="certification")


def test_definitions_and_attributes_tables(report):
    _, tree, _ = report
    section = tree.by_id("definitions").text()
    for name, text in source.DEFINITIONS.items():
        assert name in section and text in section
    for name, value in source.ATTRIBUTES:
        assert name in section and value in section
    rows = tree.by_id("definitions").find_all("td", cls="res")
    assert len(rows) == 7 and all("st-passed" in r.classes for r in rows)


def test_definition_scenarios_no_row_claims_are_still_listed(report, results):
    _, tree, _ = report
    also = tree.by_id("definitions").find("p", cls="also")
    assert "Creating a definition is refused and nothing changes" in also.text()
    rows = tree.by_id("definitions").find_all("td", cls="res")
    assert [len(td.find_all("a", cls="chip")) for td in rows] == [2, 2, 3, 3, 3, 3, 3]
