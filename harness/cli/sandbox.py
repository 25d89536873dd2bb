"""``smlite sandbox up`` and ``smlite sandbox status``: start, print, probe, wait for Ctrl-C.

Owns: the commands' output (plain words, one line per thing that runs: no Python reprs, no
gateway lines for ``--mailpit-only``), ``probe()`` (what each printed URL answers), and
``--name`` (several sandboxes at once, each with its own state file).
"""

from __future__ import annotations

import base64
import signal
import sys
import threading
from collections.abc import Mapping
from typing import Any

from harness.errors import UsageError
from harness.profile import schema as profiles
from harness.sandbox import private, procs
from harness.sandbox.lifecycle import GatewaySettings, Sandbox
from harness.sandbox.state import pid_alive, read_state, state_file_path

PROFILE_COMMENT = """Target profile of a running `smlite sandbox up` (valid while it runs).
Written by `smlite sandbox up --write-profile`; fields explained in docs/vendors.md."""
STARTER_COMMENT = """Starter target profile: [mailpit] is the running `smlite sandbox up --mailpit-only`.
Replace every CHANGE-ME with your target's; fields explained in docs/vendors.md and
examples/vendor-profile.toml. Then: smlite target check THIS-FILE"""


def describe(info: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(what, where) for each part that runs, in plain words."""
    lines = [
        ("Mailpit web UI", info["mailpit_ui"]),
        ("Mailpit API", info["mailpit_api"]),
        ("Mailpit SMTP", "{}:{}".format(*info["mailpit_smtp"])),
    ]
    if info.get("gateway_http"):
        lines += [
            ("gateway SMTP", "{}:{} (submission from Mimecast for Outlook / Mac)".format(*info["gateway_smtp"])),
            ("MPP", f"{info['mpp_url']} (Mimecast Personal Portal)"),
            ("SM Portal", f"{info['sm_portal_url']} (Secure Messaging Portal; messages open from links in mail)"),
            ("Admin Console", f"{info['admin_url']} (user: admin, password: the admin token)"),
            ("admin token", info["admin_token"]),
            ("internal domains", ", ".join(info["internal_domains"])),
        ]
        if info.get("variant"):
            lines.append(("broken variant", info["variant"]))
        if info.get("smtp_tls") and info["smtp_tls"] != "none":
            lines += [("SMTP TLS", info["smtp_tls"]), ("CA bundle", info.get("ca_bundle", ""))]
        if info.get("smtp_username"):
            lines += [("SMTP AUTH user", info["smtp_username"]), ("SMTP AUTH password", info["smtp_password"])]
    lines.append(("run folder", info["run_dir"]))
    return lines


def probe(state: Mapping[str, Any]) -> list[tuple[str, bool, str]]:
    """(name, ok, what it answered) for each service the state names."""
    checks: list[tuple[str, bool, str]] = []

    def check(name: str, attempt: Any) -> None:
        try:
            ok, detail = attempt()
        except OSError as exc:
            ok, detail = False, f"no answer: {exc}"
        checks.append((name, ok, detail))

    context = None
    if state.get("ca_bundle"):  # a sandbox with TLS: its own CA
        import ssl

        context = ssl.create_default_context(cafile=state["ca_bundle"])

    def http(url: str, want: int | None = None, **headers: str) -> tuple[bool, str]:
        status = procs.http_status(url, 2.0, headers, ssl_context=context)
        return (status == want if want else status < 500), f"GET {url} answered {status}"

    def smtp(host: str, port: int, implicit: Any = None) -> tuple[bool, str]:
        greeting = procs.smtp_greeting(host, port, 2.0, ssl_context=implicit)
        return greeting.startswith("220"), f"{host}:{port} greeted with {greeting[:60]}"

    if state.get("mailpit_api"):  # a sandbox relaying elsewhere (IMAP tests) runs no Mailpit
        check("mailpit_api", lambda: http(f"{state['mailpit_api']}/readyz", 200))
        check("mailpit_smtp", lambda: smtp(state["mailpit_smtp"][0], state["mailpit_smtp"][1]))
    if state.get("gateway_http"):
        basic = base64.b64encode(f"admin:{state['admin_token']}".encode()).decode()
        check("gateway_http", lambda: http(f"{state['gateway_http']}/healthz", 200))
        implicit = context if state.get("smtp_tls") == "implicit" else None
        check("gateway_smtp", lambda: smtp(state["gateway_smtp"][0], state["gateway_smtp"][1], implicit))
        check("admin_url", lambda: http(state["admin_url"], 200, Authorization=f"Basic {basic}"))
        check("mpp_url", lambda: http(state["mpp_url"]))
        check("sm_portal_url", lambda: http(f"{state['sm_portal_url']}/api/messages/status-probe"))
    return checks


def up(args: Any) -> int:
    """``smlite sandbox up``: start, print every URL, stay until Ctrl-C/SIGTERM."""
    name = getattr(args, "name", "") or ""
    tls, auth = getattr(args, "tls", None) or "none", bool(getattr(args, "auth", False))
    if getattr(args, "mailpit_only", False) and (tls != "none" or auth):
        raise UsageError("--tls and --auth configure the reference gateway", "drop them or --mailpit-only")
    if getattr(args, "gateway_config", None):
        if getattr(args, "mailpit_only", False):
            raise UsageError("--gateway-config configures the reference gateway", "drop it or --mailpit-only")
        args.gateway_settings = GatewaySettings.from_mapping(profiles.gateway_settings_file(args.gateway_config))
    state_path = state_file_path(name=name)
    private.sweep_stale(state_files=[state_path])
    existing = read_state(state_path)
    if existing:
        how = "`smlite sandbox up --name OTHER` starts another" if not name else "pick another --name"
        raise UsageError(
            f"A sandbox{' named ' + name if name else ''} is already running",
            f"process {existing['owner_pid']} runs it ({state_path}); stop it first, or {how}",
        )
    domains = getattr(args, "domains", None)
    if isinstance(domains, str):
        domains = [d.strip() for d in domains.split(",") if d.strip()]
    settings = getattr(args, "gateway_settings", None) or GatewaySettings()
    if getattr(args, "variant", None):
        settings.variant = args.variant
    if domains:
        settings.internal_domains = list(domains)
    stop = threading.Event()
    with Sandbox(
        getattr(args, "run_dir", None),
        settings,
        state_path=state_path,
        with_gateway=not getattr(args, "mailpit_only", False),
        tls=tls,
        auth=auth,
    ) as sandbox:
        previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            title = f"sandbox {name!r}" if name else "sandbox"
            print(f"smlite {title} up in {sandbox.startup_seconds:.2f}s (state: {state_path})")
            for what, where in describe(sandbox.info()):
                print(f"  {what:<17} {where}")
            if getattr(args, "write_profile", None):
                print(f"  {'profile':<17} {write_profile(sandbox, args.write_profile)}")
            print("Ctrl-C to stop", flush=True)
            while not stop.wait(1.0):
                for child in sandbox.dead_processes():
                    print(
                        f"smlite: {child.name} exited ({child.returncode}); log tail:\n{child.log_tail()}",
                        file=sys.stderr,
                    )
                    return 2  # the environment failed: 1 would read "not conformant"
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    print("sandbox stopped")
    return 0


def write_profile(sandbox: Sandbox, path: Any) -> Any:
    """The running sandbox's target profile (or a starter one for ``--mailpit-only``) at ``path``."""
    info = sandbox.info()
    if info["gateway_http"]:
        text = profiles.to_toml(profiles.from_sandbox(info), PROFILE_COMMENT)
    else:
        text = profiles.to_toml(profiles.starter_profile(info), STARTER_COMMENT)
    private.write_private(path, text)  # it holds the admin token
    return path


def status(args: Any) -> int:
    """``smlite sandbox status``: what each URL answered; 0 if every service answers, else 2 (the
    environment is not there: exit code 1 means "not conformant" and is never used here)."""
    path = state_file_path(name=getattr(args, "name", "") or "")
    state = read_state(path, include_stale=True)
    if state is None:
        print(f"sandbox not running (no state file at {path})")
        return 2
    if not pid_alive(state.get("owner_pid")):
        print(f"sandbox not running (stale {path}: process {state.get('owner_pid')} is gone)")
        return 2
    results = probe(state)
    for check, ok, detail in results:
        print(f"{'up  ' if ok else 'DOWN'} {check:<14} {detail}")
    return 0 if all(ok for _, ok, _ in results) else 2
