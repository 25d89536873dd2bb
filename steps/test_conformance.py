"""Binds every feature file to pytest: one test per scenario and Examples row.

``SMLITE_FEATURES`` (set by ``smlite run --features PATH``) binds that file or folder instead: a
reproduction that exploration wrote (harness/exploration/minimise/reproduction.py). ``SMLITE_CORPUS``
(set by ``smlite run --corpus DIR``) binds the corpus's features as well (harness/conformance/corpus.py)."""

import os
from pathlib import Path

from pytest_bdd import scenarios

scenarios(
    os.environ.get("SMLITE_FEATURES") or str(Path(__file__).resolve().parent.parent / "features"),
    *([os.environ["SMLITE_CORPUS"]] if os.environ.get("SMLITE_CORPUS") else []),
)
