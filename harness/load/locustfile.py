"""`smlite load`'s users for Locust's own CLI: ``locust -f harness/load/locustfile.py``.

For going past one process (Locust runs on one core) or one machine:
Locust's master/worker mode (docs/load.md). Configured by environment:

* ``SMLITE_LOAD_PROFILE`` (required): the target profile (TOML/JSON);
* ``SMLITE_LOAD_SEED`` (default 1), ``SMLITE_LOAD_SAMPLE_EVERY`` (10),
  ``SMLITE_LOAD_MAX_SAMPLES`` (60), ``SMLITE_LOAD_RATE_PER_USER`` (messages/s
  per user, default 1), ``SMLITE_LOAD_MAX_MESSAGES`` (per process, 10000).

Every process that runs users (a worker, or a standalone run) keeps its own
run tag, sample and delivery count; when it quits it checks its sample
against the source's tables, counts its deliveries in Mailpit, and prints one
summary line. The master aggregates Locust's own statistics (throughput,
latency, failures) as usual. The loopback rule of `smlite load` holds here too.
"""

from __future__ import annotations

import os
import sys

from locust import events
from locust.runners import MasterRunner

from harness.load import command as load
from harness.load.check import SampleChecker, count_deliveries
from harness.load.user import LoadContext, SecureMessagingUser
from harness.profile.schema import load as load_profile

__all__ = ["SecureMessagingUser"]  # the User class Locust finds in this file


@events.init.add_listener
def _context(environment, **_kwargs) -> None:
    if isinstance(environment.runner, MasterRunner):
        return  # the master runs no users
    path = os.environ.get("SMLITE_LOAD_PROFILE")
    if not path:
        sys.exit("smlite load: set SMLITE_LOAD_PROFILE to the target profile")
    profile = load_profile(path)
    load.require_loopback(profile)
    env = os.environ.get
    SecureMessagingUser.shared = LoadContext(
        profile,
        int(env("SMLITE_LOAD_SEED", "1")),
        int(env("SMLITE_LOAD_SAMPLE_EVERY", "10")),
        int(env("SMLITE_LOAD_MAX_SAMPLES", "60")),
        int(env("SMLITE_LOAD_MAX_MESSAGES", "10000")),
        pacing_s=1 / float(env("SMLITE_LOAD_RATE_PER_USER", "1")),
        apps=tuple(a.strip() for a in env("SMLITE_LOAD_APPS", "outlook,mac,mpp").split(",") if a.strip()),
    )


@events.quitting.add_listener
def _check(environment, **_kwargs) -> None:
    # On quitting, not on test_stop: a worker sends its final statistics to the master when told
    # to quit, and this check (the sample, the deliveries in Mailpit) takes seconds. Run earlier,
    # it would hold those statistics back until the master had already written its totals.
    context = SecureMessagingUser.shared
    if context is None or isinstance(environment.runner, MasterRunner):
        return
    checker = SampleChecker(context)
    context.samples.put(None)
    while (sample := context.samples.get()) is not None:
        checker.check(sample)
    expected = context.expected_deliveries()
    found = count_deliveries(context, expected, float(os.environ.get("SMLITE_LOAD_DRAIN_TIMEOUT", "60")))
    sample = checker.summary()
    print(
        f"smlite load [{context.tag}, pid {os.getpid()}]: {len(context.recipients)} accepted, "
        f"{context.refused} refused, {context.errors} errors; deliveries expected {expected}, in Mailpit "
        f"{found}, lost {max(0, expected - found)}; sample {sample['messages']} messages, {sample['passed']} "
        f"cells passed, {sample['failed']} failed → {'conforming' if sample['conforming'] else 'NOT CONFORMING'}",
        flush=True,
    )
