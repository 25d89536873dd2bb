"""Target profiles: where a target is, what it can do, how its mail is recognised.

A profile is a TOML (or JSON) file a vendor writes (docs/vendors.md, annotated
example in examples/vendor-profile.toml), or the one smlite generates for a
reference sandbox (``from_sandbox``, ``smlite sandbox up --write-profile``).
Loading validates every field and raises ``UsageError`` naming the field, so a
bad profile is one CLI message with exit code 2, never a traceback. The
``[target]`` table belongs to the driver, which validates it when it starts.

Also here: the classification rules matching a reference gateway
configuration (``rules_for_gateway``), the gateway settings file of ``smlite
sandbox up --gateway-config`` (``gateway_settings_file``), and writing a
profile back as TOML (``to_toml``).
"""

from __future__ import annotations

import json
import re
import string
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from harness.errors import UsageError
from harness.files import atomic_write_text, toml_text
from harness.profile.fields import (
    bad,
    classification,
    cut,
    domains,
    is_secret_key,
    key_names,
    mailpit_table,
    portal_origins,
    shown,
    string_list,
)
from harness.profile.origins import origin_of
from harness.profile.reading import (
    read_table,
    too_deep,
)
from harness.profile.rules import Rules

CAPABILITIES: dict[str, str] = {
    "smtp-submission": "send from Mimecast for Outlook and Mimecast for Mac (SMTP submission)",
    "mpp": "send from and read the Mimecast Personal Portal",
    "sm-portal": "open, reply, reply all and print in the Secure Messaging Portal",
    "admin-console": "list definitions and try to change them in the Administration Console",
    "clock": "move the target's clock forward",
    "sm-portal-index": "list what the SM Portal holds for a recipient (test support)",
    "sm-portal-page": "open the SM Portal's page of a message, as a person sees it (HTML)",
    "sm-portal-sign-in": "open the SM Portal as a signed-in user, where recipients reach it without a link in their mail",
    "sm-portal-whole-message": "the SM Portal answer lists every body part and attachment, with downloads",
}
# A profile without `capabilities` declares these: the six of the first contract. Capabilities
# added since are opt-in, so a profile and driver written against the first contract keep working.
DEFAULT_CAPABILITIES = ("smtp-submission", "mpp", "sm-portal", "admin-console", "clock", "sm-portal-index")
# Capabilities the reference gateway does not have (its recipients reach the SM Portal by links).
OPTIONAL_EXTRAS = ("sm-portal-sign-in",)
# What the source itself requires a target to do: --certify refuses to start without these.
REQUIRED_BY_SOURCE = ("smtp-submission", "mpp", "sm-portal", "admin-console")
# Gateway keys `smlite sandbox up --gateway-config` sets itself (they point at the sandbox's own files and Mailpit).
SANDBOX_OWNED_GATEWAY_KEYS = ("database", "relay_host", "relay_port", "ready_file", "smtp_host", "http_host")
_INTERNAL_KEYS = {"source_path"}  # set by smlite, not by a profile's author


@dataclass
class TargetProfile:
    name: str
    version: str = ""
    driver: str = "reference"
    internal_domains: list[str] = field(default_factory=lambda: ["corp.example"])
    external_domains: list[str] = field(default_factory=lambda: ["example.net", "example.org"])
    capabilities: list[str] = field(default_factory=lambda: list(DEFAULT_CAPABILITIES))
    target: dict[str, Any] = field(default_factory=dict)  # driver settings: smtp, http, admin_token...
    mailpit: dict[str, Any] = field(default_factory=dict)  # api, smtp
    mailbox: dict[str, Any] = field(default_factory=dict)  # optional: kind = "imap" and its settings (harness/mailbox/)
    classification: Rules = field(default_factory=Rules)
    delivery_timeout_s: float = 15.0
    portal_origins: list[str] = field(default_factory=list)  # optional: more origins serving the SM Portal
    # optional: how long the target usually takes to deliver (seconds): a floor for the latency bound
    expected_latency_s: float | None = None
    # optional: the target delivers one recipient's mail in the order it accepted it (then a later message
    # proves an earlier one absent); undeclared, nothing assumes an order
    delivers_in_order: bool = False
    source_path: str = ""

    def has(self, capability: str) -> bool:
        return capability in self.capabilities

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["classification"] = asdict(self.classification)
        if data["expected_latency_s"] is None:  # optional, and TOML has no null
            del data["expected_latency_s"]
        return data

    def public_dict(self) -> dict[str, Any]:
        """The profile as recorded in results: secrets masked."""
        data = self.to_dict()
        data["target"] = {k: ("***" if is_secret_key(k) else v) for k, v in self.target.items()}
        data["mailbox"] = {k: ("***" if is_secret_key(k) else v) for k, v in self.mailbox.items()}
        return data

    def save_json(self, path: Path) -> Path:
        """Write the profile, secrets and all, readable by its owner only (0600, atomically)."""
        return atomic_write_text(path, json.dumps(self.to_dict(), indent=2), mode=0o600)


