"""What the sandbox and a run write is private, and no secret is printed: file modes, masking, TLS notices.

* The sandbox (real Mailpit and gateway, TLS and AUTH on) in a ``--run-dir`` that does not exist yet,
  started under a umask of 0o022 and given a secure message: the folder and every folder in it 0700,
  every file 0600 - the SQLite databases with their -wal and -shm files (sessions, portal tokens,
  every body), the logs, the gateway's config, the TLS files, the ready file.
* ``smlite sandbox up --run-dir --write-profile``: the state file and the profile (the admin token) 0600,
  folders it made 0700.
* The IMAP set-up (Postfix delivering into Dovecot, as tests/test_mailbox_imap.py starts it): the Dovecot
  config (the shared password), the master-user file and every delivered message owner-only; the
  folders Postfix's and Dovecot's users walk through 0711; and no file another local user can reach
  holds the passwords or the message.
* ``smlite run`` with ``tls_verify = false``: a WARNING line before the run, the report's notice, and
  its report folder 0700 with every file 0600. ``smlite target check`` of the same profile: a ``!``
  line (never a ✓), exit 0, and the Mailpit URL's password masked.
"""

from __future__ import annotations

import os
import re
import secrets
import smtplib
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.connection.connect import connect
from harness.drivers.base import Outgoing
from harness.errors import UsageError
from harness.profile.schema import from_sandbox, load, to_toml
from harness.report.render import render_html
from harness.sandbox import mailserver, procs
from harness.sandbox.lifecycle import Sandbox
from harness.sandbox.state import read_state
from tests.report.sample import full_run

REPO = Path(__file__).resolve().parents[2]
MAILPIT_PASSWORD = "Mailp1t-" + secrets.token_hex(8)


def modes(root: Path) -> dict[Path, int]:
    """Every folder and file under ``root`` (``root`` included) with its permission bits; links left out."""
    found = {root: stat.S_IMODE(root.lstat().st_mode)}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            info = path.lstat()
            if stat.S_ISDIR(info.st_mode) or stat.S_ISREG(info.st_mode):
                found[path] = stat.S_IMODE(info.st_mode)
    return found


def assert_private(root: Path) -> int:
    """Folders 0700, files 0600, nothing else; returns how many files were checked."""
    wrong = {str(path): oct(mode) for path, mode in modes(root).items() if mode != (0o700 if path.is_dir() else 0o600)}
    assert wrong == {}, f"not private under {root}: {wrong}"
    return sum(1 for path in modes(root) if path.is_file())


@pytest.fixture
def user_umask() -> Iterator[None]:
    """A common umask (0o022: files 0644), so privacy cannot come from the test's own umask."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.fixture(scope="module")
def tls_sandbox(tmp_path_factory) -> Iterator[Sandbox]:
    previous = os.umask(0o022)
    run_dir = tmp_path_factory.mktemp("private") / "not-yet" / "run"
    try:
        with Sandbox(run_dir, tls="starttls", auth=True, ready_deadline_s=30) as sandbox:
            yield sandbox
    except UsageError as exc:  # no Mailpit binary and no Go to build one
        pytest.skip(f"needs Mailpit: {exc}")
    finally:
        os.umask(previous)


def unverified_profile(sandbox: Sandbox, folder: Path) -> Path:
    """The sandbox's profile with tls_verify = false and a password in the Mailpit URL."""
    profile = from_sandbox(sandbox.info())
    profile.target["tls_verify"] = False
    profile.mailpit["api"] = profile.mailpit["api"].replace("http://", f"http://smlite:{MAILPIT_PASSWORD}@")
    path = folder / "unverified.toml"
    path.write_text(to_toml(profile), encoding="utf-8")
    return path


