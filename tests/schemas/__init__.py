"""Validators the tests call on the report files: results.json (JSON Schema), junit.xml (junit-10.xsd).

Owns: loading docs/results.schema.json and tests/schemas/junit-10.xsd once, and turning every
violation into one AssertionError that lists them all (where in the document, and what is wrong).
jsonschema and xmlschema do the validating; nothing here checks a field by hand.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import xmlschema

REPO = Path(__file__).resolve().parent.parent.parent
RESULTS_SCHEMA = REPO / "docs" / "results.schema.json"
JUNIT_XSD = Path(__file__).resolve().parent / "junit-10.xsd"


@lru_cache(maxsize=1)
def results_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(RESULTS_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def results_errors(data: Any) -> list[str]:
    """Every violation of smlite-results/1 in ``data``, as "path: message" lines ([] when valid)."""
    errors = sorted(results_validator().iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    return [f"/{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in errors]


def validate_results(data: Any) -> None:
    """Raise AssertionError listing every violation when ``data`` is not a valid results.json document."""
    errors = results_errors(data)
    if errors:
        shown = "\n".join(errors[:40]) + (f"\n… and {len(errors) - 40} more" if len(errors) > 40 else "")
        raise AssertionError(f"results.json violates docs/results.schema.json ({len(errors)}):\n{shown}")


@lru_cache(maxsize=1)
def junit_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(JUNIT_XSD))


def validate_junit(path: Path) -> None:
    """Raise AssertionError listing every violation when ``path`` is not valid against junit-10.xsd."""
    errors = [f"{e.path}: {e.reason}" for e in junit_schema().iter_errors(str(path))]
    if errors:
        raise AssertionError(f"{path} violates junit-10.xsd ({len(errors)}):\n" + "\n".join(errors[:40]))
