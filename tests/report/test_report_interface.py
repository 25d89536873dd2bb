"""The report's interface for links from outside (stable anchors), the embedded source, the SVG overview,
the optional result fields (cell ``level``, top-level ``missing``), and `smlite report --compare`'s links and
exit code. Pure HTML checks; the browser tests open the same pages in Chromium."""

from __future__ import annotations

import copy
import hashlib
import json
import random
import re
from pathlib import Path

import pytest

from harness import results as R
from harness.cli.main import main as cli_main
from harness.report import anchors as A
from harness.report import source_doc, write_report
from harness.report import view as V
from harness.results.loading import load_results

from .htmlq import parse
from .sample import all_passed, full_run, scenario

DOCUMENTED = (
    "T3-r4",
    "T1-r1-mac-external",
    "T1-r1-outlook-all",
    "T2-r1",
    "attributes-T2-r1-an-external-recipient-can-reply-all-and-the-reply-lands-as-table-2-says-all",
    "row-T3-r4",
    "cell-T3-r4-mpp",
    "cell-T1-r1-sm-portal",
    "defect-D1",
    "src-T3-r4",
    "src-T3-r4-mpp",
    "src-attr-print",
    "src-def-All",
    "definition-All",
    "attr-print",
    "source-document",
    "overview",
)


def _ids(html: str) -> set[str]:
    return set(re.findall(r'\sid="([^"]+)"', html))


def _another_run_of(results: R.RunResults, seed: int) -> R.RunResults:
    """The same suite run again: new run id, new node ids' order (xdist), new workers and seeds."""
    again = copy.deepcopy(results)
    again.run.id, again.run.seed = "20250505T080000Z-0b1c", seed
    random.Random(seed).shuffle(again.scenarios)
    for s in again.scenarios:
        s.worker, s.seed = f"gw{seed % 3}", seed
    return again


def test_anchors_are_built_from_the_source_reference_and_the_case(report):
    _, _, html = report
    ids = _ids(html)
    missing = [anchor for anchor in DOCUMENTED if anchor not in ids]
    assert missing == []
    assert not [i for i in ids if i.startswith("s-")]  # no pytest-node-id anchors any more


def test_anchors_are_identical_across_two_runs(tmp_path, results):
    first = write_report(results, tmp_path / "one").read_text(encoding="utf-8")
    second = write_report(_another_run_of(results, 7), tmp_path / "two").read_text(encoding="utf-8")
    assert _ids(first) == _ids(second)
    by_name_one = dict(zip((s.name for s in results.scenarios), V.scenario_anchors(results.scenarios)))
    other = _another_run_of(results, 7)
    by_name_two = dict(zip((s.name for s in other.scenarios), V.scenario_anchors(other.scenarios)))
    assert by_name_one == by_name_two


def test_two_scenarios_of_one_case_get_distinct_anchors_whatever_their_order(results):
    twin = copy.deepcopy(scenario(results, "T3-r4"))
    twin.id += "-again"
    forward = V.scenario_anchors([*results.scenarios, twin])
    backward = V.scenario_anchors([twin, *results.scenarios])
    assert len(set(forward)) == len(forward)
    assert forward[-1] == backward[0] == "T3-r4-2"


def test_every_in_page_link_has_its_target(report):
    _, tree, html = report
    ids = _ids(html)
    broken = sorted(
        {
            a.attrs["href"]
            for a in tree.find_all("a")
            if a.attrs.get("href", "").startswith("#") and a.attrs["href"][1:] not in ids
        }
    )
    assert broken == []


