"""The suite reaches a target only over the network: no step imports the reference gateway.

What a vendor cannot do, the suite must not do either. Checked on the import
graph of steps/ and of the harness modules the steps use.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUITE_SIDE = [*sorted((ROOT / "steps").glob("*.py")),
              *[ROOT / "harness" / f"{m}.py" for m in ("observe", "classify", "profile", "plugin", "record",
                                                       "results", "source", "mailbox", "errors")],
              *sorted((ROOT / "harness" / "drivers").glob("*.py"))]


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


def test_suite_side_never_imports_the_gateway():
    offenders = {str(p.relative_to(ROOT)): sorted(m for m in imported_modules(p) if m.startswith("harness.gateway"))
                 for p in SUITE_SIDE}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_gateway_never_imports_the_suites_oracle():
    gateway = sorted((ROOT / "harness" / "gateway").glob("*.py"))
    assert gateway, "the reference gateway's modules are missing"
    for path in gateway:
        harness_imports = {m for m in imported_modules(path) if m.startswith("harness") and
                           not m.startswith("harness.gateway")}
        assert harness_imports == set(), f"{path.name} imports {harness_imports}"
