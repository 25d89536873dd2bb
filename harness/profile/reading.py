"""Reading a profile file safely: size and nesting bounded before any parser sees it.

Owns ``read_table(path)`` (the file's settings as a dict, and whether it is smlite's own JSON form), and the
bounds: a file over 1 MiB is refused unread, nesting deeper than 32 is refused before the parser sees it
(tomllib and json recurse once per level and would raise RecursionError): ``bracket_depth``, ``value_depth``.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from harness.errors import UsageError
from harness.profile.fields import bad, cut

MAX_PROFILE_BYTES = 1 << 20  # a real profile is under 4 KiB
MAX_PROFILE_DEPTH = 32  # tables and arrays in tables; a real profile nests 3 deep


def too_deep(where: str) -> UsageError:
    return UsageError(
        "Target profile nested too deeply",
        f"{where}: more than {MAX_PROFILE_DEPTH} levels of tables and arrays (a profile needs 3)",
    )


def bracket_depth(text: str, *, toml: bool, stop_at: int | None = None) -> int:
    """The deepest nesting of ``[``/``{`` in TOML or JSON text, outside strings and (TOML) comments.

    A scan in one loop, no recursion, so it can run before a parser that recurses per level;
    it stops early once ``stop_at`` is reached. TOML's triple-quoted strings and literal
    ('...') strings are skipped whole; a quote inside a string escaped with a backslash too.
    """
    depth = deepest = 0
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if stop_at is not None and deepest >= stop_at:
                    return deepest
        elif char in "]}":
            depth = max(depth - 1, 0)
        elif char == "#" and toml:
            newline = text.find("\n", i)
            i = n if newline < 0 else newline
            continue
        elif char == '"' or (char == "'" and toml):
            triple = toml and text.startswith(char * 3, i)
            closing = char * 3 if triple else char
            j = i + len(closing)
            while j < n:
                if char == '"' and text[j] == "\\":
                    j += 2
                    continue
                if text.startswith(closing, j):
                    break
                if not triple and text[j] == "\n":
                    break  # an unterminated one-line string: the parser will say so
                j += 1
            if triple:  # a triple-quoted string may end with up to two more quotes
                while j + 3 < n and text[j + 3] == char:
                    j += 1
            i = j + len(closing)
            continue
        i += 1
    return deepest


def value_depth(value: Any, stop_at: int | None = None) -> int:
    """How deep dicts and lists nest in a parsed value (iteratively; stops early at ``stop_at``)."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            depth += 1
            deepest = max(deepest, depth)
            if stop_at is not None and deepest >= stop_at:
                return deepest
            stack.extend((child, depth) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def read_table(path: Path) -> tuple[dict[str, Any], bool]:
    """The settings of the profile file at ``path``, and whether it is smlite's own JSON form (profile.json)."""
    where = cut(str(path))
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_PROFILE_BYTES + 1)
    except OSError as exc:
        raise UsageError("Cannot read target profile", f"{where}: {exc.strerror or exc}") from None
    if len(raw) > MAX_PROFILE_BYTES:
        raise UsageError(
            "Target profile too large",
            f"{where}: more than {MAX_PROFILE_BYTES // 1024} KiB (a profile is a few hundred bytes of settings)",
        )
    internal = path.suffix == ".json"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(
            "Target profile is not valid TOML/JSON", f"{where}: not UTF-8 ({exc.reason} at byte {exc.start})"
        ) from None
    depth = bracket_depth(text, toml=not internal, stop_at=MAX_PROFILE_DEPTH + 1)
    if depth > MAX_PROFILE_DEPTH:
        raise too_deep(where)
    try:
        data = json.loads(text) if internal else tomllib.loads(text)
    except RecursionError:
        raise too_deep(where) from None
    except ValueError as exc:
        raise UsageError("Target profile is not valid TOML/JSON", f"{where}: {cut(str(exc), 200)}") from None
    if not isinstance(data, dict):
        raise bad(where, "the file must hold a table of settings")
    if value_depth(data, MAX_PROFILE_DEPTH + 1) > MAX_PROFILE_DEPTH:  # dotted keys nest without brackets
        raise too_deep(where)
    return data, internal
