"""The suite reaches a target only over the network: nothing the suite runs imports the reference gateway.

What a vendor cannot do, the suite must not do either. The rule walks the import
graph transitively from every module of steps/ and from the pytest plugin, so a
new module or a new import anywhere on that path is covered without a list to keep.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GATEWAY = "harness.gateway"


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return modules


def module_file(root: Path, name: str) -> Path | None:
    base = root.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def gateway_imports(root: Path, starts: list[str]) -> dict[str, list[str]]:
    """Each module reachable from ``starts`` (within ``root``) that imports the gateway, with the path to it."""
    paths = {name: [name] for name in starts}
    todo, offenders = list(starts), {}
    while todo:
        name = todo.pop()
        path = module_file(root, name)
        if path is None:
            continue
        for imported in sorted(imported_modules(path)):
            if imported == GATEWAY or imported.startswith(GATEWAY + "."):
                offenders[name] = paths[name] + [imported]
                continue
            parts = imported.split(".")
            for depth in range(1, len(parts) + 1):  # a package's __init__ runs too
                prefix = ".".join(parts[:depth])
                if prefix not in paths and module_file(root, prefix) is not None:
                    paths[prefix] = paths[name] + [prefix]
                    todo.append(prefix)
    return offenders


def suite_modules(root: Path) -> list[str]:
    return [f"steps.{p.stem}" for p in sorted((root / "steps").glob("*.py"))] + ["harness.conformance.plugin"]


def test_nothing_the_suite_runs_imports_the_gateway():
    assert gateway_imports(ROOT, suite_modules(ROOT)) == {}


def test_the_rule_fails_when_a_step_imports_the_gateway(tmp_path):
    for relative in (
        "steps/__init__.py",
        "harness/__init__.py",
        "harness/conformance/__init__.py",
        "harness/conformance/plugin.py",
        "harness/gateway/__init__.py",
        "harness/gateway/policy.py",
    ):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("")
    (tmp_path / "steps" / "helpers.py").write_text("from harness.gateway import policy\n")
    (tmp_path / "steps" / "sneaky_steps.py").write_text("import steps.helpers\n")
    offenders = gateway_imports(tmp_path, suite_modules(tmp_path))
    assert offenders["steps.helpers"] == ["steps.sneaky_steps", "steps.helpers", "harness.gateway"] or offenders[
        "steps.helpers"
    ][-1].startswith("harness.gateway")
    assert set(offenders) == {"steps.helpers"}


def test_the_gateway_never_imports_the_suites_oracle():
    gateway = sorted((ROOT / "harness" / "gateway").glob("*.py"))
    assert gateway, "the reference gateway's modules are missing"
    for path in gateway:
        harness_imports = {
            m for m in imported_modules(path) if m.startswith("harness") and not m.startswith("harness.gateway")
        }
        assert harness_imports == set(), f"{path.name} imports {harness_imports}"
