"""harness/sandbox/mailpit.py: finding the binary (pure logic, fake binaries) and
running the real Mailpit v1.33.1 (free ports, stopped, no process left)."""

from __future__ import annotations

import os
import smtplib
import stat
import threading
from email.message import EmailMessage
from pathlib import Path

import pytest

from harness.errors import HarnessError, UsageError
from harness.mailbox.mailpit import MailpitClient
from harness.sandbox import procs
from harness.sandbox.mailpit import MAILPIT_VERSION, MailpitProcess, build_info, find_mailpit, mailpit_cache_dir


def write_script(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def fake_mailpit(path: Path, version: str) -> Path:
    return write_script(path, f'echo "{path} {version} compiled with go1.26 on linux/amd64"\n')


def bare_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """No MAILPIT_BIN, an empty PATH dir, a private cache: nothing to find."""
    (tmp_path / "bin").mkdir(exist_ok=True)
    env = {"PATH": str(tmp_path / "bin"), "HOME": str(tmp_path / "home"), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    env.update(extra)
    return env


def process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"


# -- find_mailpit ---------------------------------------------------------------


def test_cache_dir_follows_xdg_cache_home(tmp_path):
    # "-ui": the build with the web UI; an older UI-less cache is not reused, so it is rebuilt once with UI
    assert mailpit_cache_dir({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "smlite" / "mailpit-v1.33.1-ui"
    assert mailpit_cache_dir({"HOME": "/h"}) == Path("/h/.cache/smlite/mailpit-v1.33.1-ui")


def test_mailpit_bin_wins_over_path_and_cache(tmp_path):
    chosen = fake_mailpit(tmp_path / "chosen" / "mailpit", MAILPIT_VERSION)
    fake_mailpit(tmp_path / "bin" / "mailpit", MAILPIT_VERSION)
    fake_mailpit(mailpit_cache_dir(bare_env(tmp_path)) / "mailpit", MAILPIT_VERSION)
    assert find_mailpit(bare_env(tmp_path, MAILPIT_BIN=str(chosen))) == chosen


def test_mailpit_bin_must_be_executable(tmp_path):
    with pytest.raises(UsageError, match="MAILPIT_BIN is not an executable"):
        find_mailpit(bare_env(tmp_path, MAILPIT_BIN=str(tmp_path / "missing")))


def test_mailpit_bin_with_another_version_is_refused(tmp_path):
    old = fake_mailpit(tmp_path / "old" / "mailpit", "v1.27.0")
    with pytest.raises(UsageError) as caught:
        find_mailpit(bare_env(tmp_path, MAILPIT_BIN=str(old)))
    assert "v1.27.0" in str(caught.value) and MAILPIT_VERSION in str(caught.value)


def test_path_is_used_when_it_has_the_right_version(tmp_path):
    on_path = fake_mailpit(tmp_path / "bin" / "mailpit", MAILPIT_VERSION)
    fake_mailpit(mailpit_cache_dir(bare_env(tmp_path)) / "mailpit", "dev")
    assert find_mailpit(bare_env(tmp_path)) == on_path


def test_path_with_wrong_version_falls_back_to_the_cache(tmp_path, capsys):
    fake_mailpit(tmp_path / "bin" / "mailpit", "v1.20.0")
    cached = fake_mailpit(mailpit_cache_dir(bare_env(tmp_path)) / "mailpit", "dev")
    assert find_mailpit(bare_env(tmp_path)) == cached
    assert "ignoring" in capsys.readouterr().err


def test_no_binary_and_no_go_names_every_way_to_get_it(tmp_path):
    with pytest.raises(UsageError) as caught:
        find_mailpit(bare_env(tmp_path))
    text = str(caught.value)
    assert text.count("\n") == 0, "one message, one line"
    for way in (
        "MAILPIT_BIN",
        "PATH",
        "install Go",
        "docker compose up",
        "docker-compose.yml",
        str(mailpit_cache_dir(bare_env(tmp_path))),
    ):
        assert way in text


FAKE_GO = """\
if [ "$1" = install ]; then
  echo "$2" >> "{log}"
  printf '#!/bin/sh\\necho "mailpit dev compiled with go1.26"\\n' > "$GOBIN/mailpit"
  /bin/chmod +x "$GOBIN/mailpit"
fi
"""


def test_builds_once_with_go_into_the_cache(tmp_path, capsys):
    log = tmp_path / "go-calls.log"
    write_script(tmp_path / "bin" / "go", FAKE_GO.format(log=log))
    env = bare_env(tmp_path)
    results: list[Path] = []
    threads = [threading.Thread(target=lambda: results.append(find_mailpit(env))) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    target = mailpit_cache_dir(env) / "mailpit"
    assert results == [target] * 3
    assert log.read_text().splitlines() == [f"github.com/axllent/mailpit@{MAILPIT_VERSION}"]
    err = capsys.readouterr().err
    assert err.count("building Mailpit v1.33.1 once into") == 1 and "a few minutes" in err
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".build-")]
    # no npm on this PATH: the UI-less build, said on stderr and recorded next to the binary
    assert err.count("without its web UI (npm/node not installed)") == 1
    assert build_info(target)["ui"] is False and build_info(target)["ui_problem"] == "npm/node not installed"


def test_npm_that_cannot_reach_its_registry_falls_back_to_the_ui_less_build(tmp_path, capsys):
    module = tmp_path / "modcache" / "mailpit@v1.33.1"
    module.mkdir(parents=True)
    (module / "package.json").write_text('{"dependencies": {"rapidoc": "^12.0.0"}}')
    (module / "package-lock.json").write_text("{}")
    log = tmp_path / "go-calls.log"
    write_script(
        tmp_path / "bin" / "go",
        FAKE_GO.format(log=log) + f'if [ "$1" = mod ]; then echo \'{{"Dir": "{module}"}}\'; fi\n',
    )
    write_script(tmp_path / "bin" / "node", "echo v20.0.0\n")
    write_script(tmp_path / "bin" / "npm", 'echo "npm error code ENOTFOUND registry.npmjs.org" >&2; exit 1\n')
    env = bare_env(tmp_path)
    target = find_mailpit(env)
    assert target == mailpit_cache_dir(env) / "mailpit"
    err = capsys.readouterr().err
    assert "without its web UI (npm install failed (npm registry unreachable?)" in err and "ENOTFOUND" in err
    info = build_info(target)
    assert info["ui"] is False and "ENOTFOUND" in info["ui_problem"]
    assert log.read_text().splitlines() == [f"github.com/axllent/mailpit@{MAILPIT_VERSION}"]  # go install ran
    assert (module / "package-lock.json").exists()  # the module cache itself is never changed


def test_the_cached_binary_has_the_web_ui_when_npm_was_there():
    """The real cache of this machine (bootstrap built it): the UI build, with the versions it used."""
    info = build_info(find_mailpit())
    if info is None:
        pytest.fail(
            "no build-info.json next to the Mailpit binary: MAILPIT_BIN/PATH binaries carry none; "
            "unset MAILPIT_BIN to test the cache's own build"
        )
    assert info["ui"] is True, info.get("ui_problem")
    assert info["npm_packages"]["rapidoc"].startswith("9.") and info["node"] and info["npm"]


def test_failed_build_says_so_and_how_else_to_get_mailpit(tmp_path):
    write_script(tmp_path / "bin" / "go", 'echo "go: module lookup disabled" >&2; exit 1\n')
    with pytest.raises(UsageError) as caught:
        find_mailpit(bare_env(tmp_path))
    assert "failed" in caught.value.title and "module lookup disabled" in str(caught.value)
    assert "MAILPIT_BIN" in str(caught.value)


def test_the_real_binary_is_found():
    binary = find_mailpit()
    assert binary.is_file() and os.access(binary, os.X_OK)


# -- MailpitProcess (real Mailpit) --------------------------------------------------


def send(mailpit: MailpitProcess, to: str, subject: str) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "alice@corp.example", to, subject
    message.set_content("hello")
    with smtplib.SMTP(mailpit.smtp_host, mailpit.smtp_port, timeout=5) as smtp:
        smtp.send_message(message)


def test_starts_ready_on_loopback_and_stops_without_leftovers(tmp_path):
    with MailpitProcess(tmp_path) as mailpit:
        pid = mailpit.pid
        assert mailpit.api_url == f"http://127.0.0.1:{mailpit.http_port}"
        assert mailpit.ui_url == mailpit.api_url + "/"
        assert procs.http_status(mailpit.api_url + "/readyz") == 200
        assert procs.smtp_greeting(mailpit.smtp_host, mailpit.smtp_port).startswith("220")
        argv = mailpit.argv()
        for flag in ("--disable-version-check", "--smtp-disable-rdns", "--smtp-max-recipients"):
            assert flag in argv
        assert argv[argv.index("--max") + 1] == "0"
        assert (tmp_path / "mailpit.sqlite3").exists()
    assert process_gone(pid)
    assert pid not in [c.pid for c in procs.live_children()]


def test_restart_keeps_ports_and_messages(tmp_path):
    with MailpitProcess(tmp_path) as mailpit:
        ports, first_pid = (mailpit.http_port, mailpit.smtp_port), mailpit.pid
        send(mailpit, "bob@ext.example", "before restart")
        client = MailpitClient(mailpit.api_url)
        client.wait_for_messages("bob@ext.example")
        mailpit.restart()
        assert (mailpit.http_port, mailpit.smtp_port) == ports and mailpit.pid != first_pid
        assert process_gone(first_pid)
        assert [m.subject for m in client.messages_to("bob@ext.example")] == ["before restart"]


def test_killed_mailpit_is_down_then_back(tmp_path):
    with MailpitProcess(tmp_path) as mailpit:
        killed = mailpit.pid
        mailpit.kill()
        assert process_gone(killed) and not mailpit.alive()
        with pytest.raises(HarnessError, match="Mailpit unreachable"):
            MailpitClient(mailpit.api_url).count()
        mailpit.start()
        assert MailpitClient(mailpit.api_url).count() == 0


def test_chaos_triggers_make_smtp_refuse(tmp_path):
    with MailpitProcess(tmp_path, chaos_triggers="Recipient:451:100") as mailpit:
        assert "--enable-chaos" in mailpit.argv()
        with pytest.raises(smtplib.SMTPRecipientsRefused) as caught:
            send(mailpit, "bob@ext.example", "refused")
        assert caught.value.recipients["bob@ext.example"][0] == 451


def test_startup_failure_shows_mailpit_log(tmp_path):
    with pytest.raises(HarnessError) as caught:
        MailpitProcess(tmp_path, extra_args=["--no-such-flag"]).start()
    assert "exited during startup" in caught.value.title
    assert "no-such-flag" in str(caught.value.observed)
