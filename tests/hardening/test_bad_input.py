"""Bad input, counted: every row of the catalogue against the real gateway (SMTP, HTTP) and the CLI.

Each row must be handled - a clear refusal, or correct acceptance with each
distinct recipient served exactly once - and afterwards the gateway must still
carry a normal secure message end to end (SMTP in, notification in Mailpit,
the portal link opens the message). One sandbox for the whole module.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .catalogue import CATALOGUE, MAX_BYTES, Case, Ctx

pytestmark = pytest.mark.sandbox

SANDBOX = {"gateway": {"max_message_bytes": MAX_BYTES}}


def test_the_catalogue_is_big_enough_and_unique():
    ids = [case.id for case in CATALOGUE]
    assert len(ids) == len(set(ids)), "duplicate catalogue ids"
    assert len(ids) >= 30
    assert {case.channel for case in CATALOGUE} == {"smtp", "http", "cli"}


def test_every_row_is_documented():
    doc = (Path(__file__).resolve().parents[2] / "docs" / "hardening.md").read_text(encoding="utf-8")
    missing = [case.id for case in CATALOGUE if f"| `{case.id}` | {case.channel} |" not in doc]
    assert missing == [], f"docs/hardening.md does not list {missing}"


@pytest.mark.parametrize("case", CATALOGUE, ids=[case.id for case in CATALOGUE])
def test_bad_input_is_handled(case: Case, target, tally, tmp_path):
    with tally.bad_input(case.id, case.channel):
        case.probe(Ctx(target, tmp_path))
        if case.channel != "cli":
            target.roundtrip()
