"""junit.xml and cucumber.json: they parse, their counts match results, their shapes are standard."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from harness import results as R
from harness.report.cucumber import build_cucumber
from harness.report.junit import write_junit
from harness.source_model import source

from .sample import full_run, scenario


def _junit(results, tmp_path):
    return ET.parse(write_junit(results, tmp_path / "junit.xml")).getroot()


def test_junit_parses_and_counts_match(report, results):
    index, _, _ = report
    root = ET.parse(index.parent / "junit.xml").getroot()
    counts = results.counts()
    assert root.tag == "testsuites"
    assert int(root.get("tests")) == len(results.scenarios) == len(root.findall(".//testcase"))
    assert int(root.get("failures")) == counts[R.FAILED] == len(root.findall(".//failure"))
    assert int(root.get("errors")) == counts[R.HARNESS_ERROR] == len(root.findall(".//error"))
    skipped = counts[R.NOT_APPLICABLE] + counts[R.NOT_SPECIFIED]
    assert root.get("skipped") is None  # junit-10.xsd has no skipped on <testsuites>: per suite below
    assert sum(int(s.get("skipped")) for s in root.findall("testsuite")) == skipped == len(root.findall(".//skipped"))
    suites = {s.get("name").split(":")[0]: s for s in root.findall("testsuite")}
    assert list(suites) == list(source.TABLE_ORDER)  # the one order of the run's groups
    for key, per in results.per_table().items():
        suite = suites[key]
        assert int(suite.get("tests")) == sum(per.values()) == len(suite.findall("testcase"))
        assert int(suite.get("failures")) == per[R.FAILED]
        assert int(suite.get("skipped")) == per[R.NOT_APPLICABLE] + per[R.NOT_SPECIFIED]
        props = {p.get("name"): p.get("value") for p in suite.find("properties")}
        assert props["verdict"] == "Not conformant" and props["source_document"] == "000_99618b2f85010427"


def test_junit_outcomes(tmp_path):
    results = full_run()
    scenario(results, "T3-r3").status = R.HARNESS_ERROR
    scenario(results, "T3-r3").message = "HarnessError: Mailpit unreachable\x00\x1b[31m"  # control characters
    root = _junit(results, tmp_path)
    cases = {c.get("name"): c for c in root.iter("testcase")}
    failed = cases[scenario(results, "T3-r4").name].find("failure")
    assert failed.get("message").startswith("Mail Box of the internal recipient: expected Email with banner")
    assert "cell T3-r4 / Mail Box" in failed.text and failed.get("type") == "ConformanceFailure"
    error = cases[scenario(results, "T3-r3").name].find("error")
    assert error.get("message").startswith("HarnessError: Mailpit unreachable")
    na = next(c for c in root.iter("testcase") if "Mac, External" in c.get("name")).find("skipped")
    assert na.get("message") == "not applicable: the target lacks mac"
    silent = [c.find("skipped").get("message") for c in root.iter("testcase") if c.get("classname") == "smlite.other"]
    assert silent and all(m.startswith("not specified by the source: observed only, never judged: ") for m in silent)
    passed = cases[scenario(results, "T3-r1").name]
    assert passed.find("failure") is None and passed.find("error") is None and passed.find("skipped") is None


def test_cucumber_shape(report, results):
    index, _, _ = report
    features = json.loads((index.parent / "cucumber.json").read_text(encoding="utf-8"))
    assert isinstance(features, list) and features
    elements = [e for f in features for e in f["elements"]]
    assert len(elements) == len(results.scenarios)
    for feature in features:
        assert {"uri", "id", "keyword", "name", "description", "tags", "elements"} <= set(feature)
        assert isinstance(feature.get("line", 0), int)  # lines only where a feature file holds it
        assert feature["keyword"] == "Feature"
        for element in feature["elements"]:
            assert element["type"] == "scenario" and element["keyword"] in ("Scenario", "Scenario Outline")
            assert element["id"].startswith(feature["id"] + ";")
            assert all(t["name"].startswith("@") for t in element["tags"])
            assert element["steps"], element["name"]
            for step in element["steps"]:
                assert {"keyword", "name", "result", "match"} <= set(step)
                assert isinstance(step.get("line", 0), int)  # the file's own line where the step is found there
                assert step["result"]["status"] in ("passed", "failed", "skipped")
                assert isinstance(step["result"]["duration"], int)
    by_name = {e["name"]: e for e in elements}
    failing = by_name[scenario(results, "T3-r4").name]
    assert [s["result"]["status"] for s in failing["steps"]] == ["passed", "passed", "failed"]
    assert "expected Email with banner" in failing["steps"][-1]["result"]["error_message"]
    assert "@table:T3" in [t["name"] for t in failing["tags"]]
    na = next(e for e in elements if "Mac, External" in e["name"])
    assert {s["result"]["status"] for s in na["steps"]} == {"skipped"}
    assert failing["steps"][1]["result"]["duration"] == 410_000_000


def test_cucumber_carries_an_outcome_no_step_shows():
    results = full_run()
    broken = scenario(results, "T3-r3")
    broken.status, broken.message, broken.steps = R.HARNESS_ERROR, "HarnessError: no gateway", []
    element = next(e for f in build_cucumber(results) for e in f["elements"] if e["name"] == broken.name)
    assert element["after"][0]["result"]["status"] == "failed"
    assert (
        element["after"][0]["result"]["error_message"]
        == "harness error (says nothing about the target): HarnessError: no gateway"
    )