def test_each_source_cell_links_to_its_words_and_the_words_link_back(report):
    _, tree, _ = report
    cells = tree.find_all("td", cls="cell")
    assert len(cells) == 27
    for td in cells:
        words = td.find("a", cls="words").attrs["href"][1:]
        target = tree.by_id(words)
        assert target.attrs["id"].startswith("src-")
        back = target.attrs.get("href") or target.find("a", cls="back").attrs["href"]
        assert back in ("#" + td.attrs["id"], "#row-" + td.attrs["data-ref"]), (words, back)
    # stated cells point at their own words, which are the source's value verbatim
    mpp = tree.by_id("src-T3-r4-mpp")
    assert mpp.text() == "Email with banner" and mpp.attrs["href"] == "#cell-T3-r4-mpp"
    assert tree.by_id("src-T3-r3-sm-portal").text() == "Yes"
    # a cell the source leaves blank points at its row's words
    assert tree.find("td", id="cell-T1-r1-mpp").find("a", cls="words").attrs["href"] == "#src-T1-r1"


SEED_SHA256 = "6f2d77a2385a089601b289d5db7c3c5c9e7bff5eeb37e821ee0089439e0d0ea8"  # shared/seed/000_99618b2f85010427.txt


def test_the_embedded_source_is_the_document_verbatim():
    assert hashlib.sha256(source_doc.SOURCE_FILE.read_bytes()).hexdigest() == SEED_SHA256
    text = source_doc.SOURCE_FILE.read_text(encoding="utf-8")
    rebuilt = "\n".join("".join(p.text for p in line.parts) for line in source_doc.document())
    assert rebuilt == text
    assert {f"src-{r}" for r in ("T1-r1", "T2-r1", "T2-r2", "T3-r1", "T3-r6")} <= source_doc.anchors()
    assert {A.attribute_anchor(name) for name in A.ATTRIBUTE_SLUGS} <= source_doc.anchors()


def test_an_edited_copy_of_the_source_fails_loudly(tmp_path, monkeypatch):
    edited = tmp_path / "source.txt"
    edited.write_text(
        source_doc.SOURCE_FILE.read_text(encoding="utf-8").replace(
            "ExternalEmail with bannerEmail with bannerYes", "ExternalNotificationNotificationYes"
        ),
        encoding="utf-8",
    )
    monkeypatch.setattr(source_doc, "SOURCE_FILE", edited)
    source_doc.document.cache_clear()
    try:
        with pytest.raises(source_doc.SourceTextChanged, match="ExternalEmail with bannerEmail with bannerYes"):
            source_doc.document()
    finally:
        source_doc.document.cache_clear()


def _overview_counts(tree) -> dict[str, int]:
    svg = tree.by_id("overview").find("svg")
    counts: dict[str, int] = {}
    for rect in svg.find_all("rect", cls="seg"):
        status = next(c[2:] for c in rect.classes if c.startswith("s-"))
        counts[status] = counts.get(status, 0) + int(re.search(r": (\d+) ", rect.text()).group(1))
    return counts


def test_the_overview_svg_counts_every_scenario_per_table(report, results):
    _, tree, _ = report
    counts = _overview_counts(tree)
    assert counts == {k: v for k, v in results.counts().items() if v}
    assert {a.attrs["href"] for a in tree.by_id("overview").find_all("a")} == {
        f"#group-{key}" for key in ("T1", "T2", "T3", "definitions", "attributes", "other")
    }


def test_a_contract_level_failure_is_a_contract_difference_and_its_absence_changes_nothing(tmp_path):
    data = full_run().to_dict()
    plain = parse(write_report(load_results(_save(tmp_path / "a.json", data)), tmp_path / "a").read_text())
    assert "st-failed" in plain.by_id("cell-T3-r4-mpp").classes
    t3r4 = next(s for s in data["scenarios"] if s["refs"] == ["T3-r4"])
    for cell in t3r4["cells"]:
        if cell["status"] == "failed":
            cell["level"] = "contract"
    t3r4["status"] = "passed"  # as the engine writes it: a contract difference never fails a scenario
    results = load_results(_save(tmp_path / "b.json", data))
    tree = parse(write_report(results, tmp_path / "b").read_text())
    assert "st-contract_difference" in tree.by_id("cell-T3-r4-mpp").classes
    assert "Contract difference" in tree.by_id("cell-T3-r4-mpp").text()
    counts = _overview_counts(tree)
    assert "failed" not in counts and counts == {k: v for k, v in results.counts().items() if v}
    assert results.contract_differences() and results.exit_code() == (0 if results.complete else 2)


