"""Owns: checks of the behaviour catalogue itself: size, spread, and that every entry is real.

* fast: the catalogue has >= 40 deviations and >= 10 alternatives, spread over
  every table row, column, attribute and both definitions; every entry is
  switched somewhere in the gateway's code, and the code switches no name the
  catalogue lacks;
* slow: the differential probe (tools/independent/probe.py) — every behaviour
  changes what the gateway does, compared with the correct implementation.

    .venv/bin/python -m pytest tests/independent/test_catalogue.py -m "not slow"
    .venv/bin/python -m pytest tests/independent/test_catalogue.py
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tools.independent import behaviours as B

pytestmark = pytest.mark.independent
GATEWAY = Path(__file__).resolve().parents[2] / "tools" / "independent" / "gateway"


def _switched_names() -> set[str]:
    names: set[str] = set()
    for path in GATEWAY.glob("*.py"):
        names |= set(re.findall(r"""\bon\(\s*"([a-z0-9-]+)"\s*\)""", path.read_text(encoding="utf-8")))
    return names


def test_the_catalogue_has_enough_deviations_and_alternatives():
    assert len(B.deviations()) >= 40
    assert len(B.alternatives()) >= 10
    for entry in B.CATALOGUE:
        assert entry.kind in (B.DEVIATION, B.ALTERNATIVE, B.CONTRACT)
        assert entry.ref and entry.description and entry.source, entry.name


def test_the_deviations_cover_every_row_column_attribute_and_definition():
    refs = " | ".join(b.ref for b in B.deviations())
    for needed in [
        "T1-r1",
        "T2-r1",
        "T2-r2",
        "T3-r1",
        "T3-r2",
        "T3-r3",
        "T3-r4",
        "T3-r5",
        "T3-r6",
        "Mail Box",
        "MPP",
        "SM Portal",
        "Print",
        "Reply",
        "Reply All",
        "Expire",
        "Send Read Receipt",
        "definitions",
        "definition External",
        "All/External",
    ]:
        assert needed in refs, f"no deviation touches {needed}"


def test_every_entry_is_switched_in_the_gateway_and_nothing_else_is():
    switched = _switched_names()
    catalogued = set(B.BY_NAME)
    assert catalogued - switched == set(), "catalogued but never switched"
    assert switched - catalogued == set(), "switched but not catalogued"


@pytest.fixture(scope="module")
def correct_fingerprint():
    from tools.independent.probe import fingerprint

    return fingerprint("")


@pytest.mark.slow
@pytest.mark.sandbox
@pytest.mark.parametrize("name", list(B.BY_NAME))
def test_the_behaviour_changes_what_the_gateway_does(name, correct_fingerprint):
    from tools.independent.probe import fingerprint

    assert fingerprint(name) != correct_fingerprint, f"{name} behaves exactly like the correct implementation"
