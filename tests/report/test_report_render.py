"""The run directory: files, results.json round trip, escaping, no remote reference, latest pointer."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from markupsafe import escape

from harness import results as R
from harness.conformance.record import ScenarioRecord
from harness.report import render, update_latest, write_report
from harness.report.evidence import inert_html

from .htmlq import parse
from .sample import XSS_BODY, XSS_HTML, XSS_SUBJECT, full_run, scenario


def test_write_report_writes_the_four_files(tmp_path, results):
    index = write_report(results, tmp_path / "a" / "b")
    assert index == tmp_path / "a" / "b" / "index.html"
    assert sorted(p.name for p in index.parent.iterdir()) == [
        "cucumber.json",
        "index.html",
        "junit.xml",
        "results.json",
    ]


def test_results_json_round_trips(report, results):
    index, _, _ = report
    loaded = R.RunResults.load(index.parent / "results.json")
    assert loaded == results
    assert loaded.verdict() == "Not conformant"


def test_evidence_is_escaped_not_markup(report):
    _, tree, html = report
    assert XSS_SUBJECT not in html and "<script>alert" not in html and "<img src=x" not in html
    assert str(escape(XSS_SUBJECT)) in html  # markupsafe: &lt; &gt; &#34; ...
    scripts = tree.find_all("script")
    assert len(scripts) == 1 and scripts[0].attrs.get("nonce")  # ours, allowed by the CSP's nonce
    for element in tree.iter():
        assert not [a for a in element.attrs if a.startswith("on")], (element.tag, element.attrs)
        assert element.tag not in ("img", "object", "embed", "link", "base", "form")
    subjects = [dd.text() for dd in tree.find_all("dd", cls="f-subject")]
    assert XSS_SUBJECT in subjects  # shown as text, exactly
    assert any(XSS_BODY in pre.text() for pre in tree.find_all("pre", cls="body-text"))


def test_html_bodies_go_to_a_sandboxed_frame_only_on_demand(report):
    _, tree, _ = report
    frames = tree.find_all("iframe")
    assert frames
    for frame in frames:
        assert frame.attrs["sandbox"] == ""  # no allow-scripts, no allow-same-origin
        assert "srcdoc" not in frame.attrs and "src" not in frame.attrs
    failing = [f for f in frames if "parent.__xss" in f.attrs["data-srcdoc"]]
    assert failing and "https://" not in failing[0].attrs["data-srcdoc"]
    assert inert_html(XSS_HTML).count("data:,remote:") == 1


def test_no_remote_reference_outside_evidence(report):
    _, tree, html = report
    csp = tree.find("meta", http_equiv="Content-Security-Policy").attrs["content"]
    assert "default-src 'none'" in csp and "img-src data:" in csp
    assert "@import" not in html and "<link" not in html and "url(" not in html.split("</style>")[0]
    for element in tree.iter():
        for name in ("src", "href", "action", "data", "poster", "background"):
            value = element.attrs.get(name, "")
            assert not re.match(r"\s*(https?:)?//", value), (element.tag, name, value)
        for name in ("href",):
            value = element.attrs.get(name)
            if value is not None:
                assert value.startswith("#") or value in ("results.json", "junit.xml", "cucumber.json"), value
    outside = []

    def walk(node, in_evidence):
        in_evidence = in_evidence or "evidence" in node.classes
        for name, value in node.attrs.items():
            if re.search(r"https?://", value) and not in_evidence:
                outside.append((node.tag, name, value))
        for child in node.children:
            if isinstance(child, str):
                if re.search(r"https?://", child) and not in_evidence:
                    outside.append((node.tag, child))
            else:
                walk(child, in_evidence)

    walk(tree, False)
    assert outside == []
    assert "https://tracker.example" in html  # it is there, as escaped evidence text


def test_template_is_autoescaped():
    env = render.environment()
    assert env.autoescape("report.html.j2") is True and env.autoescape("compare.html.j2") is True
    assert "&lt;b&gt;" in env.from_string("{{ x }}").render(x="<b>")


def test_exchange_evidence_from_the_recorder_renders(tmp_path):
    results = full_run()
    record = ScenarioRecord()

    class Exchange:
        channel, request, status, answer, elapsed_s = (
            "smtp",
            "DATA (message to erik@example.org)",
            554,
            "554 5.7.0 Unknown Secure Messaging definition 'Confidential'",
            0.0123,
        )

    record.add_exchange(Exchange())
    record.add_evidence("note", "What happened", {"text": "nothing arrived within 10 s"})
    target = scenario(results, "T2-r2")
    target.evidence = record.evidence
    tree = parse(write_report(results, tmp_path).read_text(encoding="utf-8"))
    text = " ".join(e.text() for e in tree.find_all("div", cls="evidence"))
    assert "DATA (message to erik@example.org)" in text and "Unknown Secure Messaging definition" in text
    assert "12.3 ms" in text and "nothing arrived within 10 s" in text


def test_full_run_renders_fast_and_small(tmp_path):
    results = full_run()
    started = time.perf_counter()
    index = write_report(results, tmp_path)
    elapsed = time.perf_counter() - started
    assert elapsed < 2.0
    assert index.stat().st_size < 400_000


def test_update_latest_points_at_the_newest_run(tmp_path, results):
    root = tmp_path / "reports"
    first = write_report(results, root / "run-1").parent
    second = write_report(results, root / "run-2").parent
    latest = update_latest(root, first)
    assert latest.is_symlink() and latest.resolve() == first.resolve()
    assert os.readlink(latest) == "run-1"  # relative: the reports tree can move
    update_latest(root, second)
    assert latest.resolve() == second.resolve() and (latest / "index.html").is_file()
    assert sorted(p.name for p in root.iterdir()) == ["latest", "run-1", "run-2"]


def test_update_latest_falls_back_to_a_copy(tmp_path, results, monkeypatch):
    root = tmp_path / "reports"
    first = write_report(results, root / "run-1").parent
    update_latest(root, first)

    def no_symlinks(*args, **kwargs):
        raise OSError("symlinks not permitted")

    monkeypatch.setattr(render.os, "symlink", no_symlinks)
    second = root / "run-2"
    write_report(R.RunResults(run=results.run, scenarios=[]), second)
    latest = update_latest(root, second)
    assert latest.is_dir() and not latest.is_symlink()
    assert (latest / "index.html").read_text(encoding="utf-8") == (second / "index.html").read_text(encoding="utf-8")
    again = update_latest(root, first)  # a copy is replaced by the next copy
    assert (again / "results.json").read_text(encoding="utf-8") == (first / "results.json").read_text(encoding="utf-8")
    assert sorted(p.name for p in root.iterdir()) == ["latest", "run-1", "run-2"]


@pytest.mark.parametrize("name", ["report.html.j2", "compare.html.j2"])
def test_templates_are_self_contained(name):
    text = (Path(render.TEMPLATES) / name).read_text(encoding="utf-8")
    assert "{% include" not in text and "{% extends" not in text and "{% import" not in text
    assert not re.search(r"https?://", text)


def test_huge_bodies_are_cut_in_the_page_but_kept_in_results_json(tmp_path):
    results = full_run()
    email = scenario(results, "T3-r1").evidence[0]
    email.data["text"] = "x" * 300_000
    index = write_report(results, tmp_path)
    html = index.read_text(encoding="utf-8")
    assert "more characters: see results.json" in html and "x" * 300_000 not in html
    loaded = R.RunResults.load(tmp_path / "results.json")
    assert scenario(loaded, "T3-r1").evidence[0].data["text"] == "x" * 300_000
