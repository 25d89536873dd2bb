"""Finding (or building once) the real Mailpit binary.

Owns:

* ``find_mailpit()``: the Mailpit v1.33.1 binary, looked for in this order:
  ``$MAILPIT_BIN``; ``mailpit`` on PATH; the cache
  ``${XDG_CACHE_HOME:-~/.cache}/smlite/mailpit-v1.33.1-ui/mailpit``; else built
  once into that cache (under a file lock, into a temp dir renamed into
  place, so concurrent clones never see half a binary).
  No binary and no Go: one ``UsageError`` naming every way to get it.
* The one-time build *with the web UI*, as Mailpit's own Dockerfile does it:
  the module source is copied out of the Go module cache (``go mod
  download``), its UI assets are built from its own package.json with npm
  (``npm install`` + ``npm run package`` into ``server/ui/dist/``), then
  ``go build`` embeds them. Two pins of the upstream package-lock are not
  served by the npm registry reachable here (``sass-embedded`` 1.108.1 and
  ``rapidoc`` ^12), so the lock is dropped and ``rapidoc`` is asked for at
  ``^9.3.8`` (the API-docs viewer only). The versions used are written to
  ``build-info.json`` next to the binary. When npm is missing or the
  registry cannot be reached, the build falls back to the UI-less ``go
  install`` build and says so (on stderr and in ``build-info.json``); the
  older UI-less cache ``mailpit-v1.33.1/`` is then not reused, so the next
  build with npm around gets the UI once.

The version check reads ``mailpit version --no-release-check`` (never the
online release check). ``go install`` builds report "dev"; those are accepted
for the cache's own binary, and elsewhere when ``go version -m`` shows the
module version.
"""

from __future__ import annotations

import fcntl
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

from harness.errors import UsageError

MAILPIT_VERSION = "v1.33.1"
MAILPIT_MODULE = "github.com/axllent/mailpit"
SANDBOX_FLAGS = ("--disable-version-check", "--smtp-disable-rdns", "--max", "0", "--smtp-max-recipients", "1000")


#: the API-docs viewer's range when the upstream ^12 is not served (see the module docstring)
RAPIDOC_FALLBACK = "^9.3.8"
#: a step of the UI build taking longer than this (npm hanging on a black-holed registry) falls back
UI_STEP_TIMEOUT_S = 1200


def mailpit_cache_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_CACHE_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".cache")
    # "-ui": the build with the web UI; a UI-less build in the older folder is rebuilt once
    return Path(base) / "smlite" / f"mailpit-{MAILPIT_VERSION}-ui"


def build_info(binary: Path) -> dict | None:
    """What the one-time build recorded next to `binary` (versions, UI or not), if anything."""
    try:
        return json.loads((binary.parent / "build-info.json").read_text())
    except (OSError, ValueError):
        return None


def how_to_get_mailpit(env: Mapping[str, str] | None = None) -> str:
    return (
        f"get Mailpit {MAILPIT_VERSION} one of these ways: set MAILPIT_BIN=/path/to/mailpit; "
        f"put mailpit {MAILPIT_VERSION} on PATH; install Go (https://go.dev/dl/) so smlite "
        f"builds it once into {mailpit_cache_dir(env)}; or run `docker compose up` with the "
        "repo's docker-compose.yml"
    )


def find_mailpit(env: Mapping[str, str] | None = None) -> Path:
    """The Mailpit binary to run (see the module docstring for the order)."""
    env = os.environ if env is None else env
    explicit = env.get("MAILPIT_BIN")
    if explicit:
        binary = Path(explicit).expanduser()
        if not _is_executable(binary):
            raise UsageError("MAILPIT_BIN is not an executable file", f"MAILPIT_BIN={explicit}")
        problem = _version_problem(binary, env, trusted=True)
        if problem:
            raise UsageError(f"MAILPIT_BIN={explicit} is not Mailpit {MAILPIT_VERSION}", problem)
        return binary

    on_path = shutil.which("mailpit", path=env.get("PATH", os.defpath))
    if on_path:
        problem = _version_problem(Path(on_path), env, trusted=False)
        if not problem:
            return Path(on_path)
        print(f"smlite: ignoring {on_path} on PATH: {problem}", file=sys.stderr)

    cached = mailpit_cache_dir(env) / "mailpit"
    if _is_executable(cached):
        problem = _version_problem(cached, env, trusted=True)
        if problem:
            raise UsageError(
                f"{cached} is not Mailpit {MAILPIT_VERSION}", f"{problem}; delete it and smlite builds the right one"
            )
        return cached

    go = _find_go(env)
    if go is None:
        raise UsageError(
            f"Mailpit {MAILPIT_VERSION} not found and Go is not installed to build it", how_to_get_mailpit(env)
        )
    return _build_once(go, mailpit_cache_dir(env), env)