def load(path: str | Path) -> TargetProfile:
    """Read and validate a profile file. Everything wrong is one ``UsageError`` line (exit 2)
    (harness/profile/reading.py says how the file itself is read safely)."""
    path = Path(path)
    data, internal = read_table(path)
    try:
        profile = from_dict(data, str(path), internal=internal)
    except RecursionError:
        raise too_deep(cut(str(path))) from None
    profile.source_path = profile.source_path or str(path.resolve())
    return profile


def from_dict(data: dict[str, Any], where: str = "profile", *, internal: bool = False) -> TargetProfile:
    """Validate a parsed profile; ``internal`` allows the keys smlite itself writes (profile.json)."""
    data = dict(data)
    settable = set(TargetProfile.__dataclass_fields__) - (set() if internal else _INTERNAL_KEYS)
    unknown = set(data) - settable
    if unknown:
        raise bad(where, f"unknown keys {key_names(unknown)}; known: {', '.join(sorted(settable - _INTERNAL_KEYS))}")
    if not isinstance(data.get("name"), str) or not data["name"].strip():
        raise bad(where, f"'name' (the target's name, a string) is required, got {shown(data.get('name'))}")
    for key in ("version", "driver"):
        if key in data and not isinstance(data[key], str):
            raise bad(where, f"'{key}' must be a string, got {shown(data[key])}")
    if not data.get("driver", "reference").strip():
        raise bad(where, "'driver' must not be empty (reference, an entry point name, or module:Class)")
    for key in ("internal_domains", "external_domains"):
        if key in data:
            data[key] = domains(data, key, where)
    overlap = set(data.get("internal_domains", ["corp.example"])) & set(
        data.get("external_domains", ["example.net", "example.org"])
    )
    if overlap:
        raise bad(where, f"{', '.join(sorted(overlap))} cannot be both internal and external")
    if "capabilities" in data:
        if data["capabilities"] == []:
            raise bad(where, "'capabilities' must not be empty; known: " + ", ".join(CAPABILITIES))
        for capability in string_list(data, "capabilities", where):
            if capability not in CAPABILITIES:
                raise bad(where, f"unknown capability {shown(capability)}; known: {', '.join(CAPABILITIES)}")
        data["capabilities"] = list(dict.fromkeys(data["capabilities"]))
    if "target" in data and not isinstance(data["target"], dict):
        raise bad(where, f"[target] must be a table (the driver's settings), got {shown(data['target'])}")
    if "mailbox" in data:
        from harness.profile.mailbox_table import validate

        data["mailbox"] = validate(data["mailbox"], where)
    imap = data.get("mailbox", {}).get("kind") == "imap"  # then [mailpit] is optional (an empty one: none)
    data["mailpit"] = (
        mailpit_table(data["mailpit"], where) if "mailpit" in data and (data["mailpit"] or not imap) else {}
    )
    if not data["mailpit"] and not imap:
        raise bad(
            where,
            "[mailpit] with 'api' is required: the suite reads delivered mail from the sandbox "
            "Mailpit (`smlite sandbox up` prints its URLs)",
        )
    timeout = data.get("delivery_timeout_s", 15.0)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= 600:
        raise bad(where, f"'delivery_timeout_s' must be a number of seconds between 0 and 600, got {shown(timeout)}")
    data["delivery_timeout_s"] = float(timeout)
    expected = data.get("expected_latency_s")
    if expected is not None:
        if isinstance(expected, bool) or not isinstance(expected, (int, float)) or not 0 <= expected <= timeout:
            raise bad(
                where,
                f"'expected_latency_s' must be a number of seconds between 0 and delivery_timeout_s "
                f"({timeout:g}), got {shown(expected)}",
            )
        data["expected_latency_s"] = float(expected)
    if "delivers_in_order" in data and not isinstance(data["delivers_in_order"], bool):
        raise bad(where, f"'delivers_in_order' must be true or false, got {shown(data['delivers_in_order'])}")
    if "portal_origins" in data:
        data["portal_origins"] = portal_origins(data["portal_origins"], where)
    data["classification"] = classification(data.get("classification"), where)
    return TargetProfile(**data)


# -- the profile of a reference sandbox -------------------------------------------


def _escape(literal: str) -> str:
    """re.escape for people: only the characters regular expressions give a meaning."""
    return re.sub(r"([.^$*+?{}\[\]\\|()])", r"\\\1", literal)


