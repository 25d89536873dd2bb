"""Two runs side by side: differing cells first, escaping, absent scenarios."""

from __future__ import annotations

import copy
import re

from markupsafe import escape

from harness import results as R
from harness.report import compare_rows, write_comparison

from .htmlq import parse
from .sample import XSS_SUBJECT, all_passed, full_run, scenario


def _differing_first(rows):
    flags = [r.differs for r in rows]
    return flags == sorted(flags, reverse=True)


def test_differing_cells_and_scenarios_come_first():
    rows = compare_rows(full_run(), all_passed())
    cells, scenarios = rows["cells"], rows["scenarios"]
    assert _differing_first(cells) and _differing_first(scenarios)
    differing = [r.key for r in cells if r.differs]
    assert differing[:2] == ["T1-r1 / Mail Box", "T1-r1 / MPP"]
    assert "T3-r4 / Mail Box" in differing and "T3-r4 / MPP" in differing
    assert "T3-r1 / Mail Box" not in differing
    assert len(cells) == 3 * 9  # every source cell, once
    t3r4 = next(r for r in cells if r.key == "T3-r4 / Mail Box")
    assert (t3r4.a_status, t3r4.b_status, t3r4.a_detail, t3r4.b_detail) == (
        R.FAILED,
        R.PASSED,
        "Notification",
        "Email with banner",
    )
    changed = [r.label for r in scenarios if r.differs]
    assert len(changed) == 2 and any("T3-r4" in name for name in changed)


def test_same_runs_do_not_differ():
    rows = compare_rows(full_run(), full_run())
    assert not any(r.differs for r in rows["cells"] + rows["scenarios"])


def test_a_scenario_only_one_run_has_is_absent():
    a, b = full_run(), full_run()
    b.scenarios = b.scenarios[:-1]
    row = compare_rows(a, b)["scenarios"][0]
    assert row.differs and row.b_status == "absent" and row.label == a.scenarios[-1].name


def test_comparison_page(tmp_path):
    a, b = full_run(), all_passed()
    b.run = copy.deepcopy(b.run)
    b.run.target["version"] = "0.2.0"
    scenario(a, "T3-r4").name = XSS_SUBJECT
    path = write_comparison(a, b, tmp_path / "cmp")
    html = path.read_text(encoding="utf-8")
    tree = parse(html)
    assert path.name == "comparison.html"
    assert XSS_SUBJECT not in html and str(escape(XSS_SUBJECT)) in html
    assert not tree.find_all("script") and "<link" not in html and "@import" not in html
    assert not re.search(r"https?://", html)
    a_head, b_head = tree.by_id("run-A").text(), tree.by_id("run-B").text()
    assert "Not conformant" in a_head and "0.1.0" in a_head
    assert "Conformant" in b_head and "0.2.0" in b_head
    for section in ("cells", "scenarios"):
        rows = tree.by_id(section).find_all("tr", cls="differs") + tree.by_id(section).find_all("tr", cls="same")
        ordered = [r for r in tree.by_id(section).find_all("tr") if r.classes & {"differs", "same"}]
        assert ordered == rows  # every differing row before every same one
    first = tree.by_id("cells").find("tr", cls="differs")
    assert first.attrs["data-key"] == "T1-r1 / Mail Box"
