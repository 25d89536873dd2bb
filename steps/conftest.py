"""Fixtures of the conformance suite: the target (profile, connection), the seed, the world.

The suite reaches the target only through ``connect(profile)``: the driver the profile names and
the mailbox it reads delivered mail from; it never imports the reference gateway.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.conformance.plugin import example_of
from harness.conformance.stepdefs import scenario_of
from harness.connection.connect import Connection, connect
from harness.drivers.base import Driver
from harness.drivers.watched import watched
from harness.errors import UsageError
from harness.mailbox.backends import Mailbox
from harness.profile.schema import TargetProfile, load
from steps.console_steps import *  # noqa: F403  (step definitions are fixtures)
from steps.message_steps import *  # noqa: F403
from steps.outcome_steps import *  # noqa: F403
from steps.people_steps import *  # noqa: F403
from steps.portal_steps import *  # noqa: F403
from steps.real_mail_steps import *  # noqa: F403
from steps.sending_steps import *  # noqa: F403
from steps.world import World


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
def connection(profile: TargetProfile) -> Iterator[Connection]:
    """The one way to the target (harness/connection/connect.py): its driver, the mailbox of the profile's
    kind (Mailpit or IMAP), the latency measured so far in this process. The harness's own mail sandbox
    is proven first."""
    with connect(profile, check_mail_sandbox=True) as opened:
        yield opened


@pytest.fixture(scope="session")
def driver(connection: Connection) -> Driver:
    return connection.driver


@pytest.fixture(scope="session")
def mailpit(connection: Connection) -> Mailbox:
    """The mailbox backend the profile names: Mailpit (default) or IMAP."""
    return connection.mailbox


def new_world(
    item: pytest.Item, profile: TargetProfile, driver: Driver, observer: Any, record: Any, seed: int
) -> World:
    """The world of one scenario, for pytest-bdd's path (the ``world`` fixture) and the engine's (the hook)."""
    world = World(profile, driver, observer, record, seed, item.nodeid)
    world.ref = example_of(item).get("ref", "").split(" ")[0] or next(
        (m.name.split(":", 1)[1] for m in item.iter_markers() if m.name.startswith("ref:")), ""
    )
    world.contract_only = any(m.name == "contract" for m in item.iter_markers())
    scenario = scenario_of(item)
    world.feature_folder = Path(scenario.feature.filename).parent if scenario is not None else None
    return world


def pytest_smlite_world(
    item: pytest.Item, profile: TargetProfile, driver: Driver, observer: Any, record: Any, seed: int
) -> World:
    """harness/conformance/hookspecs.py: the scenario engine asks for each scenario's world here."""
    return new_world(item, profile, driver, observer, record, seed)


@pytest.fixture
def world(request: pytest.FixtureRequest, profile, connection: Connection, seed, smlite_record) -> Iterator[World]:
    """The world of a scenario run by pytest-bdd itself (``--smlite-engine sequential``, xdist workers)."""
    driver = watched(connection.driver, connection.clock.monotonic)
    world = new_world(request.node, profile, driver, connection.observer(driver), smlite_record, seed)
    yield world
    connection.driver.recorder = None
