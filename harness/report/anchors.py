"""The report's anchors: the public, stable names of its parts (documented in docs/report.md).

Owns every ``id`` a link from outside may point at, built from the source
reference and the case, never from run order or pytest node ids, so that a
link into one run's report finds the same thing in the next run's:

* a source-case scenario: its row ref, plus the case for rows that stand for
  several cases: ``#T3-r4``, ``#T1-r1-mac-external``; a scenario of another
  group that checks a row's cells: its group, the ref and its name's words:
  ``#attributes-T2-r1-an-external-recipient-can-reply-all-…``;
* any other scenario: its group and its name: ``#definitions-creating-a-definition-is-refused-and-nothing-changes``;
* a source-table row ``#row-T3-r4``, a cell ``#cell-T3-r4-mpp`` (columns
  ``mail-box``, ``mpp``, ``sm-portal``), a defect ``#defect-D1``;
* in the embedded source document: ``#src-T3-r4`` (the row's words),
  ``#src-T3-r4-mpp`` (a cell's words), ``#src-attr-print`` (an attribute),
  ``#src-def-All`` (a definition).

Names that would collide (two scenarios of the same case) are told apart by
``-2``, ``-3`` in the order of their ids, which do not depend on run order.
"""

from __future__ import annotations

import re

from harness import results as R
from harness.source_model import source

COLUMN_SLUGS = {"Mail Box": "mail-box", "MPP": "mpp", "Message in SM Portal": "sm-portal"}
ATTRIBUTE_SLUGS = {
    "Allow External Recipients to Print": "print",
    "Allow External Recipients to Reply": "reply",
    "Allow External Recipients to Reply All": "reply-all",
    "Expire Secure Messages for External Recipients After": "expire",
    "Send Read Receipt": "read-receipt",
}
# Longest first: "Mimecast Personal Portal" must not be taken for a shorter name.
_APP_NAMES = sorted(
    ((name, app.slug) for app in source.APPLICATIONS.values() for name in (app.name, *app.aliases)),
    key=lambda p: -len(p[0]),
)


def words(text: str) -> str:
    """Lower-case words joined by '-': 'The All definition (x)' -> 'the-all-definition-x'."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def column_slug(column: str) -> str:
    return COLUMN_SLUGS.get(column, words(column))


def row_anchor(ref: str) -> str:
    return f"row-{ref}"


def cell_anchor(ref: str, column: str) -> str:
    return f"cell-{ref}-{column_slug(column)}"


def source_anchor(ref: str, column: str | None = None) -> str:
    """The words of a row (or of one of its cells) in the embedded source document."""
    return f"src-{ref}" + (f"-{column_slug(column)}" if column else "")


def attribute_anchor(name: str) -> str:
    return f"src-attr-{ATTRIBUTE_SLUGS.get(name, words(name))}"


def _case_of(scenario: R.ScenarioResult, row: source.SourceRow) -> str:
    """'mac-external' for a scenario of a row that stands for several cases; '' otherwise."""
    if len(row.cases) < 2:
        return ""
    text = f"{scenario.name} {scenario.id}"
    app = next((slug for name, slug in _APP_NAMES if name.lower() in text.lower()), "")
    definition = re.search(r"\b(All|External)\b", scenario.name) or re.search(r"\b(All|External)\b", scenario.id)
    return "-".join(part for part in (app, definition.group(1).lower() if definition else "") if part)


def _base(scenario: R.ScenarioResult) -> str:
    refs = list(scenario.refs) + [c.ref for c in scenario.cells]
    known = {r.ref: r for r in source.rows()}
    ref = next((r for r in refs if r in known), None)
    if ref is not None:
        row = known[ref]
        case = _case_of(scenario, row)
        base = f"{ref}-{case}" if case else ref
        if scenario.table == row.table:
            return base
        # another group's check of the row: its name tells it from the group's other checks of the same row
        name = re.sub(rf"^\s*{re.escape(ref)}\b", "", scenario.name)
        return f"{words(scenario.table)}-{ref}-{words(name)}"
    return f"{words(scenario.table)}-{words(scenario.name)}"


def scenario_anchors(scenarios: list[R.ScenarioResult]) -> list[str]:
    """One stable anchor per scenario, in the scenarios' order (see the module docstring)."""
    bases = [_base(s) for s in scenarios]
    taken: dict[str, list[int]] = {}
    for i, base in enumerate(bases):
        taken.setdefault(base, []).append(i)
    anchors = list(bases)
    for base, members in taken.items():
        if len(members) > 1:
            ordered = sorted(members, key=lambda i: (scenarios[i].id, scenarios[i].name, i))
            for n, i in enumerate(ordered[1:], 2):
                anchors[i] = f"{base}-{n}"
    return anchors
