"""The kill-rate report of `smlite selfcheck` (harness/conformance/selfcheck.py): pure rendering, no target."""

from __future__ import annotations

import datetime as dt
import json
import re

from harness.conformance.selfcheck import VariantOutcome, report_data, write_report


def test_the_report_names_each_variant_the_scenario_that_caught_it_and_the_time(tmp_path):
    baseline = VariantOutcome("", "the correct reference gateway", False, [], "Conformant", 12.5)
    outcomes = [
        VariantOutcome(
            "print-allowed",
            "printing <script>alert(1)</script> allowed",
            True,
            ["T-print: the SM Portal does not offer printing", "another"],
            "Not conformant",
            3.25,
        ),
        VariantOutcome("no-private-marker", "no Sensitivity header", False, [], "Conformant", 9.0),
    ]
    started = dt.datetime(2026, 11, 28, 15, 0, tzinfo=dt.UTC)
    data = report_data(baseline, outcomes, "20261128T150000Z-abcd", started, started + dt.timedelta(seconds=30))
    index = write_report(data, tmp_path)

    assert index == tmp_path / "selfcheck-20261128T150000Z-abcd" / "index.html"
    saved = json.loads((index.parent / "selfcheck.json").read_text(encoding="utf-8"))
    assert saved["kill_rate"] == {"caught": 1, "total": 2, "percent": 50}
    assert saved["reference"] == {"verdict": "Conformant", "seconds": 12.5}
    first = saved["variants"][0]
    assert (first["variant"], first["caught"], first["caught_by"][0], first["seconds"]) == (
        "print-allowed",
        True,
        "T-print: the SM Portal does not offer printing",
        3.25,
    )
    assert saved["duration_s"] == 30.0

    page = index.read_text(encoding="utf-8")
    assert "kill rate\n1/2 = 50%" in page
    assert "T-print: the SM Portal does not offer printing" in page and "MISSED" in page
    assert "<script>" not in page and "&lt;script&gt;" in page  # autoescaped
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)  # self-contained
