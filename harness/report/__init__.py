"""The compliance report: RunResults in, self-contained files out.

Owns nothing but the wiring of its modules, each kept apart:

* ``viewtypes``     the view model's types and pure helpers (statuses, worst-wins order, labels);
* ``view``          the view model: RunResults + harness.source_model.source -> what the page shows;
* ``evidence``      one piece of evidence as labelled text (emails, exchanges, notes);
* ``render``        index.html (Jinja2) and the run directory (``write_report``, ``update_latest``);
* ``junit``         junit.xml;
* ``cucumber``      cucumber.json;
* ``compare``       two runs side by side (``write_comparison``, ``compare_rows``);
* ``browser_check`` opens a written report in headless Chromium and checks it (and prints it, and
  measures it at a phone's width);
* ``anchors``       the stable anchors, part of the report's interface;
* ``source_doc``    the source document's text (package data) cut into anchored rows, cells, attributes;
* ``svg``           the inline SVG pictures (per-table overview, per-target history);
* ``loading``       results.json in, tolerant of the optional fields (cell ``level``, ``missing``);
* ``dashboard``     `smlite dashboard`: one page across runs and targets;
* ``allure``        Allure result files (``smlite run --allure``);
* ``pictures``      what the recipients saw, rendered by headless Chromium while the suite runs;
* ``chromium_pipe`` that Chromium, driven over its DevTools pipe;
* ``gallery``       those pictures as index.html's "What the recipients saw", bounded.

Rendering never collects: it reads ``harness.results`` objects only.
"""

from harness.report.compare import compare_rows, write_comparison
from harness.report.render import update_latest, write_report

__all__ = ["compare_rows", "update_latest", "write_comparison", "write_report"]
