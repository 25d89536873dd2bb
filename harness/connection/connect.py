"""One way to reach a target: ``connect(profile)``.

Owns ``Connection`` — everything a command needs to talk to a target: the profile, its driver, the
mailbox of the profile's kind (Mailpit or IMAP), the clock, the latency measured so far on this
connection, and the control round-trip that proves the harness's own mail sandbox works — and
``connect``, the context manager every command uses (``smlite run``'s suite, ``simulate``, the load
sample, ``target check``, the bench), which closes what it opened. Observers are made from a
connection (``Connection.observer``), one per scenario, sharing its tracker and clock.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

from harness.drivers import load_driver
from harness.drivers.base import Driver
from harness.errors import HarnessError
from harness.mailbox.backends import Mailbox, open_mailbox
from harness.mailbox.control import control_roundtrip
from harness.observation.observer import Observer
from harness.observation.waiting import Clock, LatencyTracker, WaitBoard
from harness.profile.mailbox_table import kind_of
from harness.profile.schema import TargetProfile


@dataclass
class Connection:
    profile: TargetProfile
    driver: Driver
    mailbox: Mailbox
    clock: Clock = field(default_factory=Clock)
    latency: LatencyTracker = field(default_factory=LatencyTracker)
    progress: TextIO | None = sys.stderr
    board: WaitBoard | None = None  # many scenarios at once: one terminal line says what is awaited

    @property
    def control(self) -> Callable[[], float] | None:
        """The control round-trip through the harness's own mail sandbox (Mailpit with an SMTP port), or
        None where there is none to check (IMAP mailboxes belong to the target's set-up)."""
        smtp = self.profile.mailpit.get("smtp")
        if kind_of(self.profile) != "mailpit" or not smtp:
            return None
        mailbox = self.mailbox
        return lambda: control_roundtrip(mailbox, smtp)  # type: ignore[arg-type]

    def observer(self, driver: Driver | None = None) -> Observer:
        """A fresh observer (one per scenario or message) sharing this connection's tracker, clock and board."""
        return Observer(
            driver or self.driver,
            self.mailbox,
            self.profile.classification,
            self.profile.delivery_timeout_s,
            self.control,
            latency=self.latency,
            progress=self.progress,
            clock=self.clock,
            board=self.board,
            ordered=self.profile.delivers_in_order,
        )

    def new_driver(self) -> Driver:
        """Another driver for the same target: one per scenario when scenarios run at once (a vendor's
        driver need not be thread-safe). The caller closes it."""
        return load_driver(self.profile)

    def describe(self) -> dict[str, Any]:
        """The target's name, version, driver and capabilities; HarnessError when it does not answer."""
        try:
            described = self.driver.describe()
        except OSError as exc:  # a driver on plain sockets
            raise HarnessError(
                "Target unreachable",
                f"{self.profile.driver}: {exc}",
                f"try `smlite target check {self.profile.source_path or 'PROFILE'}`",
            ) from None
        return {
            "name": described.get("name", self.profile.name),
            "version": described.get("version", self.profile.version),
            "driver": self.profile.driver,
            "capabilities": sorted(self.driver.capabilities),
        }


@contextlib.contextmanager
def connect(
    profile: TargetProfile,
    *,
    check_mail_sandbox: bool = False,
    mailbox: bool = True,
    progress: TextIO | None = sys.stderr,
    latency: LatencyTracker | None = None,
) -> Iterator[Connection]:
    """Everything needed to talk to the target of ``profile``, closed on the way out.

    ``check_mail_sandbox``: run the control round-trip once before anything else (the suite does).
    ``mailbox=False``: only the driver (a command that reads no mail, e.g. describing the target).
    ``latency``: a tracker to share with other connections to the same target (the load sample's
    checkers), so the latency is the one measured so far in the run."""
    driver = load_driver(profile)
    opened: Mailbox | None = None
    try:
        opened = open_mailbox(profile) if mailbox else _NoMailbox(profile)
        connection = Connection(
            profile,
            driver,
            opened,
            progress=progress,
            latency=latency if latency is not None else LatencyTracker(profile.expected_latency_s),
        )
        if check_mail_sandbox and connection.control is not None:
            connection.control()  # the harness's own mail sandbox works, first
        yield connection
    finally:
        driver.close()
        if opened is not None:
            opened.close()


class _NoMailbox:
    """The mailbox of a connection opened without one: asking it anything is a harness error."""

    def __init__(self, profile: TargetProfile):
        self.profile = profile

    def __getattr__(self, name: str) -> Any:
        raise HarnessError("No mailbox on this connection", f"connect(profile, mailbox=False) cannot {name}")

    def close(self) -> None:
        pass
