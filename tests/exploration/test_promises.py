"""The source as promises: every promise has a level of the policy, the words it rests on and what breaks
it; the table's cells are the source model's; docs/exploration.md's table is generated from the module."""

from __future__ import annotations

from pathlib import Path

from harness import policy
from harness.source_model import promises as P
from harness.source_model import source

DOC = Path(__file__).resolve().parents[2] / "docs" / "exploration.md"


def test_every_promise_has_a_level_words_and_what_breaks_it():
    assert len(P.PROMISES) >= 24
    for promise in P.PROMISES.values():
        assert promise.level in (policy.SOURCE, policy.DERIVED, policy.CONTRACT), promise
        assert promise.kind in P.KINDS, promise
        assert len(promise.words) > 20 and len(promise.breaks) > 10, promise


def test_every_required_cell_of_the_tables_is_a_promise_at_its_standings_level():
    for row in source.rows():
        for column, cell in row.cells.items():
            key = P.cell_key(row.ref, column)
            if cell.required:
                assert P.promise(key).level == policy.level_of(cell.standing)
                assert cell.value in P.promise(key).words
            else:
                assert key not in P.PROMISES  # the source is silent: observed, never promised


def test_every_kind_is_promised_and_each_level_is_used():
    assert {p.kind for p in P.PROMISES.values()} == set(P.KINDS)
    assert all(n > 0 for n in P.by_level().values())


def test_the_promise_table_of_docs_exploration_is_current():
    assert P.markdown_table() in DOC.read_text(encoding="utf-8"), (
        "docs/exploration.md's promise table is out of date: paste harness.source_model.promises.markdown_table()"
    )