def subject_pattern(template: str) -> str:
    """A regular expression matching every subject a notification_subject template renders."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise UsageError("Bad gateway settings", f"notification_subject {shown(template)}: {exc}") from None
    pattern = "".join(_escape(literal) + (".*" if name is not None else "") for literal, name, _, _ in parts)
    return "^" + pattern.removesuffix(".*")


def rules_for_gateway(settings: Mapping[str, Any]) -> Rules:
    """The classification rules matching a reference gateway configured with ``settings``."""
    values: dict[str, Any] = {}
    if settings.get("banner_text"):
        values["banner_text"] = settings["banner_text"]
    if settings.get("notification_subject"):
        values["notification_subject"] = subject_pattern(settings["notification_subject"])
    return Rules(**values)


def gateway_settings_file(path: str | Path) -> dict[str, Any]:
    """The gateway keys of ``smlite sandbox up --gateway-config FILE`` (docs/contract.md, 'Gateway configuration')."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError("Cannot read gateway settings", f"{path}: {exc.strerror}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise UsageError("Gateway settings are not valid TOML", f"{path}: {exc}") from None
    tls = sorted(
        set(data)
        & {"smtp_tls", "tls_cert", "tls_key", "http_tls", "smtp_auth_required", "smtp_users", "smtp_users_file"}
    )
    if tls:
        raise UsageError(
            "Bad gateway settings",
            f"{path}: {', '.join(tls)}: the sandbox makes its own CA, "
            "certificate and account; use `smlite sandbox up --tls starttls|implicit --auth`",
        )
    owned = sorted(set(data) & set(SANDBOX_OWNED_GATEWAY_KEYS))
    if owned:
        raise UsageError(
            "Bad gateway settings",
            f"{path}: the sandbox sets {', '.join(owned)} itself "
            "(its database, its Mailpit, loopback hosts); remove them",
        )
    return data


def from_sandbox(
    info: dict[str, Any], name: str = "smlite reference gateway", gateway: Mapping[str, Any] | None = None
) -> TargetProfile:
    """The profile of a reference sandbox (harness.sandbox.lifecycle.Sandbox.info()), whose gateway
    was started with the extra settings ``gateway`` (banner, notification subject...)."""
    from harness import __version__

    gateway = gateway if gateway is not None else info.get("gateway_settings") or {}
    variant = info.get("variant") or ""
    name = gateway.get("name") or name
    capabilities = [
        c for c in CAPABILITIES if c not in OPTIONAL_EXTRAS and (c != "clock" or gateway.get("test_clock", True))
    ]
    public = gateway.get("public_base_url")  # the gateway's portal links point there
    public = public if isinstance(public, str) else ""
    portal_origins = [f"{urlsplit(public).scheme}://{urlsplit(public).netloc}"] if origin_of(public) else []
    return TargetProfile(
        name=name + (f" [broken variant: {variant}]" if variant else ""),
        version=__version__,
        driver="reference",
        internal_domains=list(info["internal_domains"]),
        capabilities=capabilities,
        target={
            "smtp": f"{info['gateway_smtp'][0]}:{info['gateway_smtp'][1]}",
            "http": info["gateway_http"],
            "admin_token": info["admin_token"],
            # a sandbox started with TLS / AUTH (harness/sandbox/tls.py): the driver's optional keys
            **{
                key: info[key]
                for key in ("smtp_tls", "ca_bundle", "smtp_username", "smtp_password")
                if info.get(key) and info.get(key) != "none"
            },
        },
        mailpit={"api": info["mailpit_api"], "smtp": f"{info['mailpit_smtp'][0]}:{info['mailpit_smtp'][1]}"},
        classification=rules_for_gateway(gateway),
        portal_origins=portal_origins,
    )


def starter_profile(info: dict[str, Any]) -> TargetProfile:
    """A profile to edit for your own target: the sandbox Mailpit filled in, the rest CHANGE-ME."""
    return TargetProfile(
        name="CHANGE-ME (your product)",
        version="",
        driver="reference",
        internal_domains=["change-me.example"],
        target={"http": "http://CHANGE-ME:8080", "smtp": "CHANGE-ME:2525", "admin_token": "CHANGE-ME"},
        mailpit={"api": info["mailpit_api"], "smtp": f"{info['mailpit_smtp'][0]}:{info['mailpit_smtp'][1]}"},
    )


def to_toml(profile: TargetProfile, comment: str = "") -> str:
    """The profile as a TOML file ``load`` reads back (what its author writes; unset and empty values left out)."""
    data = {k: v for k, v in profile.to_dict().items() if k not in _INTERNAL_KEYS and v not in (None, [], {})}
    return toml_text(data, comment)
