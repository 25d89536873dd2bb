"""Binds every feature file to pytest: one test per scenario and Examples row."""

from pathlib import Path

from pytest_bdd import scenarios

scenarios(str(Path(__file__).resolve().parent.parent / "features"))
