"""The local sandbox: Mailpit plus the reference gateway, as real processes.

Owns:

* ``Sandbox``: a run dir (a temp dir, removed on stop, or one given and
  kept), Mailpit (harness/mailpit.py), then the gateway
  (``python -m harness.gateway --config RUN_DIR/gateway.toml``) relaying to
  Mailpit, each started with a deadline and checked ready (Mailpit /readyz;
  gateway ready_file, GET /healthz 200 and an SMTP 220). ``info()`` lists
  every URL and port; ``restart_gateway``, ``stop_mailpit``/``start_mailpit``
  serve restart and "Mailpit down, then back" scenarios.
* TLS and AUTH on request (``tls="starttls"|"implicit"``, ``auth=True``,
  ``http_tls``; harness/sandbox_tls.py makes the CA, certificate and account):
  the gateway is then checked ready over TLS, and info() adds ``smtp_tls``,
  ``ca_bundle``, ``smtp_username`` and ``smtp_password``.
* ``GatewaySettings``: what the sandbox chooses for the gateway's TOML
  (docs/contract.md); anything else goes in ``extra``.
* the state file ``${XDG_STATE_HOME:-~/.local/state}/smlite/sandbox.json``,
  written while ``smlite sandbox up`` runs, so ``smlite sandbox status``
  (another process) can ``read_state()`` and ``probe()`` each URL; tests pass
  their own ``state_path`` or none, never clobbering a user's sandbox.
* ``cmd_up`` / ``cmd_status``: the CLI commands (args: ``domains``,
  ``variant``, ``run_dir``; optional ``mailpit_only``, ``gateway_settings``,
  a GatewaySettings, and ``on_ready(sandbox)``, called once everything answers).

The TOML is written by hand (``_toml``): only strings, numbers, booleans and
lists of those are needed, and the standard library reads TOML but cannot
write it.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from harness import procs
from harness.errors import HarnessError, UsageError
from harness.mailbox import MailpitClient
from harness.mailpit import MailpitProcess
from harness.sandbox_tls import TlsSetup

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
GATEWAY_MAIN = PACKAGE_ROOT / "harness" / "gateway" / "__main__.py"
VARIANT_ENV = "SMLITE_GATEWAY_VARIANT"


@dataclass
class GatewaySettings:
    internal_domains: list[str] = field(default_factory=lambda: ["corp.example"])
    admin_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    test_clock: bool = True
    variant: str = ""
    extra: dict[str, Any] = field(default_factory=dict)  # any other contract key

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> "GatewaySettings":
        own = {f.name for f in fields(cls)} - {"extra"}
        settings = cls(**{k: v for k, v in data.items() if k in own})
        settings.extra.update({k: v for k, v in data.items() if k not in own})
        return settings


def state_file_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_STATE_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".local/state")
    return Path(base) / "smlite" / "sandbox.json"


class Sandbox:
    """Mailpit + gateway; ``with Sandbox() as sb: sb.info()``.

    ``variant`` and ``internal_domains`` override those of ``settings``.
    ``with_gateway=False`` runs Mailpit alone (the gateway keys of info() are
    then None). ``gateway_argv`` replaces ``[python, -m, harness.gateway]``
    (``--config FILE`` is appended), e.g. for a stand-in in tests.
    """

    def __init__(self, run_dir: str | Path | None = None,
                 settings: GatewaySettings | Mapping[str, Any] | None = None, *,
                 variant: str | None = None, internal_domains: Sequence[str] | None = None,
                 with_gateway: bool = True, mailpit_options: Mapping[str, Any] | None = None,
                 state_path: Path | None = None, gateway_argv: Sequence[str] | None = None,
                 ready_deadline_s: float = 20.0, tls: str = "none", auth: bool = False,
                 http_tls: bool | None = None):
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
        self.mailpit: MailpitProcess | None = None
        self.gateway: procs.ChildProcess | None = None
        self.gateway_ports: dict[str, int] = {"smtp_port": 0, "http_port": 0}
        self.startup_seconds: float | None = None
        # TLS on the submission port brings HTTPS along unless told otherwise (a private CA, as on staging)
        self.tls = TlsSetup(tls, auth, tls != "none" if http_tls is None else http_tls)

    # -- lifecycle -----------------------------------------------------------
    def start(self) -> "Sandbox":
        started = time.monotonic()
        if self._given_run_dir is None:
            self._temp_run_dir = Path(tempfile.mkdtemp(prefix="smlite-sandbox-")).resolve()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        try:
            self.mailpit = MailpitProcess(self.run_dir, ready_deadline_s=self.ready_deadline_s,
                                          **self.mailpit_options).start()
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

    def __enter__(self) -> "Sandbox":
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
        assert self.mailpit is not None, "sandbox not started"
        mp, host = self.mailpit, procs.LOOPBACK
        scheme = "https" if self.tls.http_tls else "http"
        http = f"{scheme}://{host}:{self.gateway_ports['http_port']}" if self.gateway else None
        return {
            "mailpit_api": mp.api_url, "mailpit_ui": mp.ui_url,
            "mailpit_smtp": (mp.smtp_host, mp.smtp_port),
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
            "pids": {"mailpit": mp.pid, "gateway": self.gateway.pid if self.gateway else None},
            **(self._tls_info() if self.tls.active and self.gateway else {}),
        }

    def _tls_info(self) -> dict[str, Any]:
        t = self.tls
        return {"smtp_tls": t.smtp_tls, "http_tls": t.http_tls,
                "ca_bundle": str(t.ca_bundle) if t.ca_bundle else None,
                "smtp_username": t.username if t.auth else None,
                "smtp_password": t.password if t.auth else None}

    # -- gateway -------------------------------------------------------------
    def gateway_config(self) -> dict[str, Any]:
        assert self.mailpit is not None
        s = self.settings
        return {
            "internal_domains": list(s.internal_domains),
            "smtp_host": procs.LOOPBACK, "smtp_port": self.gateway_ports["smtp_port"],
            "http_host": procs.LOOPBACK, "http_port": self.gateway_ports["http_port"],
            "database": str(self.run_dir / "gateway.sqlite3"),
            "relay_host": self.mailpit.smtp_host, "relay_port": self.mailpit.smtp_port,
            "admin_token": s.admin_token, "test_clock": s.test_clock, "variant": s.variant,
            "ready_file": str(self.run_dir / "gateway.ready.json"),
            **s.extra,
            **(self.tls.prepare(self.run_dir) if self.tls.active else {}),
        }

    def _start_gateway(self) -> None:
        config = self.gateway_config()
        config_path = self.run_dir / "gateway.toml"
        config_path.write_text(_toml(config), encoding="utf-8")
        ready_file = Path(config["ready_file"])
        ready_file.unlink(missing_ok=True)
        env = {k: v for k, v in os.environ.items() if k != VARIANT_ENV}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PACKAGE_ROOT), env.get("PYTHONPATH")]))
        self.gateway = procs.start_process(
            "gateway", [*self.gateway_argv, "--config", str(config_path)],
            self.run_dir / "gateway.log", env=env, cwd=self.run_dir)
        child = self.gateway

        def ready() -> bool:
            if not child.alive():
                raise HarnessError("The gateway exited during startup",
                                   f"exit code {child.returncode}; command: {' '.join(child.argv)}",
                                   observed=child.log_tail())
            ports = json.loads(ready_file.read_text())  # OSError/ValueError: not yet
            self.gateway_ports = {"smtp_port": ports["smtp_port"], "http_port": ports["http_port"]}
            base = f"{'https' if self.tls.http_tls else 'http'}://{procs.LOOPBACK}:{ports['http_port']}"
            context = self.tls.client_context()
            smtp_context = context if self.tls.smtp_tls == "implicit" else None
            return (procs.http_status(f"{base}/healthz", timeout_s=1.0, ssl_context=context) == 200
                    and procs.smtp_greeting(procs.LOOPBACK, ports["smtp_port"], 1.0,
                                            ssl_context=smtp_context).startswith("220"))

        procs.wait_until(ready, self.ready_deadline_s,
                         f"the gateway to write {ready_file}, answer GET /healthz with 200 "
                         "and greet with SMTP 220", retry_on=(OSError, ValueError),
                         observe=lambda: f"log tail:\n{child.log_tail()}")

    # -- state file ----------------------------------------------------------
    def _write_state(self) -> None:
        if self.state_path is None:
            return
        state = {**self.info(), "owner_pid": os.getpid(), "started_at": time.time()}
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.state_path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(state, indent=2))
        os.replace(temporary, self.state_path)

    def _remove_state(self) -> None:
        state = read_state(self.state_path, include_stale=True) if self.state_path else None
        if state and state.get("owner_pid") == os.getpid():
            self.state_path.unlink(missing_ok=True)


def read_state(path: Path | None = None, *, include_stale: bool = False) -> dict[str, Any] | None:
    """The running sandbox's info() as written by ``smlite sandbox up``, or None
    (also None when the process that wrote it is gone, unless `include_stale`)."""
    try:
        state = json.loads((path or state_file_path()).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict) or not (include_stale or _pid_alive(state.get("owner_pid"))):
        return None
    return state


def probe(state: Mapping[str, Any]) -> list[tuple[str, bool, str]]:
    """(name, ok, detail) for each service the state names."""
    checks: list[tuple[str, bool, str]] = []

    def check(name: str, attempt: Any) -> None:
        try:
            ok, detail = attempt()
        except OSError as exc:
            ok, detail = False, f"no answer: {exc}"
        checks.append((name, ok, detail))

    context = None
    if state.get("ca_bundle"):
        import ssl

        context = ssl.create_default_context(cafile=state["ca_bundle"])

    def http(url: str, want: int | None = None, **headers: str) -> tuple[bool, str]:
        status = procs.http_status(url, 2.0, headers, ssl_context=context)
        return (status == want if want else status < 500), f"GET {url} -> {status}"

    def smtp(host: str, port: int, implicit: Any = None) -> tuple[bool, str]:
        greeting = procs.smtp_greeting(host, port, 2.0, ssl_context=implicit)
        return greeting.startswith("220"), f"{host}:{port} said {greeting[:60]!r}"

    check("mailpit_api", lambda: http(f"{state['mailpit_api']}/readyz", 200))
    check("mailpit_smtp", lambda: smtp(*state["mailpit_smtp"]))
    if state.get("gateway_http"):
        basic = base64.b64encode(f"admin:{state['admin_token']}".encode()).decode()
        check("gateway_http", lambda: http(f"{state['gateway_http']}/healthz", 200))
        implicit = context if state.get("smtp_tls") == "implicit" else None
        check("gateway_smtp", lambda: smtp(*state["gateway_smtp"], implicit))
        check("admin_url", lambda: http(state["admin_url"], 200, Authorization=f"Basic {basic}"))
        check("mpp_url", lambda: http(state["mpp_url"]))
        check("sm_portal_url", lambda: http(f"{state['sm_portal_url']}/api/messages/status-probe"))
    return checks


def cmd_up(args: Any) -> int:
    """``smlite sandbox up``: start, print every URL, stay until Ctrl-C/SIGTERM."""
    state_path = state_file_path()
    existing = read_state(state_path)
    if existing:
        raise UsageError("A sandbox is already running",
                         f"process {existing['owner_pid']} runs it ({state_path}); stop it first")
    domains = getattr(args, "domains", None)
    if isinstance(domains, str):
        domains = [d.strip() for d in domains.split(",") if d.strip()]
    settings = getattr(args, "gateway_settings", None) or GatewaySettings()  # --gateway-config
    if getattr(args, "variant", None):
        settings.variant = args.variant
    if domains:
        settings.internal_domains = list(domains)
    stop = threading.Event()
    with Sandbox(getattr(args, "run_dir", None), settings, state_path=state_path,
                 with_gateway=not getattr(args, "mailpit_only", False),
                 tls=getattr(args, "tls", None) or "none", auth=bool(getattr(args, "auth", False))) as sandbox:
        previous = {sig: signal.signal(sig, lambda *_: stop.set())
                    for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            print(f"smlite sandbox up in {sandbox.startup_seconds:.2f}s (state: {state_path})")
            for key, value in sandbox.info().items():
                shown = f"{value[0]}:{value[1]}" if isinstance(value, tuple) else value
                print(f"  {key:<16} {shown}")
            if getattr(args, "on_ready", None):  # e.g. --write-profile
                args.on_ready(sandbox)
            print("Ctrl-C to stop", flush=True)
            while not stop.wait(1.0):
                for child in sandbox.dead_processes():
                    print(f"smlite: {child.name} exited ({child.returncode}); log tail:\n"
                          f"{child.log_tail()}", file=sys.stderr)
                    return 1
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    print("sandbox stopped")
    return 0


def cmd_status(args: Any) -> int:
    """``smlite sandbox status``: 0 if every service answers, else 1."""
    path = state_file_path()
    state = read_state(path, include_stale=True)
    if state is None:
        print(f"sandbox not running (no state file at {path})")
        return 1
    if not _pid_alive(state.get("owner_pid")):
        print(f"sandbox not running (stale {path}: process {state.get('owner_pid')} is gone)")
        return 1
    results = probe(state)
    for name, ok, detail in results:
        print(f"{'up  ' if ok else 'DOWN'} {name:<14} {detail}")
    return 0 if all(ok for _, ok, _ in results) else 1


def _pid_alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _toml(values: Mapping[str, Any]) -> str:
    def literal(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return repr(value)
        if isinstance(value, str):
            # JSON's escapes are TOML's; DEL is the one control character JSON leaves raw
            return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
        if isinstance(value, (list, tuple)):
            return "[" + ", ".join(literal(v) for v in value) + "]"
        if isinstance(value, Mapping):  # an inline table, e.g. smtp_users
            return "{" + ", ".join(f"{literal(str(k))} = {literal(v)}" for k, v in value.items()) + "}"
        raise TypeError(f"cannot write {type(value).__name__} to TOML")

    return "".join(f"{key} = {literal(value)}\n" for key, value in values.items())
