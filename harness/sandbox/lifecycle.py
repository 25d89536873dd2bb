"""The local sandbox: Mailpit plus the reference gateway, as real processes.

Owns:

* ``Sandbox``: a run dir (a temp dir, removed on stop, or one given and
  kept; made 0700, and every file in it 0600: the children run with umask 0o077), Mailpit (harness/sandbox/mailpit.py), then the gateway
  (``python -m harness.gateway --config RUN_DIR/gateway.toml``) relaying to
  Mailpit, each started with a deadline and checked ready (Mailpit /readyz;
  gateway ready_file, GET /healthz 200 and an SMTP 220). ``info()`` lists
  every URL and port; ``restart_gateway``, ``stop_mailpit``/``start_mailpit``
  serve restart and "Mailpit down, then back" scenarios.
* TLS and AUTH on request (``tls="starttls"|"implicit"``, ``auth=True``,
  ``http_tls``; harness/sandbox/tls.py makes the CA, certificate and account):
  the gateway is then checked ready over TLS, and info() adds ``smtp_tls``,
  ``ca_bundle``, ``smtp_username`` and ``smtp_password``.
* ``GatewaySettings``: what the sandbox chooses for the gateway's TOML
  (docs/contract.md); anything else goes in ``extra``.
* writing the state file (harness/sandbox/state.py) while it runs, when given a
  ``state_path``; tests pass their own or none, never clobbering a user's sandbox.

The commands that print and wait (``smlite sandbox up`` / ``status``) are in
harness/cli/sandbox.py.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.files import toml_text
from harness.mailbox.mailpit import MailpitClient
from harness.sandbox import private, procs
from harness.sandbox.mailpit import MailpitProcess
from harness.sandbox.state import read_state
from harness.sandbox.tls import TlsSetup

PACKAGE_ROOT = Path(__file__).resolve().parents[2]
VARIANT_ENV = "SMLITE_GATEWAY_VARIANT"


@dataclass
class GatewaySettings:
    internal_domains: list[str] = field(default_factory=lambda: ["corp.example"])
    admin_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    test_clock: bool = True
    variant: str = ""
    extra: dict[str, Any] = field(default_factory=dict)  # any other contract key

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> GatewaySettings:
        own = {f.name for f in fields(cls)} - {"extra"}
        settings = cls(**{k: v for k, v in data.items() if k in own})
        settings.extra.update({k: v for k, v in data.items() if k not in own})
        return settings


class Sandbox:
    """Mailpit + gateway; ``with Sandbox() as sb: sb.info()``.

    ``variant`` and ``internal_domains`` override those of ``settings``.
    ``with_gateway=False`` runs Mailpit alone (the gateway keys of info() are
    then None). ``gateway_argv`` replaces ``[python, -m, harness.gateway]``
    (``--config FILE`` is appended), e.g. for a stand-in in tests.
    ``relay=(host, port)`` has the gateway relay there instead, and then no
    Mailpit is started (info()'s Mailpit keys are None): e.g. a Postfix
    delivering into IMAP mailboxes (harness/sandbox/mailserver.py).
    """

    def __init__(
        self,
        run_dir: str | Path | None = None,
        settings: GatewaySettings | Mapping[str, Any] | None = None,
        *,
        variant: str | None = None,
        internal_domains: Sequence[str] | None = None,
        with_gateway: bool = True,
        mailpit_options: Mapping[str, Any] | None = None,
        state_path: Path | None = None,
        gateway_argv: Sequence[str] | None = None,
        ready_deadline_s: float = 20.0,
        relay: tuple[str, int] | None = None,
        tls: str = "none",
        auth: bool = False,
        http_tls: bool | None = None,
    ):
        if settings is None or isinstance(settings, GatewaySettings):
            self.settings = settings or GatewaySettings()
        else:
            self.settings = GatewaySettings.from_mapping(settings)
        if variant is not None:
            self.settings.variant = variant
        if internal_domains:
            self.settings.internal_domains = list(internal_domains)
        if not self.settings.variant and os.environ.get(VARIANT_ENV):
            self.settings.variant = os.environ[VARIANT_ENV]  # adopted, so info() tells the truth
        self._given_run_dir = Path(run_dir).resolve() if run_dir else None
        self._temp_run_dir: Path | None = None  # made by start(), removed by stop()
        self.with_gateway = with_gateway
        self.mailpit_options = dict(mailpit_options or {})
        self.state_path = state_path
        self.gateway_argv = list(gateway_argv or [sys.executable, "-m", "harness.gateway"])
        self.ready_deadline_s = ready_deadline_s
        self.relay = relay
        self.mailpit: MailpitProcess | None = None
        self.gateway: procs.ChildProcess | None = None
        self.gateway_ports: dict[str, int] = {"smtp_port": 0, "http_port": 0}
        self.startup_seconds: float | None = None
        # TLS on the submission port brings HTTPS along unless told otherwise (a private CA, as on staging)
        self.tls = TlsSetup(tls, auth, tls != "none" if http_tls is None else http_tls)

    # -- lifecycle -----------------------------------------------------------
    def start(self) -> Sandbox:
        started = time.monotonic()
        if self._given_run_dir is None:
            self._temp_run_dir = private.make_private_dir("smlite-sandbox-")
        private.make_private_folder(self.run_dir)  # its databases hold sessions, tokens and every body
        try:
            if self.relay is None:
                self.mailpit = MailpitProcess(
                    self.run_dir, ready_deadline_s=self.ready_deadline_s, **self.mailpit_options
                ).start()
            if self.with_gateway:
                self._start_gateway()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        self._write_state()
        return self

    def stop(self) -> None:
        if self.gateway is not None:
            self.gateway.stop()
        if self.mailpit is not None:
            self.mailpit.stop()
        self._remove_state()
        if self._temp_run_dir is not None:
            shutil.rmtree(self._temp_run_dir, ignore_errors=True)
            self._temp_run_dir = None

    @property
    def run_dir(self) -> Path:
        run_dir = self._given_run_dir or self._temp_run_dir
        assert run_dir is not None, "sandbox not started"
        return run_dir

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def restart_gateway(self, variant: str | None = None) -> None:
        """Stop the gateway and start it again (same ports and database)."""
        if variant is not None:
            self.settings.variant = variant
        if self.gateway is not None:
            self.gateway.stop()
        self._start_gateway()
        self._write_state()

    def stop_mailpit(self) -> None:
        assert self.mailpit is not None, "sandbox not started"
        self.mailpit.stop()

    def start_mailpit(self) -> None:
        assert self.mailpit is not None, "sandbox not started"
        self.mailpit.start()

    @property
    def mailbox(self) -> MailpitClient:
        assert self.mailpit is not None, "sandbox not started"
        return MailpitClient(self.mailpit.api_url)

    def dead_processes(self) -> list[procs.ChildProcess]:
        children = [self.mailpit.child if self.mailpit else None, self.gateway]
        return [c for c in children if c is not None and not c.alive()]

    # -- what is where -------------------------------------------------------
    def info(self) -> dict[str, Any]:
        assert self.mailpit is not None or self.gateway is not None, "sandbox not started"
        mp, host = self.mailpit, procs.LOOPBACK
        scheme = "https" if self.tls.http_tls else "http"
        http = f"{scheme}://{host}:{self.gateway_ports['http_port']}" if self.gateway else None
        return {
            "mailpit_api": mp and mp.api_url,
            "mailpit_ui": mp and mp.ui_url,
            "mailpit_smtp": mp and (mp.smtp_host, mp.smtp_port),
            "gateway_smtp": (host, self.gateway_ports["smtp_port"]) if self.gateway else None,
            "gateway_http": http,
            "mpp_url": http and f"{http}/mpp",
            "sm_portal_url": http and f"{http}/sm-portal",
            "admin_url": http and f"{http}/admin",
            "admin_token": self.settings.admin_token,
            "internal_domains": list(self.settings.internal_domains),
            "variant": self.settings.variant,
            "gateway_settings": {**self.settings.extra, "test_clock": self.settings.test_clock},
            "run_dir": str(self.run_dir),
            **({"relay": self.relay} if self.relay else {}),
            "pids": {"mailpit": mp and mp.pid, "gateway": self.gateway.pid if self.gateway else None},
            **(self._tls_info() if self.tls.active and self.gateway else {}),
        }

    def _tls_info(self) -> dict[str, Any]:
        t = self.tls
        return {
            "smtp_tls": t.smtp_tls,
            "http_tls": t.http_tls,
            "ca_bundle": str(t.ca_bundle) if t.ca_bundle else None,
            "smtp_username": t.username if t.auth else None,
            "smtp_password": t.password if t.auth else None,
        }

    # -- gateway -------------------------------------------------------------
    def gateway_config(self) -> dict[str, Any]:
        assert self.mailpit is not None or self.relay is not None
        relay = self.relay or (self.mailpit.smtp_host, self.mailpit.smtp_port)  # type: ignore[union-attr]
        s = self.settings
        return {
            "internal_domains": list(s.internal_domains),
            "smtp_host": procs.LOOPBACK,
            "smtp_port": self.gateway_ports["smtp_port"],
            "http_host": procs.LOOPBACK,
            "http_port": self.gateway_ports["http_port"],
            "database": str(self.run_dir / "gateway.sqlite3"),
            "relay_host": relay[0],
            "relay_port": relay[1],
            "admin_token": s.admin_token,
            "test_clock": s.test_clock,
            "variant": s.variant,
            "sandbox_sign_in": True,  # the printed MPP URL opens a sign-in page (pick or type a user)
            "ready_file": str(self.run_dir / "gateway.ready.json"),
            **s.extra,
            **(self.tls.prepare(self.run_dir) if self.tls.active else {}),
        }

    def _start_gateway(self) -> None:
        config = self.gateway_config()
        config_path = self.run_dir / "gateway.toml"
        private.write_private(config_path, toml_text(config))  # it holds the admin token
        ready_file = Path(config["ready_file"])
        ready_file.unlink(missing_ok=True)
        env = {k: v for k, v in os.environ.items() if k != VARIANT_ENV}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PACKAGE_ROOT), env.get("PYTHONPATH")]))
        self.gateway = procs.start_process(
            "gateway",
            [*self.gateway_argv, "--config", str(config_path)],
            self.run_dir / "gateway.log",
            env=env,
            cwd=self.run_dir,
        )
        child = self.gateway

        def ready() -> bool:
            if not child.alive():
                raise HarnessError(
                    "The gateway exited during startup",
                    f"exit code {child.returncode}; command: {' '.join(child.argv)}",
                    observed=child.log_tail(),
                )
            ports = json.loads(ready_file.read_text())  # OSError/ValueError: not yet
            self.gateway_ports = {"smtp_port": ports["smtp_port"], "http_port": ports["http_port"]}
            base = f"{'https' if self.tls.http_tls else 'http'}://{procs.LOOPBACK}:{ports['http_port']}"
            context = self.tls.client_context()
            smtp_context = context if self.tls.smtp_tls == "implicit" else None
            return procs.http_status(
                f"{base}/healthz", timeout_s=1.0, ssl_context=context
            ) == 200 and procs.smtp_greeting(
                procs.LOOPBACK, ports["smtp_port"], 1.0, ssl_context=smtp_context
            ).startswith("220")

        procs.wait_until(
            ready,
            self.ready_deadline_s,
            f"the gateway to write {ready_file}, answer GET /healthz with 200 and greet with SMTP 220",
            retry_on=(OSError, ValueError),
            observe=lambda: f"log tail:\n{child.log_tail()}",
        )

    # -- state file ----------------------------------------------------------
    def _write_state(self) -> None:
        if self.state_path is None:
            return
        state = {**self.info(), "owner_pid": os.getpid(), "started_at": time.time()}
        private.write_private(self.state_path, json.dumps(state, indent=2))

    def _remove_state(self) -> None:
        state = read_state(self.state_path, include_stale=True) if self.state_path else None
        if state and self.state_path and state.get("owner_pid") == os.getpid():
            self.state_path.unlink(missing_ok=True)
