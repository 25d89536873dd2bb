"""Helpers of the gateway tests: a real Mailpit and the gateway as a subprocess
(``python -m harness.gateway --config FILE``), both on free ports. Polling
always has a deadline, never a fixed sleep. The fixtures are in conftest.py;
this module has a unique name so that test modules can import it safely.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ADMIN_TOKEN = "test-admin-token"
INTERNAL = "corp.example"


def find_mailpit() -> str | None:
    env = os.environ.get("SMLITE_MAILPIT")
    if env and os.path.exists(env):
        return env
    found = sorted(glob.glob(os.path.expanduser("~/.cache/smlite/mailpit-v*/mailpit")))
    if found:
        return found[-1]
    return shutil.which("mailpit")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(pred, timeout: float = 10.0, interval: float = 0.03, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def uniq(prefix: str = "t") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def parse(raw: bytes) -> EmailMessage:
    return BytesParser(policy=policy.default).parsebytes(raw)


def _can_connect(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class Mailpit:
    def __init__(self, binary: str, workdir: Path) -> None:
        self.binary = binary
        self.workdir = workdir
        self.smtp_port = free_port()
        self.http_port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/api/v1"

    def start(self) -> None:
        with open(self.workdir / "mailpit.log", "ab") as log:
            self.proc = subprocess.Popen(
                [
                    self.binary,
                    "--listen",
                    f"127.0.0.1:{self.http_port}",
                    "--smtp",
                    f"127.0.0.1:{self.smtp_port}",
                    "--database",
                    str(self.workdir / "mailpit.db"),
                    "--disable-version-check",
                    "--smtp-disable-rdns",
                    "--max",
                    "0",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )

        def up():
            if self.proc.poll() is not None:
                raise AssertionError(f"mailpit exited with {self.proc.returncode}")
            try:
                return requests.get(f"{self.api}/messages?limit=1", timeout=1).ok
            except requests.RequestException:
                return False

        wait_until(up, 15, what="mailpit to start")
        wait_until(lambda: _can_connect(self.smtp_port), 5, what="mailpit smtp")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def search(self, query: str) -> list[dict]:
        r = requests.get(f"{self.api}/search", params={"query": query, "limit": 500}, timeout=5)
        r.raise_for_status()
        return r.json()["messages"] or []

    def raw(self, mid: str) -> bytes:
        r = requests.get(f"{self.api}/message/{mid}/raw", timeout=5)
        r.raise_for_status()
        return r.content

    def wait(self, tag: str, count: int = 1, timeout: float = 10.0) -> list[EmailMessage]:
        """Wait until ``count`` messages whose subject contains ``tag`` arrived; return them parsed."""

        def enough():
            found = self.search(f"subject:{tag}")
            return found if len(found) >= count else None

        found = wait_until(enough, timeout, what=f"{count} message(s) with {tag!r} in mailpit")
        return [parse(self.raw(m["ID"])) for m in found]

    def count(self, tag: str) -> int:
        return len(self.search(f"subject:{tag}"))


def portal_token(msg: EmailMessage) -> str:
    """The SM Portal token from a notification's (or banner's) link."""
    m = re.search(r"/sm-portal/m/([A-Za-z0-9_-]+)", msg.get_body(("plain",)).get_content())
    assert m, "no portal link in message"
    return m.group(1)


def notification_for(mailpit: Mailpit, tag: str, rcpt: str, count: int = 1) -> EmailMessage:
    def find():
        for m in mailpit.wait(tag, count):
            if m["Sensitivity"] == "Private" and m["To"] == rcpt:
                return m
        return None

    return wait_until(find, 10, what=f"notification to {rcpt}")


class Gateway:
    """The gateway in its own process."""

    def __init__(self, workdir: Path, relay_port: int, **overrides) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.cfg = {
            "name": "smlite test gateway",
            "internal_domains": [INTERNAL, "corp2.example"],
            "database": str(workdir / "gateway.sqlite3"),
            "relay_port": relay_port,
            "admin_token": ADMIN_TOKEN,
            "test_clock": True,
            "ready_file": str(workdir / "ready.json"),
        }
        self.cfg.update(overrides)
        self.env_extra: dict[str, str] = {}
        self.proc: subprocess.Popen | None = None
        self.log = None
        self.smtp_port = self.http_port = 0

    def write_config(self) -> Path:
        path = self.workdir / "gateway.toml"
        path.write_text("".join(f"{k} = {_toml(v)}\n" for k, v in self.cfg.items()))
        return path

    def start(self) -> Gateway:
        self.launch()
        return self.wait_ready()

    def launch(self) -> Gateway:
        """Start the process without waiting for it to be ready."""
        ready = Path(self.cfg["ready_file"])
        if ready.exists():
            ready.unlink()
        env = {**os.environ, **self.env_extra}
        if "SMLITE_GATEWAY_VARIANT" not in self.env_extra:
            env.pop("SMLITE_GATEWAY_VARIANT", None)
        env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        self.log = open(self.workdir / "gateway.log", "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "harness.gateway", "--config", str(self.write_config())],
            cwd=str(ROOT),
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        return self

    def wait_ready(self, timeout: float = 30) -> Gateway:
        ready = Path(self.cfg["ready_file"])

        def is_ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"gateway exited with {self.proc.returncode}: {self.log_text()[-2000:]}")
            return ready.exists()

        wait_until(is_ready, timeout, interval=0.02, what="gateway ready file")
        info = json.loads(ready.read_text())
        self.smtp_port, self.http_port = info["smtp_port"], info["http_port"]
        return self

    def stop(self) -> int | None:
        rc = None
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        elif self.proc:
            rc = self.proc.returncode
        self.proc = None
        if self.log:
            self.log.close()
            self.log = None
        return rc

    def log_text(self) -> str:
        return (self.workdir / "gateway.log").read_text(errors="replace")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def admin(self, method: str, path: str, **kw) -> requests.Response:
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}", **kw.pop("headers", {})}
        return requests.request(method, self.url + path, headers=headers, timeout=10, **kw)

    def get(self, path: str, **kw) -> requests.Response:
        return requests.get(self.url + path, timeout=10, **kw)

    def post(self, path: str, **kw) -> requests.Response:
        return requests.post(self.url + path, timeout=10, **kw)

    def mpp_session(self, address: str) -> str:
        r = self.admin("POST", "/admin/api/mpp-sessions", json={"address": address})
        assert r.status_code == 201, r.text
        return r.json()["session"]

    def mpp_send(self, session: str, **body) -> requests.Response:
        return requests.post(
            self.url + "/mpp/api/messages", json=body, timeout=10, headers={"Authorization": f"Bearer {session}"}
        )

    def mpp_items(self, session: str) -> list[dict]:
        r = requests.get(self.url + "/mpp/api/messages", headers={"Authorization": f"Bearer {session}"}, timeout=10)
        assert r.status_code == 200, r.text
        return r.json()["items"]

    def portal_items(self, recipient: str) -> list[dict]:
        r = self.admin("GET", "/admin/api/sm-portal/messages", params={"recipient": recipient})
        assert r.status_code == 200, r.text
        return r.json()["items"]

    def smtp(self) -> smtplib.SMTP:
        s = smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=10)
        s.ehlo("tests.local")
        return s

    def send(self, raw: bytes | str, mail_from: str, rcpts: list[str]) -> tuple[int, bytes]:
        """Submit over SMTP; return the final (code, text) of DATA (or of the first refusal)."""
        if isinstance(raw, str):
            raw = raw.encode()
        s = self.smtp()
        try:
            code, text = s.mail(mail_from)
            if code != 250:
                return code, text
            for r in rcpts:
                code, text = s.rcpt(r)
                if code != 250:
                    return code, text
            return s.data(raw)
        finally:
            try:
                s.quit()
            except smtplib.SMTPException:
                s.close()


def _toml(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml(x)}" for k, x in v.items()) + " }"
    return json.dumps(v)


def make_message(
    *,
    frm: str,
    to: list[str],
    subject: str,
    text: str = "Hello there.\n",
    definition: str | None = "All",
    application: str | None = None,
    cc: list[str] = (),
    html: str | None = None,
    attachment: bytes | None = None,
    headers: dict | None = None,
) -> bytes:
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = frm
    msg["To"] = ", ".join(to)
    if cc:
        msg["Cc"] = ", ".join(cc)
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{uuid.uuid4().hex}@{INTERNAL}>"
    if definition is not None:
        msg["X-SM-Definition"] = definition
    if application is not None:
        msg["X-SM-Application"] = application
    for k, v in (headers or {}).items():
        msg[k] = v
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    if attachment is not None:
        msg.add_attachment(attachment, maintype="application", subtype="octet-stream", filename="data.bin")
    return msg.as_bytes()


@contextmanager
def read_only(folder: Path):
    """Make `folder` and its files read-only to the gateway, then writable again.

    Not root: chmod. Root (which ignores modes): a read-only bind mount over the
    folder. Neither possible: skip, saying why.
    """
    if os.geteuid() != 0:
        modes = {p: p.stat().st_mode for p in [folder, *folder.iterdir()]}
        for p in modes:
            p.chmod(0o555 if p == folder else 0o444)
        try:
            yield "chmod a-w"
        finally:
            for p, mode in modes.items():
                p.chmod(mode)
        return
    done = subprocess.run(["mount", "--bind", "-o", "ro", str(folder), str(folder)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot make {folder} read-only as root here (mount --bind -o ro: {done.stderr.strip()})")
    try:
        try:
            (folder / "probe").write_text("x")
        except OSError:
            pass
        else:
            pytest.skip("the read-only bind mount is writable here")
        yield "read-only bind mount"
    finally:
        if subprocess.run(["umount", str(folder)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(folder)], capture_output=True)
