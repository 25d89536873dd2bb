"""Fixtures of the hardening tests (the helpers live in support.py).

* ``tally`` (session): the counters; with ``SMLITE_HARDENING_DIR`` set, the
  session writes them there as ``counters-<worker>.json`` for
  ``python -m tools.hardening``; otherwise they stay in memory and the tests
  simply pass or fail, as in ``make test``.
* ``target`` (module): one sandbox - real Mailpit, real gateway - per test
  module. A module may set ``SANDBOX = {"gateway": {extra gateway keys; a
  callable gets the run dir}, "mailpit": {MailpitProcess options}}``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from harness.errors import UsageError
from harness.sandbox.lifecycle import GatewaySettings, Sandbox

from .support import COUNTERS_ENV, INTERNAL, TALLY, Tally, Target, gwtest, write_counters


@pytest.fixture(scope="session")
def tally() -> Tally:
    return TALLY


def pytest_sessionfinish(session, exitstatus) -> None:
    if os.environ.get(COUNTERS_ENV):
        write_counters(os.environ[COUNTERS_ENV])


@pytest.fixture(scope="module")
def target(request, tmp_path_factory, tally) -> Iterator[Target]:
    options = getattr(request.module, "SANDBOX", {})
    name = request.module.__name__.rsplit(".", 1)[-1]
    run_dir = tmp_path_factory.mktemp(name)
    extra = {key: (value(run_dir) if callable(value) else value) for key, value in options.get("gateway", {}).items()}
    settings = GatewaySettings(
        internal_domains=[INTERNAL, "corp2.example"], admin_token=gwtest.ADMIN_TOKEN, extra=extra
    )
    sandbox = Sandbox(run_dir, settings, variant="", mailpit_options=options.get("mailpit"), ready_deadline_s=30)
    try:
        sandbox.start()
    except UsageError as exc:  # no Mailpit binary and no Go to build one
        pytest.skip(f"the hardening tests need Mailpit: {exc}")
    try:
        yield Target(sandbox, tally)
    finally:
        sandbox.stop()