def smlite(tmp: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    entry = Path(sys.executable).with_name("smlite")
    argv = [str(entry), *args] if entry.exists() else [sys.executable, "-m", "harness.cli.main", *args]
    env = dict(os.environ, XDG_STATE_HOME=str(tmp / "state"))
    return subprocess.run(argv, cwd=tmp, env=env, capture_output=True, text=True, timeout=timeout, umask=0o022)


def test_the_sandbox_run_dir_is_0700_and_every_file_in_it_0600(tls_sandbox):
    profile = from_sandbox(tls_sandbox.info())
    tag = secrets.token_hex(6)
    with connect(profile) as connection:
        answer = connection.driver.send(
            "outlook", "All", Outgoing("alice@corp.example", ["bob@corp.example", "eve@ext.example"], tag, "body")
        )
        assert answer.ok, answer.text
        connection.mailbox.wait_for_messages("eve@ext.example", count=1, deadline_s=30)
        connection.driver.mpp_view("bob@corp.example")  # an MPP session in the gateway's database
    run_dir = tls_sandbox.run_dir
    names = {path.name for path in run_dir.rglob("*")}
    for expected in ("gateway.sqlite3", "gateway.sqlite3-wal", "mailpit.sqlite3", "gateway.log", "server.key"):
        assert expected in names, f"{expected} not written: {sorted(names)}"
    assert assert_private(run_dir) >= 10


def test_sandbox_up_keeps_its_state_file_and_profile_private(tmp_path):
    run_dir, profile = tmp_path / "new" / "run", tmp_path / "profiles" / "sandbox.toml"
    argv = [str(Path(sys.executable).with_name("smlite")), "sandbox", "up", "--name", "private-files"]
    argv += ["--run-dir", str(run_dir), "--write-profile", str(profile)]
    env = dict(os.environ, XDG_STATE_HOME=str(tmp_path / "state"))
    child = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, umask=0o022)
    try:
        said = []
        assert child.stdout is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = child.stdout.readline()
            said.append(line)
            if not line or line.startswith("Ctrl-C"):
                break
        assert said[-1].startswith("Ctrl-C"), "".join(said)
        state = tmp_path / "state" / "smlite" / "sandbox-private-files.json"
        assert read_state(state) is not None
        assert stat.S_IMODE(state.stat().st_mode) == 0o600 and stat.S_IMODE(state.parent.stat().st_mode) == 0o700
        assert stat.S_IMODE(profile.stat().st_mode) == 0o600
        assert stat.S_IMODE(profile.parent.stat().st_mode) == 0o700
        assert assert_private(run_dir) >= 8
    finally:
        child.terminate()
        out, _ = child.communicate(timeout=30)
    assert child.returncode == 0, out


def _readable_by_others(path: Path, root: Path) -> bool:
    """Whether another local user can open ``path``: every folder down from ``root`` searchable by
    others, and the file readable by them (``root``'s own parents are the system's temp dir)."""
    for folder in [root, *[p for p in path.parents if root in p.parents]]:
        if not folder.stat().st_mode & stat.S_IXOTH:
            return False
    return bool(path.stat().st_mode & stat.S_IROTH)


def test_the_imap_set_up_keeps_its_passwords_and_mail_private():
    if mailserver.available() is not None:
        pytest.skip(f"no IMAP mail path: {mailserver.available()}")
    previous = os.umask(0o022)
    try:
        path = mailserver.MailPath(["corp.example"]).start()
    finally:
        os.umask(previous)
    try:
        tag = "private-" + secrets.token_hex(6)
        with smtplib.SMTP(path.host, path.smtp_port, timeout=10) as smtp:
            smtp.sendmail("a@corp.example", ["bob@corp.example"], f"Subject: {tag}\r\n\r\n{tag} body\r\n")
        from harness.mailbox.imap import ImapMailbox, ImapSettings

        box = ImapMailbox(ImapSettings.from_profile(path.mailbox_settings(master=True)))  # Dovecot reads master-users
        try:
            assert box.wait_for_messages("bob@corp.example", count=1, deadline_s=30)
        finally:
            box.close()
        root = path.run_dir
        messages = [p for p in (root / "mail").rglob("*") if p.is_file() and p.parent.name in ("new", "cur")]
        assert messages, "no delivered message on disk"
        owner_only = [root / "dovecot" / "dovecot.conf", root / "dovecot" / "master-users", *messages]
        owner_only += list(root.rglob("*.log"))
        loose = {str(p): oct(stat.S_IMODE(p.stat().st_mode)) for p in owner_only if p.stat().st_mode & 0o077}
        assert loose == {}, f"readable beyond their owner: {loose}"
        assert stat.S_IMODE(root.stat().st_mode) == mailserver.TRAVERSE_ONLY
        for folder in ("dovecot", "postfix", "postfix/etc", "postfix/queue"):
            assert stat.S_IMODE((root / folder).stat().st_mode) == mailserver.TRAVERSE_ONLY, folder
        assert stat.S_IMODE((root / "mail").stat().st_mode) == 0o700
        secrets_in_files = (path.password, path.master_password, tag)
        exposed = []
        for file in root.rglob("*"):
            if file.is_file() and not file.is_symlink() and _readable_by_others(file, root):
                text = file.read_bytes().decode("utf-8", "replace")
                exposed += [f"{file}: {s[:8]}…" for s in secrets_in_files if s in text]
        assert exposed == [], f"another local user could read: {exposed}"
    finally:
        path.stop()