def test_a_failed_scenario_stays_a_failure_whatever_its_cells_say(tmp_path):
    """One policy (harness/policy.py): the verdict, the overview and the cell agree. A scenario the engine
    failed counts against the source even when a file marks every failed cell of it contract."""
    data = full_run().to_dict()
    t3r4 = next(s for s in data["scenarios"] if s["refs"] == ["T3-r4"])
    for cell in t3r4["cells"]:
        if cell["status"] == "failed":
            cell["level"] = "contract"
    results = load_results(_save(tmp_path / "c.json", data))
    tree = parse(write_report(results, tmp_path / "c").read_text())
    assert _overview_counts(tree).get("failed") == 1
    assert results.verdict() == "Not conformant" and results.exit_code() == 1


def test_missing_scenarios_are_shown(tmp_path):
    data = full_run().to_dict()
    data["missing"] = [
        {
            "id": "steps/test_conformance.py::test_case[T3-r6-portal-External]",
            "name": "test_case[T3-r6-portal-External]",
            "reason": "worker 'gw1' crashed",
        },
        {
            "id": "steps/test_conformance.py::test_reply[T2-r2]",
            "name": "T2-r2 reply",
            "reason": "the run was interrupted before it",
        },
    ]
    tree = parse(write_report(load_results(_save(tmp_path / "r.json", data)), tmp_path / "r").read_text())
    shown = tree.by_id("missing").text()
    assert "2 scenarios never reported" in shown and "T3-r6-portal-External" in shown and "T2-r2 reply" in shown
    assert _overview_counts(tree).get("missing") == 2


def _save(path: Path, data: dict) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _two_runs(tmp_path: Path) -> tuple[Path, Path]:
    a = write_report(full_run(), tmp_path / "a").parent / "results.json"
    b = write_report(all_passed(), tmp_path / "b").parent / "results.json"
    return a, b


def test_compare_exits_1_when_cells_differ_and_0_when_they_do_not(tmp_path, capsys):
    a, b = _two_runs(tmp_path)
    assert cli_main(["report", str(a), "--compare", str(b), "-o", str(tmp_path / "c1")]) == 1
    assert "source cells differ" in capsys.readouterr().out
    assert cli_main(["report", str(a), "--compare", str(a), "-o", str(tmp_path / "c2")]) == 0
    assert "no source cell differs" in capsys.readouterr().out


def test_compare_of_a_file_that_is_not_results_is_one_line_and_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    a, _ = _two_runs(tmp_path)
    assert cli_main(["report", str(a), "--compare", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("smlite: Not an smlite results file") and len(err.strip().splitlines()) == 1


def test_every_compare_link_points_at_an_existing_anchor_of_either_run(tmp_path):
    a, b = _two_runs(tmp_path)
    assert cli_main(["report", str(a), "--compare", str(b), "-o", str(tmp_path / "cmp")]) == 1
    page = tmp_path / "cmp" / "comparison.html"
    tree = parse(page.read_text(encoding="utf-8"))
    links = [x.attrs["href"] for x in tree.find_all("a")]
    differing = tree.find_all("tr", cls="differs")
    assert differing and all(len(tr.find_all("a", cls="ev")) == 2 for tr in differing)
    ids = {}
    for href in links:
        path, _, anchor = href.partition("#")
        target = (page.parent / path).resolve()
        assert target.is_file(), href
        ids.setdefault(target, _ids(target.read_text(encoding="utf-8")))
        assert not anchor or anchor in ids[target], href
    assert {p.parent.name for p in ids} == {"a", "b"}


def test_compare_of_runs_without_a_report_writes_one_to_link_to(tmp_path):
    a, b = _two_runs(tmp_path)
    (a.parent / "index.html").unlink()
    assert cli_main(["report", str(a), "--compare", str(b), "-o", str(tmp_path / "cmp")]) == 1
    assert (tmp_path / "cmp" / "run-a" / "index.html").is_file()
    assert 'href="run-a/index.html#T3-r4"' in (tmp_path / "cmp" / "comparison.html").read_text()
