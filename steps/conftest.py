"""Fixtures of the conformance suite: the target (profile, driver, Mailpit), the seed, the world.

The suite reaches the target only through the driver the profile names and the
sandbox's Mailpit API; it never imports the reference gateway.
"""

from __future__ import annotations

import random

import pytest

from harness.drivers import load_driver
from harness.errors import UsageError
from harness.conformance.plugin import example_of
from harness.mailbox.control import control_roundtrip
from harness.mailbox.mailpit import MailpitClient
from harness.conformance.observe import Observer
from harness.target.profile import TargetProfile, load
from steps.world import World

from steps.console_steps import *  # noqa: F401,F403  (step definitions are fixtures)
from steps.message_steps import *  # noqa: F401,F403
from steps.outcome_steps import *  # noqa: F401,F403
from steps.people_steps import *  # noqa: F401,F403
from steps.portal_steps import *  # noqa: F401,F403
from steps.sending_steps import *  # noqa: F401,F403


@pytest.fixture(scope="session")
def profile(pytestconfig: pytest.Config) -> TargetProfile:
    path = pytestconfig.getoption("--smlite-profile")
    if not path:
        raise UsageError("No target", "run the suite with `smlite run`, or pass --smlite-profile PROFILE")
    return load(path)


@pytest.fixture(scope="session")
def seed(pytestconfig: pytest.Config) -> int:
    value = pytestconfig.getoption("--smlite-seed")
    if value is None:
        value = random.SystemRandom().randrange(1, 2**31)
        print(f"\nsmlite: faker seed {value} (replay with --seed {value})")
    return value


@pytest.fixture(scope="session")
def driver(profile: TargetProfile):
    target = load_driver(profile)
    yield target
    target.close()


@pytest.fixture(scope="session")
def mailpit(profile: TargetProfile) -> MailpitClient:
    if not profile.mailpit.get("api"):
        raise UsageError("Bad target profile", "[mailpit] needs 'api', the sandbox Mailpit's API URL")
    client = MailpitClient(profile.mailpit["api"])
    if profile.mailpit.get("smtp"):
        control_roundtrip(client, profile.mailpit["smtp"])  # the harness's own sandbox works, first
    return client


@pytest.fixture
def world(request: pytest.FixtureRequest, profile, driver, mailpit, seed, smlite_record) -> World:
    control = (lambda: control_roundtrip(mailpit, profile.mailpit["smtp"])) if profile.mailpit.get("smtp") else None
    observer = Observer(driver, mailpit, profile.classification, profile.delivery_timeout_s, control=control)
    world = World(profile, driver, observer, smlite_record, seed, request.node.nodeid)
    world.ref = example_of(request.node).get("ref", "").split(" ")[0] or next(
        (m.name.split(":", 1)[1] for m in request.node.iter_markers() if m.name.startswith("ref:")), "")
    yield world
    driver.recorder = None
