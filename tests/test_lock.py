"""requirements.lock covers pyproject.toml: every dependency pinned, every pin hashed.

The lock is made by `make lock` (uv pip compile --generate-hashes) and installed by scripts/bootstrap
with `pip install --require-hashes`; a dependency added to pyproject.toml without refreshing the lock
would not be installed, so this fails first, naming it.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _name(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement).group(0)).lower()


def _pins() -> dict[str, list[str]]:
    pins: dict[str, list[str]] = {}
    current = None
    for line in (REPO / "requirements.lock").read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", line)
        if match:
            current = _name(match.group(1))
            pins[current] = []
        elif current and (hashed := re.search(r"--hash=sha256:([0-9a-f]{64})", line)):
            pins[current].append(hashed.group(1))
    return pins


def test_every_dependency_of_pyproject_is_pinned_with_hashes_in_the_lock():
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = {_name(r) for r in project["dependencies"]}
    for extra in ("dev", "load", "independent"):
        wanted |= {_name(r) for r in project["optional-dependencies"][extra] if not r.startswith("smlite")}
    pins = _pins()
    assert sorted(wanted - set(pins)) == [], "not in requirements.lock: run `make lock`"
    assert [name for name, hashes in pins.items() if not hashes] == []


def test_bootstrap_installs_from_the_lock_with_hashes():
    script = (REPO / "scripts" / "bootstrap").read_text(encoding="utf-8")
    assert "--require-hashes -r requirements.lock" in script and "--no-deps -e ." in script
    assert "requirements.lock -nt" in script  # reinstalls when the lock changes
