"""Shared fixtures of the gateway tests: one Mailpit and one gateway process per
session, plus a factory for extra gateways; every process is stopped by a
finalizer; header caches emptied before each test. The helpers themselves live in gwtest.py.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from gwtest import Gateway, Mailpit, find_mailpit

from harness.gateway import composer


@pytest.fixture(autouse=True)
def _cold_header_caches():
    """Each test parses headers from scratch: the composer's caches hold nothing an earlier test (or, under
    `make mutation`, the process the test was forked from) parsed, so what they build is what is judged."""
    composer._header.cache_clear()
    composer._REGISTRY._built.clear()


@pytest.fixture(scope="session")
def mailpit_binary() -> str:
    path = find_mailpit()
    if not path:
        pytest.skip("Mailpit binary not found (set SMLITE_MAILPIT)")
    return path


@pytest.fixture(scope="session")
def mailpit(mailpit_binary, tmp_path_factory):
    mp = Mailpit(mailpit_binary, tmp_path_factory.mktemp("mailpit"))
    try:
        mp.start()
        yield mp
    finally:
        mp.stop()


@pytest.fixture(scope="session")
def gateway(mailpit, tmp_path_factory):
    gw = Gateway(tmp_path_factory.mktemp("gateway"), mailpit.smtp_port)
    try:
        gw.start()
        yield gw
    finally:
        gw.stop()


@pytest.fixture
def start_gateway(mailpit, tmp_path):
    """Factory: start extra gateways (variants, restarts); all stopped at the end."""
    started: list[Gateway] = []

    def _start(name: str = "gw", relay_port: int | None = None, env: dict | None = None, **overrides) -> Gateway:
        gw = Gateway(tmp_path / name, relay_port or mailpit.smtp_port, **overrides)
        gw.env_extra.update(env or {})
        started.append(gw)
        return gw.start()

    yield _start
    for gw in started:
        gw.stop()


@pytest.fixture
def db_dir(tmp_path):
    """A fresh folder for a unit test's SQLite files: in memory-backed /dev/shm where there is one (real files,
    whose fsync costs nothing: the store's tests run per mutant under `make mutation`), else tmp_path."""
    if not Path("/dev/shm").is_dir():
        yield tmp_path
        return
    folder = Path(tempfile.mkdtemp(prefix="smlite-gw-", dir="/dev/shm"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
