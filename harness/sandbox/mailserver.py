"""A real mail path for tests: Postfix accepting SMTP, delivering over LMTP into Dovecot, read over IMAP.

Owns ``MailPath``: a private Dovecot (imap + lmtp) and a private Postfix
(smtpd + the LMTP client), both Debian's packages (``scripts/bootstrap``
installs them as root), started as real processes of the current session on
loopback high ports with their configuration, queue, logs and maildirs under
one run dir, and stopped (then checked gone) when the ``with`` block ends:

    gateway --SMTP--> Postfix smtpd --LMTP--> Dovecot lmtp --> maildir <--IMAP-- harness.mailbox.imap

Every address at one of ``domains`` has a mailbox (a static userdb: no user
list to maintain); IMAP logins take the shared ``password`` or, as a Dovecot
master user, ``master_user``/``master_password`` with the mailbox named as
the SASL PLAIN authorization identity. Plain text only (``ssl = no``): it never
leaves 127.0.0.1.

Postfix's master refuses to run as anyone but root, so ``MailPath`` needs
root (``available()`` says why not); Dovecot alone also runs unprivileged.
Both run in the foreground (``dovecot -F``, ``postfix start-fg``) as children
in their own sessions (harness/sandbox/procs.py), so SIGTERM to the group ends every
process they forked; Postfix's master calls setsid() itself, so its pid (from
the queue's pid/master.pid) is signalled too. ``stop()`` then asserts that no
process of any of those sessions is left (HarnessError naming the pids).

Hand-written rather than a library: no PyPI package starts Dovecot or
Postfix; what is needed is two small configuration files each.
"""

from __future__ import annotations

import grp
import os
import pwd
import secrets
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from harness.errors import HarnessError
from harness.sandbox import private, procs
from harness.sandbox.mailserver_config import POSTFIX_MASTER_CF, MailServerConfig

DOVECOT = "/usr/sbin/dovecot"
POSTFIX = "/usr/sbin/postfix"
APT_PACKAGES = ("dovecot-imapd", "dovecot-lmtpd", "postfix")
# Folders Postfix's and Dovecot's unprivileged users must walk through (never list or read): the run dir,
# dovecot/ and postfix/. Files holding a password or mail are 0600; the children run with umask 0o077.
TRAVERSE_ONLY = 0o711


def available() -> str | None:
    """None if a MailPath can start here, else why not (one line)."""
    missing = [p for p in (DOVECOT, POSTFIX, str(POSTFIX_MASTER_CF)) if not Path(p).exists()]
    if missing:
        return (
            f"{', '.join(missing)} missing: as root run scripts/bootstrap --imap "
            f"(apt-get install {' '.join(APT_PACKAGES)})"
        )
    if os.geteuid() != 0:
        return "Postfix's master runs only as root (a private Postfix instance cannot start unprivileged)"
    return None


