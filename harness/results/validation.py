"""Checking a results.json against docs/results.schema.json, and remembering the files that passed.

Owns ``violations(raw, data)``: every violation of ``smlite-results/1`` as "where: what" ([] when
valid), with jsonschema on the schema prepared once:

* ``additionalProperties: false`` lifted everywhere: a newer harness may add optional members
  without a new schema version (the schema says so), and this one must still render its run;
  every type, enumeration, pattern and required member is still checked;
* ``$ref``s into ``$defs`` inlined (the schema has no recursive reference): jsonschema then skips
  the reference lookups that are a third of its time on a 1 MB file.

Validation costs about half a second per 1 MB file on the shared 2-core machine, which a dashboard
over fifty runs would pay every time; so the SHA-256 of each file that passed (together with the
schema's) is remembered as an empty file in ``${XDG_CACHE_HOME:-~/.cache}/smlite/valid-results/``
(0700) and such a file is not validated again. Changing one byte of the file or of the schema
changes the name; a cache that cannot be written is simply not used.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "docs" / "results.schema.json"
MAX_SHOWN = 200  # characters of one violation's message


def _open(schema: Any) -> Any:
    """The schema with ``additionalProperties: false`` lifted everywhere."""
    if isinstance(schema, dict):
        return {k: _open(v) for k, v in schema.items() if not (k == "additionalProperties" and v is False)}
    if isinstance(schema, list):
        return [_open(v) for v in schema]
    return schema


def _inline(node: Any, defs: Mapping[str, Any], depth: int = 0) -> Any:
    """``node`` with each ``#/$defs/...`` reference replaced by its definition (siblings kept in an allOf)."""
    if depth > 32:
        raise ValueError("recursive $ref in docs/results.schema.json")
    if isinstance(node, dict):
        ref = node.get("$ref")
        rest = {k: _inline(v, defs, depth) for k, v in node.items() if k not in ("$ref", "$defs")}
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            target = _inline(defs[ref.removeprefix("#/$defs/")], defs, depth + 1)
            return {"allOf": [target], **rest} if set(rest) - {"description"} else target
        return rest
    if isinstance(node, list):
        return [_inline(v, defs, depth) for v in node]
    return node


@lru_cache(maxsize=1)
def _schema() -> tuple[Any, str]:
    """The jsonschema validator and the schema file's digest."""
    import jsonschema

    raw = SCHEMA_PATH.read_bytes()
    schema = _open(json.loads(raw))
    try:
        schema = _inline(schema, schema.get("$defs", {}))
    except ValueError:
        pass  # a recursive schema is validated as it is, references and all
    return jsonschema.Draft202012Validator(schema), hashlib.sha256(raw).hexdigest()[:16]


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "smlite" / "valid-results"


def violations(raw: bytes, data: Any) -> list[str]:
    """Each violation of smlite-results/1 in ``data`` (parsed from ``raw``) as "where: what"; [] when valid."""
    validator, schema_digest = _schema()
    marker = _cache_dir() / f"{schema_digest}-{hashlib.sha256(raw).hexdigest()}"
    if marker.exists():
        return []
    if validator.is_valid(data):  # the fast path; the errors are collected only for a bad file
        with contextlib.suppress(OSError):
            marker.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            marker.touch()
        return []
    errors = sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    return [f"/{'/'.join(map(str, e.absolute_path))}: {e.message[:MAX_SHOWN]}" for e in errors]
