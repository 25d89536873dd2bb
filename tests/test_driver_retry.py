"""A submission refused temporarily is tried again, as an MTA's queue would; a permanent refusal is not.

A real aiosmtpd server on loopback answers DATA with a scripted list of replies (451, 421, then 250 …);
the reference driver's answer, the tries the server saw and the exchanges recorded are checked.
"""

from __future__ import annotations

import socket
import time

import pytest
from aiosmtpd.controller import Controller

from harness.drivers.base import Outgoing
from harness.drivers.reference import ReferenceDriver
from harness.errors import UsageError
from harness.profile.schema import TargetProfile


class Scripted:
    """aiosmtpd handler: the n-th DATA gets the n-th reply of ``replies`` (the last one from then on)."""

    def __init__(self, replies: list[str]) -> None:
        self.replies = replies
        self.tries: list[float] = []

    async def handle_DATA(self, server, session, envelope):
        self.tries.append(time.monotonic())
        return self.replies[min(len(self.tries), len(self.replies)) - 1]


@pytest.fixture
def scripted():
    started: list[Controller] = []

    def start(replies: list[str]) -> tuple[Scripted, int]:
        handler = Scripted(replies)
        with socket.create_server(("127.0.0.1", 0)) as probe:
            port = probe.getsockname()[1]
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        controller.start()
        started.append(controller)
        return handler, port

    yield start
    for controller in started:
        controller.stop()


def driver_for(port: int, **settings) -> tuple[ReferenceDriver, list]:
    profile = TargetProfile(
        name="scripted",
        capabilities=["smtp-submission", "sm-portal"],
        target={"http": "http://127.0.0.1:9", "smtp": f"127.0.0.1:{port}", **settings},
        mailpit={"api": "http://127.0.0.1:9"},
    )
    driver = ReferenceDriver(profile)
    recorded: list = []
    driver.recorder = recorded.append
    return driver, recorded


MESSAGE = Outgoing("ines@corp.example", ["ext@example.net"], "subject", "body")


def test_temporary_refusals_are_tried_again_until_accepted(scripted):
    handler, port = scripted(["451 4.3.2 Busy, try later", "452 4.3.1 No room now", "250 2.0.0 queued"])
    driver, recorded = driver_for(port)
    answer = driver.send("outlook", "All", MESSAGE)
    assert answer.status == 250, answer
    assert len(handler.tries) == 3
    assert [e.status for e in recorded] == [451, 452, 250], "every try is evidence"
    gaps = [b - a for a, b in zip(handler.tries, handler.tries[1:], strict=False)]
    assert gaps[0] >= 0.45 and gaps[1] >= 0.95, f"the pause doubles between tries: {gaps}"


def test_a_permanent_refusal_is_not_tried_again(scripted):
    handler, port = scripted(["554 5.6.0 Malformed message: no", "250 2.0.0 queued"])
    driver, _ = driver_for(port)
    assert driver.send("outlook", "All", MESSAGE).status == 554
    assert len(handler.tries) == 1


def test_the_last_temporary_answer_stands_when_retry_time_is_up(scripted):
    handler, port = scripted(["451 4.3.2 Busy, try later"])
    driver, recorded = driver_for(port, smtp_retry_s=1.2)
    started = time.monotonic()
    answer = driver.send("outlook", "All", MESSAGE)
    assert answer.status == 451 and "Busy" in answer.text
    assert 2 <= len(handler.tries) <= 3 and time.monotonic() - started < 5
    assert all(e.status == 451 for e in recorded)


def test_retry_can_be_turned_off(scripted):
    handler, port = scripted(["451 4.3.2 Busy, try later", "250 ok"])
    driver, _ = driver_for(port, smtp_retry_s=0)
    assert driver.send("outlook", "All", MESSAGE).status == 451
    assert len(handler.tries) == 1


@pytest.mark.parametrize("value", [-1, "10", True, 4000])
def test_a_bad_retry_setting_is_a_profile_error(value):
    with pytest.raises(UsageError, match="smtp_retry_s"):
        driver_for(25, smtp_retry_s=value)


class BusyAtEhlo(Scripted):
    """A server that answers EHLO 421 (too many connections) the first ``busy`` times, then as usual."""

    def __init__(self, busy: int) -> None:
        super().__init__(["250 2.0.0 queued"])
        self.busy, self.ehlos = busy, 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.ehlos += 1
        if self.ehlos <= self.busy:
            return ["421 4.7.0 Too many connections; try again later"]
        session.host_name = hostname
        return responses


def test_a_busy_answer_to_ehlo_before_auth_is_tried_again_not_called_a_server_without_auth():
    from aiosmtpd.smtp import AuthResult

    handler = BusyAtEhlo(busy=2)
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        auth_require_tls=False,
        authenticator=lambda *args: AuthResult(success=True),
    )
    controller.start()
    try:
        driver, recorded = driver_for(port, smtp_username="ines", smtp_password="secret")
        answer = driver.send("outlook", "All", MESSAGE)
    finally:
        controller.stop()
    assert answer.status == 250, answer
    assert [e.status for e in recorded] == [421, 421, 250], [(e.status, e.answer) for e in recorded]
    assert "Too many connections" in recorded[0].answer
