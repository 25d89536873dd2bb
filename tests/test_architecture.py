"""The tree reads right: every package is a real package that says what it owns, docs/architecture.md
names each one, modules of harness/ stay small, and the layering of pyproject.toml holds.

The layering itself is checked by import-linter (``lint-imports``, run by the test command before
pytest); here it is run once more so that a broken contract also fails a plain ``pytest``.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TREES = ("harness", "steps", "tools", "bench")
MAX_LINES = 350  # docs/architecture.md: "A module near 350 lines: split it by job"


def packages() -> list[Path]:
    found = set()
    for tree in TREES:
        for module in (ROOT / tree).rglob("*.py"):
            if "__pycache__" not in module.parts:
                found.add(module.parent)
    return sorted(found)


def test_every_folder_of_python_is_a_package_that_says_what_it_owns():
    for folder in packages():
        init = folder / "__init__.py"
        assert init.is_file(), (
            f"{folder.relative_to(ROOT)} holds modules but no __init__.py (a namespace package by accident)"
        )
        if folder.parts[-1] != "__pycache__":
            docstring = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
            assert docstring, f"{init.relative_to(ROOT)} has no docstring saying what the package owns"


def test_every_module_of_the_harness_has_a_docstring():
    for module in (ROOT / "harness").rglob("*.py"):
        assert ast.get_docstring(ast.parse(module.read_text(encoding="utf-8"))), f"{module.relative_to(ROOT)}"


def test_no_module_of_the_harness_grows_past_the_limit():
    long = {
        str(m.relative_to(ROOT)): n
        for m in (ROOT / "harness").rglob("*.py")
        if (n := len(m.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}, f"split these by job (docs/architecture.md): {long}"


def test_the_architecture_page_names_every_package_of_the_harness():
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    for folder in sorted((ROOT / "harness").iterdir()):
        if (folder / "__init__.py").is_file():
            assert f"harness/{folder.name}/" in page, f"docs/architecture.md does not name harness/{folder.name}/"


def test_the_layers_of_the_architecture_page_are_the_checked_ones():
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    drawn = page.split("## Layers", 1)[1].split("```")[1].split()
    import tomllib

    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"][
        "contracts"
    ]
    layers = next(c for c in contracts if c["type"] == "layers")["layers"]
    assert drawn == " ".join(layers).split()


@pytest.mark.parametrize("tool", ["lint-imports"])
def test_the_import_contracts_hold(tool):
    done = subprocess.run([str(Path(sys.executable).parent / tool)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