def test_target_check_warns_about_unchecked_tls_and_masks_the_mailpit_password(tls_sandbox, tmp_path):
    done = smlite(tmp_path, "target", "check", str(unverified_profile(tls_sandbox, tmp_path)))
    said = done.stdout + done.stderr
    assert done.returncode == 0, said
    assert MAILPIT_PASSWORD not in said and tls_sandbox.settings.admin_token not in said
    assert "InsecureRequestWarning" not in said  # the one line below says it, once
    warning = [line for line in done.stdout.splitlines() if "tls_verify = false" in line]
    assert len(warning) == 1 and warning[0].startswith("! "), warning
    mailpit = next(line for line in done.stdout.splitlines() if "sandbox Mailpit" in line)
    assert mailpit.startswith("✓") and "@127.0.0.1" in mailpit, mailpit
    assert done.stdout.strip().splitlines()[-1] == "target check passed — with 1 warning (marked !)"


def test_a_run_with_unchecked_tls_warns_and_keeps_its_report_private(tls_sandbox, tmp_path):
    reports = tmp_path / "reports"
    done = smlite(
        tmp_path,
        "run",
        "--target",
        str(unverified_profile(tls_sandbox, tmp_path)),
        "-q",
        "--reports-dir",
        str(reports),
        "-k",
        "T1-r1 and Outlook",
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    warnings = [line for line in done.stderr.splitlines() if line.startswith("smlite: WARNING:")]
    assert len(warnings) == 1 and "tls_verify = false" in warnings[0], done.stderr[-2000:]
    assert MAILPIT_PASSWORD not in done.stdout + done.stderr
    (run_dir,) = [p for p in reports.iterdir() if re.match(r"^\d{8}T\d{6}Z-", p.name)]
    assert assert_private(run_dir) >= 4  # every file private: the report's four and the pictures of the run
    assert {"index.html", "results.json", "junit.xml", "cucumber.json"} <= {p.name for p in run_dir.iterdir()}
    page = (run_dir / "index.html").read_text(encoding="utf-8")
    assert 'id="tls-unchecked-1"' in page and "tls_verify = false" in page
    assert MAILPIT_PASSWORD not in page
    assert load(tmp_path / "unverified.toml").target["tls_verify"] is False


def test_the_report_shows_no_notice_when_every_certificate_is_checked():
    results = full_run()
    assert 'id="tls-unchecked-' not in render_html(results)
    results.run.target["profile_settings"] = {"target": {"tls_verify": False}, "mailbox": {}}
    assert 'id="tls-unchecked-1"' in render_html(results)


def test_every_child_starts_with_a_private_umask(tmp_path, user_umask):
    child = procs.start_process(
        "umask",
        [sys.executable, "-c", "import os; open('made', 'w').write(oct(os.umask(0)))"],
        tmp_path / "umask.log",
        cwd=tmp_path,
    )
    procs.wait_until(lambda: not child.alive(), 20, "the child to exit")
    child.stop()
    assert (tmp_path / "made").read_text() == "0o77"
    assert stat.S_IMODE((tmp_path / "made").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "umask.log").stat().st_mode) == 0o600