def reported_version(binary: Path) -> str | None:
    """What `mailpit version` says ("v1.33.1", "dev"), or None if it says nothing usable."""
    stat = binary.stat()
    return _reported_version(str(binary), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=16)
def _reported_version(binary: str, _mtime_ns: int, _size: int) -> str | None:
    try:
        result = subprocess.run([binary, "version", "--no-release-check"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"\s(v\d+\.\d+\.\d+\S*|dev)\s+compiled", result.stdout)
    return match.group(1) if match else None


def _version_problem(binary: Path, env: Mapping[str, str], *, trusted: bool) -> str | None:
    """None if `binary` is fine to use, else why not."""
    version = reported_version(binary)
    if version == MAILPIT_VERSION:
        return None
    if version not in (None, "dev"):
        return f"it reports {version}"
    module_version = _module_version(binary, env)
    if module_version == MAILPIT_VERSION or (module_version is None and trusted):
        return None
    if module_version:
        return f"it was built from {MAILPIT_MODULE}@{module_version}"
    return f"it reports {version or 'no version'} and its build info cannot be read"


def _module_version(binary: Path, env: Mapping[str, str]) -> str | None:
    """The module version Go recorded in the binary (`go version -m`), if Go can tell."""
    go = _find_go(env)
    if go is None:
        return None
    stat = binary.stat()
    return _go_module_version(go, str(binary), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=16)
def _go_module_version(go: str, binary: str, _mtime_ns: int, _size: int) -> str | None:
    try:
        result = subprocess.run([go, "version", "-m", binary], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(rf"^\s*mod\s+{re.escape(MAILPIT_MODULE)}\s+(\S+)", result.stdout, re.M)
    return match.group(1) if match else None


def _find_go(env: Mapping[str, str]) -> str | None:
    found = shutil.which("go", path=env.get("PATH", os.defpath))
    if found:
        return found
    goroot = env.get("GOROOT")
    if goroot and _is_executable(Path(goroot) / "bin" / "go"):
        return str(Path(goroot) / "bin" / "go")
    return None


def _build_once(go: str, cache_dir: Path, env: Mapping[str, str]) -> Path:
    target = cache_dir / "mailpit"
    cache_dir.mkdir(parents=True, exist_ok=True)
    with open(cache_dir / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a concurrent clone builds; we wait, then reuse
        if _is_executable(target):
            return target
        print(
            f"building Mailpit {MAILPIT_VERSION} once into {cache_dir}, this can take a few minutes",
            file=sys.stderr,
            flush=True,
        )
        with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".build-") as build_dir:
            started = time.monotonic()
            info: dict = {"mailpit": MAILPIT_VERSION, "go": _tool_version([go, "version"])}
            try:
                built, ui_problem = _build_with_ui(go, Path(build_dir), env, info)
            except subprocess.TimeoutExpired as exc:
                built, ui_problem = None, f"{' '.join(map(str, exc.cmd[:3]))} took over {exc.timeout:.0f}s"
            except (OSError, ValueError, KeyError) as exc:  # a copy or JSON step that went wrong
                built, ui_problem = None, f"{type(exc).__name__}: {exc}"
            if built is None:
                print(
                    f"smlite: building Mailpit without its web UI ({ui_problem}); the API, "
                    "SMTP and the suite work, the UI URL shows a blank page",
                    file=sys.stderr,
                    flush=True,
                )
                info.update(ui=False, ui_problem=ui_problem)
                built = _go_install(go, Path(build_dir), env)
            info["build_seconds"] = round(time.monotonic() - started, 1)
            (Path(build_dir) / "build-info.json").write_text(json.dumps(info, indent=2) + "\n")
            os.replace(Path(build_dir) / "build-info.json", cache_dir / "build-info.json")
            os.replace(built, target)
    return target


def _go_install(go: str, build_dir: Path, env: Mapping[str, str]) -> Path:
    """Today's UI-less build: `go install` of the module at the pinned version."""
    result = subprocess.run(
        [go, "install", f"{MAILPIT_MODULE}@{MAILPIT_VERSION}"],
        env={**env, "GOBIN": str(build_dir)},
        capture_output=True,
        text=True,
    )
    built = build_dir / "mailpit"
    if result.returncode != 0 or not built.exists():
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-15:])
        raise UsageError(f"Building Mailpit {MAILPIT_VERSION} with {go} failed", how_to_get_mailpit(env), observed=tail)
    return built


