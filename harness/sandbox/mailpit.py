"""Mailpit, the real one: running it.

Owns ``MailpitProcess``: one Mailpit on free loopback ports with its own database in a run dir,
sandbox flags, and stop / restart (same ports and database) / kill. Finding the binary, or building it
once with its web UI, is harness/sandbox/mailpit_build.py's (``find_mailpit`` and its helpers are
re-exported here).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from harness.errors import HarnessError
from harness.sandbox import private, procs
from harness.sandbox.mailpit_build import (  # noqa: F401  (the finding half, re-exported)
    MAILPIT_VERSION,
    SANDBOX_FLAGS,
    build_info,
    find_mailpit,
    mailpit_cache_dir,
    reported_version,
)


class MailpitProcess:
    """One Mailpit on free loopback ports, with its database in `run_dir`.

    Ready only when ``GET /readyz`` answers 200 and the SMTP port greets with
    220. ``chaos=True`` adds ``--enable-chaos`` (so ``PUT /api/v1/chaos`` works);
    ``chaos_triggers`` (e.g. ``"Recipient:451:100"``) sets them at start.
    """

    def __init__(
        self,
        run_dir: Path,
        *,
        binary: Path | None = None,
        chaos: bool = False,
        chaos_triggers: str | None = None,
        extra_args: Sequence[str] = (),
        ready_deadline_s: float = 15.0,
        host: str = procs.LOOPBACK,
    ):
        self.run_dir = Path(run_dir)
        self.binary = binary or find_mailpit()
        self.chaos = chaos
        self.chaos_triggers = chaos_triggers
        self.extra_args = list(extra_args)
        self.ready_deadline_s = ready_deadline_s
        self.smtp_host = host
        self.http_port, self.smtp_port = procs.free_ports(2, host)
        self.database_path = self.run_dir / "mailpit.sqlite3"
        self.log_path = self.run_dir / "mailpit.log"
        self.child: procs.ChildProcess | None = None

    @property
    def api_url(self) -> str:
        return f"http://{self.smtp_host}:{self.http_port}"

    @property
    def ui_url(self) -> str:
        return self.api_url + "/"

    @property
    def pid(self) -> int | None:
        return self.child.pid if self.child else None

    def alive(self) -> bool:
        return self.child is not None and self.child.alive()

    def argv(self) -> list[str]:
        argv = [
            str(self.binary),
            "--listen",
            f"{self.smtp_host}:{self.http_port}",
            "--smtp",
            f"{self.smtp_host}:{self.smtp_port}",
            "--database",
            str(self.database_path),
            *SANDBOX_FLAGS,
        ]
        if self.chaos or self.chaos_triggers:
            argv.append("--enable-chaos")
        if self.chaos_triggers:
            argv += ["--chaos-triggers", self.chaos_triggers]
        return argv + self.extra_args

    def start(self) -> MailpitProcess:
        if self.alive():
            return self
        private.make_private_folder(self.run_dir)
        # MP_* variables configure Mailpit too; only our flags should
        env = {k: v for k, v in os.environ.items() if not k.startswith("MP_")}
        self.child = procs.start_process("mailpit", self.argv(), self.log_path, env=env)
        procs.wait_until(
            self._ready,
            self.ready_deadline_s,
            f"Mailpit answering {self.api_url}/readyz with 200 and greeting "
            f"with 220 on SMTP {self.smtp_host}:{self.smtp_port}",
        )
        return self

    def _ready(self) -> bool:
        child = self.child
        assert child is not None
        if not child.alive():
            raise HarnessError(
                "Mailpit exited during startup",
                f"exit code {child.returncode}; command: {' '.join(child.argv)}",
                observed=child.log_tail(),
            )
        if procs.http_status(f"{self.api_url}/readyz", timeout_s=1.0) != 200:
            return False
        return procs.smtp_greeting(self.smtp_host, self.smtp_port, timeout_s=1.0).startswith("220")

    def stop(self, deadline_s: float = 5.0) -> None:
        if self.child is not None:
            self.child.stop(deadline_s)

    def kill(self) -> None:
        if self.child is not None:
            self.child.kill()

    def restart(self) -> MailpitProcess:
        """Stop, then start again on the same ports with the same database."""
        self.stop()
        return self.start()

    def __enter__(self) -> MailpitProcess:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
