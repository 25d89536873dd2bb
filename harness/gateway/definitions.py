"""The Secure Messaging Lite definitions catalogue, verbatim from the source.

Owns the two definitions (All, External), their five attributes with the
source's values, definition-name matching (case-insensitive, written back with
the canonical spelling) and the in-memory catalogue the Administration Console
lists. The catalogue is read-only unless a broken variant says otherwise.
"""

from __future__ import annotations

import builtins
import copy
import threading

ATTRIBUTES: list[dict[str, str]] = [
    {"name": "Allow External Recipients to Print", "value": "False"},
    {"name": "Allow External Recipients to Reply", "value": "True"},
    {"name": "Allow External Recipients to Reply All", "value": "True"},
    {"name": "Expire Secure Messages for External Recipients After", "value": "Never Expire"},
    {"name": "Send Read Receipt", "value": "No"},
]

DEFINITIONS: list[dict] = [
    {
        "name": "All",
        "description": "This is a legacy from CCM needed for consistency with CCM. This means that "
        "Secure Messaging should be applied to messages for all recipients.",
        "attributes": ATTRIBUTES,
    },
    {
        "name": "External",
        "description": "This offers the same behavior as Secure Messaging, where Secure Messaging "
        "is only applied to external recipients.",
        "attributes": ATTRIBUTES,
    },
]

# only listed by the broken variant "third-definition"
THIRD_DEFINITION = {
    "name": "Internal",
    "description": "Secure Messaging is applied only to internal recipients.",
    "attributes": ATTRIBUTES,
}

CANONICAL = {d["name"].lower(): d["name"] for d in DEFINITIONS}


def canonical_name(value: str | None) -> str | None:
    """'all' -> 'All', 'EXTERNAL' -> 'External'; None for anything else."""
    if value is None:
        return None
    return CANONICAL.get(value.strip().lower())


class Catalogue:
    """The definitions the Administration Console lists (deep copies out)."""

    def __init__(self, variant: str = "") -> None:
        self._lock = threading.Lock()
        self._defs = copy.deepcopy(DEFINITIONS)
        if variant == "third-definition":
            self._defs.append(copy.deepcopy(THIRD_DEFINITION))

    def list(self) -> builtins.list[dict]:
        with self._lock:
            return copy.deepcopy(self._defs)

    def get(self, name: str) -> dict | None:
        with self._lock:
            for d in self._defs:
                if d["name"].lower() == name.strip().lower():
                    return copy.deepcopy(d)
        return None

    def set_attributes(self, name: str, attributes: builtins.list[dict[str, str]]) -> dict | None:
        """Only reachable in the broken variant 'definition-editable'."""
        with self._lock:
            for d in self._defs:
                if d["name"].lower() == name.strip().lower():
                    current = {a["name"]: a for a in d["attributes"]}
                    for a in attributes:
                        if a["name"] in current:
                            current[a["name"]]["value"] = str(a["value"])
                    return copy.deepcopy(d)
        return None
