"""The reference driver records only what the target said, and talks only to the target.

* An interrupt (SIGINT) that lands while an SMTP exchange waits for the DATA
  answer propagates; the exchange is never recorded, never a "250". Real
  sockets: a scripted SMTP server on loopback, a real SIGINT to this thread.
* Portal links are followed only to origins the profile declares: a real
  listener on loopback counts requests; a planted link to it, handed to the
  driver built from a running sandbox's profile, raises ForeignLink naming the
  link, and the listener sees nothing. Declared in ``portal_origins``, the same
  listener is asked (so the check is what stops it).
"""

from __future__ import annotations

import dataclasses
import json
import signal
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from harness.drivers.base import Outgoing
from harness.drivers.reference import ReferenceDriver
from harness.errors import ConformanceFailure, ForeignLink, UsageError
from harness.profile import origins
from harness.profile.schema import TargetProfile, from_dict, from_sandbox, load, to_toml
from harness.sandbox.lifecycle import Sandbox

# -- SMTP: an interrupted exchange is not an answer ----------------------------------------------


class ScriptedSMTP:
    """Answers one client up to DATA's end, then interrupts the main thread before answering; a QUIT
    then gets the delayed "250" first (what smtplib's `with` cleanup used to read as the answer)."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.main = threading.main_thread().ident
        self.after_data: list[bytes] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        with conn:
            reader = conn.makefile("rb")
            conn.sendall(b"220 scripted ESMTP\r\n")
            while True:
                line = reader.readline()
                verb = line[:4].upper()
                if verb in (b"EHLO", b"HELO"):
                    conn.sendall(b"250 scripted\r\n")
                elif verb in (b"MAIL", b"RCPT"):
                    conn.sendall(b"250 ok\r\n")
                elif verb == b"DATA":
                    conn.sendall(b"354 go ahead\r\n")
                    while reader.readline() not in (b".\r\n", b""):
                        pass
                    break
                else:
                    return
            signal.pthread_kill(self.main, signal.SIGINT)  # Ctrl-C, while the client waits for DATA's answer
            line = reader.readline()  # QUIT (the old cleanup) or b"" (connection dropped)
            self.after_data.append(line)
            if line:
                conn.sendall(b"250 2.0.0 queued as LATE\r\n221 bye\r\n")


def smtp_profile(port: int) -> TargetProfile:
    return TargetProfile(
        name="scripted",
        capabilities=["smtp-submission", "sm-portal"],
        target={"http": "http://127.0.0.1:9", "smtp": f"127.0.0.1:{port}"},
        mailpit={"api": "http://127.0.0.1:9"},
    )


def test_an_interrupt_mid_smtp_exchange_propagates_and_records_nothing():
    server = ScriptedSMTP()
    driver = ReferenceDriver(smtp_profile(server.port))
    recorded = []
    driver.recorder = recorded.append
    answer = None
    with pytest.raises(KeyboardInterrupt):
        answer = driver.send("outlook", "All", Outgoing("ines@corp.example", ["ext@example.net"], "s", "body"))
    server.thread.join(5)
    assert answer is None and recorded == [], "an interrupted exchange is not an answer"
    assert server.after_data == [b""], "the connection is dropped, no QUIT whose answer could be misread"


# -- portal links: the target's origins only ------------------------------------------------------


class CountingListener:
    """A real HTTP listener on loopback answering fake portal JSON, counting what reaches it."""

    def __init__(self) -> None:
        hits = self.hits = []

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                hits.append(f"{self.command} {self.path}")
                body = json.dumps({"subject": "fake", "text": "fake", "permissions": {"print": True}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_DELETE = _answer

            def log_message(self, *_args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def sandbox_profile():
    with Sandbox() as sandbox:
        yield from_sandbox(sandbox.info())


@pytest.fixture
def listener():
    listening = CountingListener()
    yield listening
    listening.close()


PLANTED = "/sm-portal/m/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"


@pytest.mark.parametrize("action", ["open", "reply", "reply_all", "print", "delete"])
def test_a_planted_portal_link_to_another_listener_is_never_requested(sandbox_profile, listener, action):
    driver = ReferenceDriver(sandbox_profile)
    recorded = []
    driver.recorder = recorded.append
    link = listener.origin + PLANTED
    call = {
        "open": lambda: driver.portal_open(link),
        "reply": lambda: driver.portal_reply(link, "hi"),
        "reply_all": lambda: driver.portal_reply(link, "hi", reply_all=True),
        "print": lambda: driver.portal_print(link),
        "delete": lambda: driver.portal_delete(link),
    }[action]
    with pytest.raises(ForeignLink) as caught:
        call()
    assert str(caught.value) == f"portal link points outside the target: {link}"
    assert isinstance(caught.value, ConformanceFailure), "the observer turns it into a failed cell"
    assert listener.hits == [] and recorded == []


def test_the_same_link_on_the_target_itself_is_requested(sandbox_profile):
    driver = ReferenceDriver(sandbox_profile)
    answer = driver.portal_open(sandbox_profile.target["http"] + PLANTED)
    assert answer.status == 404, "an unknown token, asked of the sandbox's gateway"
    relative = driver.portal_open(PLANTED)
    assert relative.status == 404


def test_a_declared_portal_origin_is_followed(sandbox_profile, listener):
    """The control: with the listener declared as the target's portal, the same link reaches it."""
    profile = dataclasses.replace(sandbox_profile, portal_origins=[listener.origin])
    answer = ReferenceDriver(profile).portal_open(listener.origin + PLANTED)
    assert answer.status == 200 and listener.hits == ["GET /sm-portal/api/messages/" + PLANTED.rsplit("/", 1)[1]]