def imap_greeting(host: str, port: int, timeout_s: float = 2.0) -> str:
    """The IMAP server's first line ('* OK ...'); raises OSError if none."""
    with socket.create_connection((host, port), timeout=timeout_s) as sock:
        data = b""
        while b"\n" not in data:
            chunk = sock.recv(1024)
            if not chunk:
                break
            data += chunk
    return data.decode("latin-1").strip()


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _sessions_members(sessions: set[int]) -> list[int]:
    """Pids of live processes whose session id is one of `sessions`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[3]) in sessions:  # state, ppid, pgrp, session
            found.append(int(entry.name))
    return found


class MailPath(MailServerConfig):
    """Dovecot + Postfix for `domains`; ``with MailPath(domains=[...]) as mp: mp.smtp_port, mp.imap_port``."""

    def __init__(self, domains: Sequence[str], run_dir: str | Path | None = None, *, ready_deadline_s: float = 20.0):
        reason = available()
        if reason:
            raise HarnessError("Cannot start the IMAP mail path", reason)
        self.domains = [d.lower() for d in domains]
        self._given_run_dir = Path(run_dir).resolve() if run_dir else None
        self._temp: Path | None = None
        self.ready_deadline_s = ready_deadline_s
        self.host = procs.LOOPBACK
        self.password = secrets.token_urlsafe(12)
        self.master_user = "smlite-master"
        self.master_password = secrets.token_urlsafe(12)
        self.imap_port = self.lmtp_port = self.smtp_port = 0
        self.dovecot: procs.ChildProcess | None = None
        self.postfix: procs.ChildProcess | None = None
        self._sessions: set[int] = set()
        self.startup_seconds: float | None = None

    @property
    def run_dir(self) -> Path:
        run_dir = self._given_run_dir or self._temp
        assert run_dir is not None, "mail path not started"
        return run_dir

    # -- lifecycle -----------------------------------------------------------
    def start(self) -> MailPath:
        started = time.monotonic()
        if self._given_run_dir is None:
            self._temp = Path(tempfile.mkdtemp(prefix="smlite-mailpath-")).resolve()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.run_dir.chmod(TRAVERSE_ONLY)
        closed = [str(a) for a in self.run_dir.parents if not a.stat().st_mode & 0o001]
        if closed:
            self.stop()
            raise HarnessError(
                "The mail path's run dir is out of reach of Postfix's and Dovecot's users",
                f"{closed[0]} is not world-searchable (o+x); give a run dir elsewhere, or none "
                "(a fresh folder in the system temp dir)",
            )
        self.imap_port, self.lmtp_port, self.smtp_port = procs.free_ports(3)
        try:
            self._start_dovecot()
            self._start_postfix()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        return self

    def stop(self) -> None:
        master = self._postfix_master_pid()
        if master is not None:  # Postfix's master makes its own session: end it (and its children) first
            _signal(master, signal.SIGTERM)
        for child in (self.postfix, self.dovecot):
            if child is not None:
                child.stop()
        try:
            self._assert_gone()
        except HarnessError:
            for pid in self.leftover_pids():
                _signal(pid, signal.SIGKILL)
            raise
        if self._temp is not None:
            shutil.rmtree(self._temp, ignore_errors=True)
            self._temp = None

    def __enter__(self) -> MailPath:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def _postfix_master_pid(self) -> int | None:
        """Postfix's master (it calls setsid, so it is not in the child's session); adds its session."""
        if self._temp is None and self._given_run_dir is None:
            return None
        try:
            pid = int((self.run_dir / "postfix" / "queue" / "pid" / "master.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        self._sessions.add(pid)
        return pid

    def leftover_pids(self) -> list[int]:
        """Live processes of the Dovecot and Postfix sessions (none once stopped)."""
        return _sessions_members(self._sessions) if self._sessions else []

    def _assert_gone(self, deadline_s: float = 5.0) -> None:
        give_up = time.monotonic() + deadline_s
        while (left := self.leftover_pids()) and time.monotonic() < give_up:
            time.sleep(0.05)  # polling to a deadline for the kernel to reap the killed group
        if left:
            raise HarnessError("Mail path processes outlived their stop", f"pids {left} still run")

    def dead_processes(self) -> list[procs.ChildProcess]:
        return [c for c in (self.dovecot, self.postfix) if c is not None and not c.alive()]

    # -- Dovecot -------------------------------------------------------------
    def _start_dovecot(self) -> None:
        d = self.run_dir / "dovecot"
        for sub in ("run", "state"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        d.chmod(TRAVERSE_ONLY)
        (d / "state").chmod(0o700)  # read and written by Dovecot's master (root or this user) only
        users = private.write_private(d / "master-users", f"{self.master_user}:{{PLAIN}}{self.master_password}\n")
        if os.geteuid() == 0:  # Dovecot's auth process reads it as its internal user
            os.chown(users, pwd.getpwnam("dovecot").pw_uid, -1)
        mail = self.run_dir / "mail"
        mail.mkdir(exist_ok=True)
        mail.chmod(0o700)  # Dovecot gives new maildirs and messages the mode of this root: 0700 and 0600
        if os.geteuid() == 0:
            os.chown(mail, pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid)
        conf = private.write_private(d / "dovecot.conf", self.dovecot_config())  # the shared password
        self.dovecot = procs.start_process("dovecot", [DOVECOT, "-F", "-c", str(conf)], d / "stdout.log")
        self._sessions.add(self.dovecot.pid)
        child = self.dovecot

        def ready() -> bool:
            if not child.alive():
                raise HarnessError(
                    "Dovecot exited during startup",
                    f"exit code {child.returncode}",
                    observed=self._tail(d / "dovecot.log") + child.log_tail(),
                )
            return imap_greeting(self.host, self.imap_port, 1.0).startswith("* OK") and procs.smtp_greeting(
                self.host, self.lmtp_port, 1.0
            ).startswith("220")

        procs.wait_until(
            ready,
            self.ready_deadline_s,
            f"Dovecot greeting on IMAP {self.imap_port} and LMTP {self.lmtp_port}",
            observe=lambda: self._tail(d / "dovecot.log"),
        )

    # -- Postfix -------------------------------------------------------------
    def _start_postfix(self) -> None:
        p = self.run_dir / "postfix"
        etc = p / "etc"  # apart from the queue: `postfix check` wants everything under it owned by root
        for folder in (p, etc, p / "queue"):
            folder.mkdir(parents=True, exist_ok=True)
            folder.chmod(TRAVERSE_ONLY)
        (etc / "main.cf").write_text(self.postfix_main_cf())
        (etc / "master.cf").write_text(self.postfix_master_cf())
        procs.open_private_log(p / "postfix.log").close()  # postlogd appends to it; it would create it 0644
        self.postfix = procs.start_process("postfix", [POSTFIX, "-c", str(etc), "start-fg"], p / "stdout.log")
        self._sessions.add(self.postfix.pid)
        child = self.postfix

        def ready() -> bool:
            if not child.alive():
                raise HarnessError(
                    "Postfix exited during startup",
                    f"exit code {child.returncode}",
                    observed=self._tail(p / "postfix.log") + child.log_tail(),
                )
            return self._postfix_master_pid() is not None and procs.smtp_greeting(
                self.host, self.smtp_port, 1.0
            ).startswith("220")

        procs.wait_until(
            ready,
            self.ready_deadline_s,
            f"Postfix greeting with 220 on {self.smtp_port}",
            observe=lambda: self._tail(p / "postfix.log") + child.log_tail(),
        )

    @staticmethod
    def _tail(path: Path, lines: int = 20) -> str:
        try:
            return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) + "\n"
        except OSError:
            return f"(no {path})\n"

    # -- for profiles ----------------------------------------------------------
    def mailbox_settings(self, *, master: bool = False) -> dict[str, object]:
        """The profile's ``[mailbox]`` table for this mail path (shared password, or the master user)."""
        settings: dict[str, object] = {
            "kind": "imap",
            "host": self.host,
            "port": self.imap_port,
            "tls": "none",
            "user": "{address}",
        }
        if master:
            settings |= {"master_user": self.master_user, "password": self.master_password}
        else:
            settings["password"] = self.password
        return settings