def _tool_version(argv: list[str]) -> str | None:
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() or None if result.returncode == 0 else None


def _build_with_ui(go: str, build_dir: Path, env: Mapping[str, str], info: dict) -> tuple[Path | None, str | None]:
    """Mailpit with its web UI (see the module docstring), or (None, why not)."""
    path = env.get("PATH", os.defpath)
    npm = shutil.which("npm", path=path)
    node = shutil.which("node", path=path)
    if npm is None or node is None:
        return None, "npm/node not installed"
    # the module source, from (or into) Go's module cache
    result = subprocess.run(
        [go, "mod", "download", "-json", f"{MAILPIT_MODULE}@{MAILPIT_VERSION}"],
        env=dict(env),
        capture_output=True,
        text=True,
    )
    try:
        module_dir = Path(json.loads(result.stdout)["Dir"])
    except (ValueError, KeyError, TypeError):
        return None, f"go mod download failed: {(result.stdout + result.stderr).strip()[-300:]}"
    src = build_dir / "src"
    shutil.copytree(module_dir, src, ignore=shutil.ignore_patterns("node_modules"))
    for root, dirs, files in os.walk(src):  # the module cache is read-only
        for name in dirs + files:
            os.chmod(Path(root) / name, 0o755 if name in dirs else 0o644)
    os.chmod(src, 0o755)
    package = json.loads((src / "package.json").read_text())
    package["dependencies"]["rapidoc"] = RAPIDOC_FALLBACK
    (src / "package.json").write_text(json.dumps(package, indent=2) + "\n")
    (src / "package-lock.json").unlink(missing_ok=True)
    npm_env = {**env, "npm_config_update_notifier": "false", "npm_config_fund": "false", "npm_config_audit": "false"}
    steps = [
        ([npm, "install", "--no-audit", "--no-fund", "--loglevel=error"], "npm install"),
        ([npm, "run", "package"], "npm run package"),
    ]
    for argv, what in steps:
        result = subprocess.run(argv, cwd=src, env=npm_env, capture_output=True, text=True, timeout=UI_STEP_TIMEOUT_S)
        if result.returncode != 0:
            tail = " | ".join((result.stdout + result.stderr).strip().splitlines()[-3:])
            return None, f"{what} failed (npm registry unreachable?): {tail[-400:]}"
    if not (src / "server" / "ui" / "dist" / "app.js").exists():
        return None, "npm run package wrote no server/ui/dist/app.js"
    ls = subprocess.run([npm, "ls", "--depth=0", "--json"], cwd=src, env=npm_env, capture_output=True, text=True)
    try:
        deps = json.loads(ls.stdout).get("dependencies", {})
        npm_packages = {name: d.get("version") for name, d in sorted(deps.items())}
    except ValueError:
        npm_packages = {}
    out = build_dir / "mailpit-ui"
    result = subprocess.run(
        [go, "build", "-ldflags", f"-s -w -X {MAILPIT_MODULE}/config.Version={MAILPIT_VERSION}", "-o", str(out)],
        cwd=src,
        env={**env, "CGO_ENABLED": "0"},
        capture_output=True,
        text=True,
        timeout=UI_STEP_TIMEOUT_S,
    )
    if result.returncode != 0 or not out.exists():
        return None, "go build failed: " + (result.stdout + result.stderr).strip()[-400:]
    info.update(
        ui=True,
        node=_tool_version([node, "--version"]),
        npm=_tool_version([npm, "--version"]),
        rapidoc_range=RAPIDOC_FALLBACK,
        package_lock="dropped (pins not served here)",
        npm_packages=npm_packages,
    )
    return out, None


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)