@pytest.mark.parametrize(
    "link",
    [
        "http://127.0.0.1:8080@127.0.0.1:8899/sm-portal/m/TOKEN",  # userinfo: the host is the second one
        "http://127.0.0.1:8899\\@127.0.0.1:8080/sm-portal/m/TOKEN",  # backslash: parsers disagree
        "http://user:pw@127.0.0.1:8080/sm-portal/m/TOKEN",  # credentials in a link: never sent
        "https://127.0.0.1:8080/sm-portal/m/TOKEN",  # another scheme
        "http://127.0.0.1:8081/sm-portal/m/TOKEN",  # another port
        "http://localhost:8080/sm-portal/m/TOKEN",  # another name, even for the same host
        "//127.0.0.1:8899/sm-portal/m/TOKEN",  # scheme-relative
        "ftp://127.0.0.1:8080/sm-portal/m/TOKEN",
        "http://127.0.0.1:8080/sm-portal/m/TO KEN",
        "sm-portal/m/TOKEN",
    ],
)
def test_allowed_origin_refuses(link):
    profile = TargetProfile(name="t", target={"http": "http://127.0.0.1:8080"})
    assert origins.allowed_origin(profile, link) is None
    with pytest.raises(ForeignLink):
        origins.require_target_origin(profile, link)


@pytest.mark.parametrize(
    "link",
    [
        "http://127.0.0.1:8080/sm-portal/m/TOKEN",
        "HTTP://127.0.0.1:8080/sm-portal/m/TOKEN",
        "/sm-portal/m/TOKEN",
        "https://portal.example/sm-portal/m/TOKEN",
        "https://PORTAL.example:443/x/TOKEN",
    ],
)
def test_allowed_origin_accepts_the_declared_ones(link):
    profile = TargetProfile(
        name="t", target={"http": "http://127.0.0.1:8080/"}, portal_origins=["https://portal.example"]
    )
    assert origins.allowed_origin(profile, link) in ("http://127.0.0.1:8080", "https://portal.example")


def test_portal_origins_is_an_optional_profile_key(tmp_path):
    base = {"name": "t", "mailpit": {"api": "http://127.0.0.1:8025"}}
    assert from_dict(base).portal_origins == []
    profile = from_dict({**base, "portal_origins": ["https://portal.example:8443/"]})
    assert profile.portal_origins == ["https://portal.example:8443"]
    path = tmp_path / "p.toml"
    path.write_text(to_toml(profile))
    assert load(path).portal_origins == ["https://portal.example:8443"]
    for bad in (
        ["https://portal.example/path"],
        ["portal.example"],
        "https://x.example",
        [1],
        ["https://u:p@portal.example"],
        ["https://x.example/?q"],
    ):
        with pytest.raises(UsageError, match="portal_origins"):
            from_dict({**base, "portal_origins": bad})


def test_a_sandbox_with_a_public_base_url_declares_it():
    info = {
        "internal_domains": ["corp.example"],
        "gateway_smtp": ("127.0.0.1", 1),
        "gateway_http": "http://127.0.0.1:2",
        "admin_token": "t",
        "mailpit_api": "http://127.0.0.1:3",
        "mailpit_smtp": ("127.0.0.1", 4),
    }
    assert from_sandbox(info, gateway={"public_base_url": "https://sm.example/base/"}).portal_origins == [
        "https://sm.example"
    ]
    assert from_sandbox(info, gateway={}).portal_origins == []
