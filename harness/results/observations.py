"""What a scenario observed, kept so that a judgement can be made again later without the target.

Owns ``ObservationRecord`` (one recipient's judged columns: the question asked of the source, the
expected cells, what each column showed — value, detail, derived and contract findings, links, the
raw message where there was one — and which of the scenario's cells that judgement produced) and
``RunObservations`` (every scenario's records, and their raw messages by sha256). The steps fill
them through harness/conformance/record.py; ``smlite verify`` (harness/conformance/verify.py)
judges them again; the Allure writer and the pictures read the raw messages. Pure data: nothing
here reaches a target.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class ObservedColumn:
    """One column as a recipient saw it (harness/observation/values.py's ``Observation``, as data)."""

    value: str
    detail: str = ""
    derived: list[str] = field(default_factory=list)
    contract: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    item_id: str = ""
    raw_sha256: str = ""  # the raw message this column classified (RunObservations.messages), if any

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ObservedColumn:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class ObservationRecord:
    """One call of the suite's judge: what was asked, what was seen, which cells it gave."""

    recipient: str
    basis: str  # harness/conformance/judge.py's Basis value
    cells: dict[str, dict[str, Any]]  # column -> {"value": str | None, "standing": str}
    observed: dict[str, ObservedColumn | None]  # column -> what it showed; None: not observable
    first_cell: int  # index of the first cell this judgement added to the scenario's cells
    cell_count: int
    question: dict[str, Any] = field(default_factory=dict)  # app, definition, sender/recipient internal
    marker: str | None = None  # the token only the original content carries

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ObservationRecord:
        data = dict(data)
        data["observed"] = {
            column: None if seen is None else ObservedColumn.from_dict(seen)
            for column, seen in dict(data.get("observed") or {}).items()
        }
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


def message_digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


@dataclass
class RunObservations:
    """Every scenario's observation records (by scenario id) and the raw messages they name."""

    scenarios: dict[str, list[ObservationRecord]] = field(default_factory=dict)
    messages: dict[str, bytes] = field(default_factory=dict)  # sha256 -> raw message

    def add(self, scenario_id: str, payload: dict[str, Any]) -> None:
        """One scenario's hand-over payload: ``{"records": [...], "messages": {sha: base64}}``."""
        self.scenarios[scenario_id] = [ObservationRecord.from_dict(r) for r in payload.get("records", [])]
        for digest, encoded in (payload.get("messages") or {}).items():
            self.messages[digest] = base64.b64decode(encoded)

    def raw_messages_of(self, scenario_id: str) -> list[tuple[str, ObservationRecord, str, bytes]]:
        """(column, record, sha256, raw) of every raw message a scenario's records classified."""
        found = []
        for record in self.scenarios.get(scenario_id, []):
            for column, seen in record.observed.items():
                if seen is not None and seen.raw_sha256 in self.messages:
                    found.append((column, record, seen.raw_sha256, self.messages[seen.raw_sha256]))
        return found
