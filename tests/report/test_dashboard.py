"""`smlite dashboard`: runs found under folders, one column per target (its latest full run), its history,
every link resolving to a run's report, bad input one line and exit 2. Pure HTML; the browser test opens it."""

from __future__ import annotations

import json
import re
from pathlib import Path

from harness.cli.main import main as cli_main
from harness.report.render import update_latest
from harness.source_model import source

from .fleet import make_fleet
from .htmlq import parse
from .sample import full_run

TARGETS = ("Acme Gateway", "Bravo Mail")


def fleet(tmp_path: Path, runs: int = 5, with_reports: bool = True) -> Path:
    out = tmp_path / "runs"
    make_fleet(json.loads(json.dumps(full_run().to_dict())), out, runs, TARGETS, with_reports=with_reports)
    return out


def _ids(path: Path) -> set[str]:
    return set(re.findall(r'\sid="([^"]+)"', path.read_text(encoding="utf-8")))


def test_dashboard_matrix_and_history_link_to_each_runs_report(tmp_path, capsys):
    runs = fleet(tmp_path)
    acme = sorted((runs / "acme-gateway").iterdir())
    update_latest(runs / "acme-gateway", acme[-1])  # a `latest` pointer must not count twice
    assert cli_main(["dashboard", str(runs), "-o", str(tmp_path / "site")]) == 0
    page = tmp_path / "site" / "index.html"
    assert capsys.readouterr().out.strip() == str(page)
    tree = parse(page.read_text(encoding="utf-8"))
    assert tree.find("h1").text() == "2 targets, 5 runs"
    heads = [th.text() for th in tree.find("table", cls="matrix").find_all("th", cls="tgt")]
    assert [h.split("2.")[0] for h in heads] == list(TARGETS)
    cells = tree.find_all("td", cls="m")
    assert len(cells) == 27 * 2
    # the matrix shows each target's latest run
    latest = {t: sorted((runs / t.lower().replace(" ", "-")).glob("2*"))[-1].name for t in TARGETS}
    groups = tree.by_id("matrix-groups").find_all("td", cls="g")
    assert len(groups) == 6 * 2
    shown = json.loads((runs / "acme-gateway" / latest["Acme Gateway"] / "results.json").read_text())
    t1 = [sc["status"] for sc in shown["scenarios"] if sc["table"] == "T1"]
    t1_group = groups[list(source.TABLE_ORDER).index("T1") * 2]  # a row per group, a column per target
    assert f"{t1.count('passed')} passed" in t1_group.text()
    assert ("failed" in t1) == bool(t1_group.classes & {"st-failed", "st-contract_difference"})
    histories = tree.find_all("section", cls="history")
    assert len(histories) == 2
    assert [len(h.find("svg").find_all("a", cls="run-col")) for h in histories] == [3, 2]
    for td, target in zip(cells[:2], TARGETS):
        assert latest[target] in td.find("a").attrs["href"]
    checked = 0
    for a in tree.find_all("a"):
        href = a.attrs["href"]
        path, _, anchor = href.partition("#")
        if not path:
            assert anchor in _ids(page), href
            continue
        target = (page.parent / path).resolve()
        assert target.is_file() and target.name == "index.html", href
        assert not anchor or anchor in _ids(target), href
        checked += 1
    assert checked > 27 * 2


def test_a_failed_cell_shows_in_the_matrix_with_its_observed_value(tmp_path):
    runs = fleet(tmp_path, runs=2)
    data = json.loads(next((runs / "bravo-mail").glob("*/results.json")).read_text())
    failed = [
        (s["refs"][0], c["column"], c["observed"])
        for s in data["scenarios"]
        for c in s["cells"]
        if c["status"] == "failed" and s["table"] in ("T2", "T3")
    ]
    assert cli_main(["dashboard", str(runs), "-o", str(tmp_path / "site")]) == 0
    tree = parse((tmp_path / "site" / "index.html").read_text(encoding="utf-8"))
    column = list(tree.find_all("td", cls="m"))[1::2]
    for ref, col, observed in failed:
        td = next(t for t in column if t.attrs["data-ref"] == ref and t.attrs["data-column"] == col)
        assert td.classes & {"st-failed", "st-contract_difference"} and observed in td.text()


def test_runs_without_a_report_get_one_in_the_site(tmp_path):
    runs = fleet(tmp_path, runs=3, with_reports=False)
    assert cli_main(["dashboard", str(runs), "-o", str(tmp_path / "site")]) == 0
    assert len(list((tmp_path / "site" / "runs").glob("*/index.html"))) == 3


def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    assert cli_main(["dashboard", str(tmp_path / "nowhere"), "-o", str(tmp_path / "site")]) == 2
    assert capsys.readouterr().err.strip() == f"smlite: No such file or folder: {tmp_path / 'nowhere'}"
    (tmp_path / "empty").mkdir()
    assert cli_main(["dashboard", str(tmp_path / "empty"), "-o", str(tmp_path / "site")]) == 2
    assert "No results.json found" in capsys.readouterr().err


def test_an_unreadable_results_file_is_named_and_skipped(tmp_path, capsys):
    runs = fleet(tmp_path, runs=2)
    broken = runs / "broken" / "results.json"
    broken.parent.mkdir()
    broken.write_text("{", encoding="utf-8")
    assert cli_main(["dashboard", str(runs), "-o", str(tmp_path / "site")]) == 0
    err = capsys.readouterr().err
    assert f"skipped {broken}" in err and len(err.strip().splitlines()) == 1


def test_target_names_and_versions_are_text_never_markup(tmp_path):
    runs = fleet(tmp_path, runs=2)
    for path in runs.glob("*/*/results.json"):
        data = json.loads(path.read_text())
        data["run"]["target"]["name"] = '<img src=x onerror="window.__xss=1">Evil & Co'
        data["run"]["target"]["version"] = "</title><script>alert(1)</script>"
        path.write_text(json.dumps(data))
    assert cli_main(["dashboard", str(runs), "-o", str(tmp_path / "site")]) == 0
    html = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert "<img src=x" not in html and "<script>" not in html
    assert "&lt;img src=x onerror=&#34;window.__xss=1&#34;&gt;Evil &amp; Co" in html
