"""Where a scenario result lives in features/: its file, its line, the lines of its steps.

Owns: mapping a results.json scenario (feature name, rendered name, pytest node id) back to the
.feature file, the scenario's line (the Examples row's line for an outline, as Cucumber does),
the Feature's line and tags, and each step's line. It parses the files with gherkin-official's
parser and pickle compiler (what pytest-bdd itself uses), so the lines are the files' own;
nothing here re-parses Gherkin by hand.

results.json does not carry the feature path or line yet (see docs/report.md); until it does,
they are computed here from the features folder the suite was collected from.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from gherkin.parser import Parser
from gherkin.pickles.compiler import Compiler

import harness

FEATURES_DIR = Path(harness.__file__).resolve().parent.parent / "features"


@dataclass(frozen=True)
class FeatureInfo:
    uri: str  # relative to the repository: features/<file>.feature
    name: str
    line: int
    description: str
    tags: tuple[tuple[str, int], ...]  # (name with @, line)


@dataclass(frozen=True)
class Location:
    feature: FeatureInfo
    name: str  # the scenario's name, outline values filled in
    keyword: str  # "Scenario" or "Scenario Outline" (as the file words it)
    line: int  # the Scenario line, or the Examples row's line for an outline
    scenario_line: int
    row: int | None  # 1-based index of the Examples row (across all Examples of the outline)
    param_id: str  # the Examples row as pytest-bdd names it in the node id: values joined by "-"
    steps: tuple[tuple[str, int], ...]  # (text, line) of each step, in order
    tags: tuple[tuple[str, int], ...]


def _walk(node: Any) -> Iterator[dict]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _locations_of(path: Path, root: Path) -> list[Location]:
    document: Any = Parser().parse(path.read_text(encoding="utf-8"))  # gherkin's TypedDict, given a "uri"
    uri = path.relative_to(root.parent).as_posix()
    document["uri"] = uri
    feature = document.get("feature")
    if not feature:
        return []
    info = FeatureInfo(
        uri,
        feature["name"],
        feature["location"]["line"],
        (feature.get("description") or "").strip(),
        tuple((t["name"], t["location"]["line"]) for t in feature.get("tags", [])),
    )
    nodes = {n["id"]: n for n in _walk(feature) if isinstance(n.get("id"), str) and "location" in n}
    scenarios = {n["id"]: n for n in _walk(feature) if "examples" in n and "steps" in n}
    rows: dict[str, tuple[int, list[str]]] = {}
    for scenario in scenarios.values():
        index = 0
        for examples in scenario["examples"]:
            for row in examples.get("tableBody", []):
                index += 1
                rows[row["id"]] = (index, [c["value"] for c in row["cells"]])
    tag_lines = {
        n["id"]: n["location"]["line"]
        for n in _walk(feature)
        if n.get("name", "").startswith("@") and isinstance(n.get("id"), str)
    }
    found = []
    for pickle in Compiler().compile(document):
        scenario = scenarios[pickle["astNodeIds"][0]]
        row_id = pickle["astNodeIds"][1] if len(pickle["astNodeIds"]) > 1 else None
        found_row = rows.get(row_id) if row_id else None
        row_index: int | None = found_row[0] if found_row else None
        values = found_row[1] if found_row else []
        steps = tuple((step["text"], nodes[step["astNodeIds"][0]]["location"]["line"]) for step in pickle["steps"])
        tags = tuple((t["name"], tag_lines.get(t["astNodeId"], info.line)) for t in pickle.get("tags", []))
        found.append(
            Location(
                info,
                pickle["name"],
                scenario["keyword"],
                pickle["location"]["line"],
                scenario["location"]["line"],
                row_index,
                "-".join(values),
                steps,
                tags,
            )
        )
    return found


@lru_cache(maxsize=4)
def _index(root: Path) -> tuple[Location, ...]:
    return tuple(loc for path in sorted(root.glob("**/*.feature")) for loc in _locations_of(path, root))


def _param_id(node_id: str) -> str:
    match = re.search(r"\[(.*)\]$", node_id)
    return match.group(1) if match else ""


def locate(scenario_id: str, feature: str, name: str, root: Path = FEATURES_DIR) -> Location | None:
    """The scenario's place in ``root`` (features/), or None where no file holds it.

    Matched by feature name and rendered scenario name; where several Examples rows render the same
    name, by the row's values as they appear in the pytest node id."""
    if not root.is_dir():
        return None
    candidates = [loc for loc in _index(root) if loc.name == name and loc.feature.name == feature] or [
        loc for loc in _index(root) if loc.name == name
    ]
    if len(candidates) > 1:
        param = _param_id(scenario_id)
        candidates = [loc for loc in candidates if loc.param_id == param] or candidates[:0]
    return candidates[0] if len(candidates) == 1 else None


def step_lines(location: Location, texts: list[str]) -> list[int | None]:
    """The line of each step that ran, matched in order to the pickle's steps by text."""
    lines: list[int | None] = []
    position = 0
    for text in texts:
        for offset, (pickle_text, line) in enumerate(location.steps[position:]):
            if pickle_text == text:
                lines.append(line)
                position += offset + 1
                break
        else:
            lines.append(None)
    return lines
