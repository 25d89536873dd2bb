"""Fixtures of the conformance suite: the target (profile, driver, mailboxes), the seed, the world.

The suite reaches the target only through the driver the profile names and the
sandbox's Mailpit API; it never imports the reference gateway.
"""

from __future__ import annotations

import random

import pytest

from harness.drivers import load_driver
from harness.errors import UsageError
from harness.conformance.observe import Observer
from harness.conformance.plugin import example_of
from harness.mailbox.backends import Mailbox, kind_of, open_mailbox
from harness.mailbox.control import control_roundtrip
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
def mailpit(profile: TargetProfile):
    """The mailbox backend the profile names: Mailpit (default) or IMAP (harness/mailbox/backends.py)."""
    mailbox: Mailbox = open_mailbox(profile)
    if kind_of(profile) == "mailpit" and profile.mailpit.get("smtp"):
        control_roundtrip(mailbox, profile.mailpit["smtp"])  # the harness's own mail sandbox works, first
    yield mailbox
    if hasattr(mailbox, "close"):
        mailbox.close()  # IMAP: log out of the mailboxes still open


@pytest.fixture
def world(request: pytest.FixtureRequest, profile, driver, mailpit, seed, smlite_record) -> World:
    control = (lambda: control_roundtrip(mailpit, profile.mailpit["smtp"])) \
        if kind_of(profile) == "mailpit" and profile.mailpit.get("smtp") else None
    observer = Observer(driver, mailpit, profile.classification, profile.delivery_timeout_s, control=control)
    world = World(profile, driver, observer, smlite_record, seed, request.node.nodeid)
    world.ref = example_of(request.node).get("ref", "").split(" ")[0] or next(
        (m.name.split(":", 1)[1] for m in request.node.iter_markers() if m.name.startswith("ref:")), "")
    world.contract_only = any(m.name == "contract" for m in request.node.iter_markers())
    yield world
    driver.recorder = None
