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
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

from harness.classify import Rules
from harness.errors import UsageError

CAPABILITIES: dict[str, str] = {
    "smtp-submission": "send from Mimecast for Outlook and Mimecast for Mac (SMTP submission)",
    "mpp": "send from and read the Mimecast Personal Portal",
    "sm-portal": "open, reply, reply all and print in the Secure Messaging Portal",
    "admin-console": "list definitions and try to change them in the Administration Console",
    "clock": "move the target's clock forward",
    "sm-portal-index": "list what the SM Portal holds for a recipient (test support)",
}
# What the source itself requires a target to do: --certify refuses to start without these.
REQUIRED_BY_SOURCE = ("smtp-submission", "mpp", "sm-portal", "admin-console")
MAILPIT_KEYS = {"api": "the sandbox Mailpit's API URL (the suite reads delivered mail there)",
                "smtp": "host:port of the sandbox Mailpit's SMTP (where the target relays; informational)"}
# Gateway keys `smlite sandbox up --gateway-config` sets itself (they point at the sandbox's own files and Mailpit).
SANDBOX_OWNED_GATEWAY_KEYS = ("database", "relay_host", "relay_port", "ready_file", "smtp_host", "http_host")
_DOMAIN = re.compile(r"^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$")
_INTERNAL_KEYS = {"source_path"}  # set by smlite, not by a profile's author


@dataclass
class TargetProfile:
    name: str
    version: str = ""
    driver: str = "reference"
    internal_domains: list[str] = field(default_factory=lambda: ["corp.example"])
    external_domains: list[str] = field(default_factory=lambda: ["example.net", "example.org"])
    capabilities: list[str] = field(default_factory=lambda: list(CAPABILITIES))
    target: dict[str, Any] = field(default_factory=dict)  # driver settings: smtp, http, admin_token...
    mailpit: dict[str, Any] = field(default_factory=dict)  # api, smtp
    classification: Rules = field(default_factory=Rules)
    delivery_timeout_s: float = 15.0
    source_path: str = ""

    def has(self, capability: str) -> bool:
        return capability in self.capabilities

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["classification"] = asdict(self.classification)
        return data

    def public_dict(self) -> dict[str, Any]:
        """The profile as recorded in results: secrets masked."""
        data = self.to_dict()
        data["target"] = {k: ("***" if _secret(k) else v) for k, v in self.target.items()}
        return data

    def save_json(self, path: Path) -> Path:
        path.write_text(json.dumps(self.to_dict(), indent=2), encoding="utf-8")
        return path


def _secret(key: str) -> bool:
    if key.lower().endswith("_env"):  # the NAME of an environment variable holding a secret, not the secret
        return False
    return any(word in key.lower() for word in ("token", "password", "secret", "key"))


def _bad(where: str, text: str) -> UsageError:
    return UsageError("Bad target profile", f"{where}: {text} (see docs/vendors.md, 'The profile')")


def _string_list(data: dict[str, Any], key: str, where: str) -> list[str]:
    value = data[key]
    if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        raise _bad(where, f"'{key}' must be a list of strings, got {value!r}")
    if not value:
        raise _bad(where, f"'{key}' must not be empty")
    return value


def _domains(data: dict[str, Any], key: str, where: str) -> list[str]:
    domains = [d.strip().lower() for d in _string_list(data, key, where)]
    for domain in domains:
        if not _DOMAIN.match(domain):
            raise _bad(where, f"'{key}': {domain!r} is not a domain name (like corp.example)")
    return list(dict.fromkeys(domains))


def _classification(value: Any, where: str) -> Rules:
    if value is None:
        return Rules()
    if isinstance(value, Rules):
        return value
    if not isinstance(value, dict):
        raise _bad(where, f"[classification] must be a table, got {value!r}")
    known = {f.name: f for f in fields(Rules)}
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise _bad(where, f"[classification] has unknown keys {', '.join(unknown)}; known: {', '.join(known)}")
    for key, given in value.items():
        want = int if key == "banner_window" else str
        if not isinstance(given, want) or isinstance(given, bool):
            raise _bad(where, f"classification.{key} must be {'an integer' if want is int else 'a string'}, "
                       f"got {given!r}")
        if want is str and not given.strip():
            raise _bad(where, f"classification.{key} must not be empty")
    if value.get("banner_window", 1) < 1:
        raise _bad(where, "classification.banner_window must be at least 1")
    try:
        return Rules.from_mapping(value)
    except (TypeError, ValueError) as exc:
        raise _bad(where, str(exc)) from None


def _mailpit(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _bad(where, f"[mailpit] must be a table, got {value!r}")
    unknown = sorted(set(value) - set(MAILPIT_KEYS))
    if unknown:
        raise _bad(where, f"[mailpit] has unknown keys {', '.join(unknown)}; known: {', '.join(MAILPIT_KEYS)}")
    if "api" not in value:
        raise _bad(where, "[mailpit] needs 'api', the sandbox Mailpit's API URL (printed by `smlite sandbox up`)")
    if not (isinstance(value["api"], str) and re.match(r"^https?://[^\s/]+", value["api"])):
        raise _bad(where, f"mailpit.api must be an http(s) URL, got {value['api']!r}")
    smtp = value.get("smtp")
    if smtp is not None and not (isinstance(smtp, str) and re.match(r"^[^\s:]+:\d+$", smtp)):
        raise _bad(where, f"mailpit.smtp must read host:port, got {smtp!r}")
    return dict(value)


def from_dict(data: dict[str, Any], where: str = "profile", *, internal: bool = False) -> TargetProfile:
    """Validate a parsed profile; ``internal`` allows the keys smlite itself writes (profile.json)."""
    data = dict(data)
    settable = set(TargetProfile.__dataclass_fields__) - (set() if internal else _INTERNAL_KEYS)
    unknown = set(data) - settable
    if unknown:
        raise _bad(where, f"unknown keys {', '.join(sorted(unknown))}; known: "
                   f"{', '.join(sorted(settable - _INTERNAL_KEYS))}")
    if not isinstance(data.get("name"), str) or not data["name"].strip():
        raise _bad(where, f"'name' (the target's name, a string) is required, got {data.get('name')!r}")
    for key in ("version", "driver"):
        if key in data and not isinstance(data[key], str):
            raise _bad(where, f"'{key}' must be a string, got {data[key]!r}")
    if not data.get("driver", "reference").strip():
        raise _bad(where, "'driver' must not be empty (reference, an entry point name, or module:Class)")
    for key in ("internal_domains", "external_domains"):
        if key in data:
            data[key] = _domains(data, key, where)
    overlap = set(data.get("internal_domains", ["corp.example"])) & set(
        data.get("external_domains", ["example.net", "example.org"]))
    if overlap:
        raise _bad(where, f"{', '.join(sorted(overlap))} cannot be both internal and external")
    if "capabilities" in data:
        if data["capabilities"] == []:
            raise _bad(where, "'capabilities' must not be empty; known: " + ", ".join(CAPABILITIES))
        for capability in _string_list(data, "capabilities", where):
            if capability not in CAPABILITIES:
                raise _bad(where, f"unknown capability {capability!r}; known: {', '.join(CAPABILITIES)}")
        data["capabilities"] = list(dict.fromkeys(data["capabilities"]))
    if "target" in data and not isinstance(data["target"], dict):
        raise _bad(where, f"[target] must be a table (the driver's settings), got {data['target']!r}")
    data["mailpit"] = _mailpit(data.get("mailpit"), where) if "mailpit" in data else {}
    if not data["mailpit"]:
        raise _bad(where, "[mailpit] with 'api' is required: the suite reads delivered mail from the sandbox "
                   "Mailpit (`smlite sandbox up` prints its URLs)")
    timeout = data.get("delivery_timeout_s", 15.0)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= 600:
        raise _bad(where, f"'delivery_timeout_s' must be a number of seconds between 0 and 600, got {timeout!r}")
    data["delivery_timeout_s"] = float(timeout)
    data["classification"] = _classification(data.get("classification"), where)
    return TargetProfile(**data)


def load(path: str | Path) -> TargetProfile:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UsageError("Cannot read target profile", f"{path}: {exc.strerror}") from None
    internal = path.suffix == ".json"
    try:
        data = json.loads(raw) if internal else tomllib.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise UsageError("Target profile is not valid TOML/JSON", f"{path}: {exc}") from None
    if not isinstance(data, dict):
        raise _bad(str(path), "the file must hold a table of settings")
    profile = from_dict(data, str(path), internal=internal)
    profile.source_path = profile.source_path or str(path.resolve())
    return profile


# -- the profile of a reference sandbox -------------------------------------------


def _escape(literal: str) -> str:
    """re.escape for people: only the characters regular expressions give a meaning."""
    return re.sub(r"([.^$*+?{}\[\]\\|()])", r"\\\1", literal)


def subject_pattern(template: str) -> str:
    """A regular expression matching every subject a notification_subject template renders."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise UsageError("Bad gateway settings", f"notification_subject {template!r}: {exc}") from None
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
    tls = sorted(set(data) & {"smtp_tls", "tls_cert", "tls_key", "http_tls", "smtp_auth_required", "smtp_users",
                              "smtp_users_file"})
    if tls:
        raise UsageError("Bad gateway settings", f"{path}: {', '.join(tls)}: the sandbox makes its own CA, "
                         "certificate and account; use `smlite sandbox up --tls starttls|implicit --auth`")
    owned = sorted(set(data) & set(SANDBOX_OWNED_GATEWAY_KEYS))
    if owned:
        raise UsageError("Bad gateway settings", f"{path}: the sandbox sets {', '.join(owned)} itself "
                         "(its database, its Mailpit, loopback hosts); remove them")
    return data


def from_sandbox(info: dict[str, Any], name: str = "smlite reference gateway",
                 gateway: Mapping[str, Any] | None = None) -> TargetProfile:
    """The profile of a reference sandbox (harness.sandbox.Sandbox.info()), whose gateway
    was started with the extra settings ``gateway`` (banner, notification subject...)."""
    from harness import __version__

    gateway = gateway if gateway is not None else info.get("gateway_settings") or {}
    variant = info.get("variant") or ""
    name = gateway.get("name") or name
    capabilities = [c for c in CAPABILITIES if c != "clock" or gateway.get("test_clock", True)]
    return TargetProfile(
        name=name + (f" [broken variant: {variant}]" if variant else ""),
        version=__version__,
        driver="reference",
        internal_domains=list(info["internal_domains"]),
        capabilities=capabilities,
        target={"smtp": f"{info['gateway_smtp'][0]}:{info['gateway_smtp'][1]}",
                "http": info["gateway_http"], "admin_token": info["admin_token"],
                # a sandbox started with TLS / AUTH (harness/sandbox_tls.py): the driver's optional keys
                **{key: info[key] for key in ("smtp_tls", "ca_bundle", "smtp_username", "smtp_password")
                   if info.get(key) and info.get(key) != "none"}},
        mailpit={"api": info["mailpit_api"], "smtp": f"{info['mailpit_smtp'][0]}:{info['mailpit_smtp'][1]}"},
        classification=rules_for_gateway(gateway),
    )


def starter_profile(info: dict[str, Any]) -> TargetProfile:
    """A profile to edit for your own target: the sandbox Mailpit filled in, the rest CHANGE-ME."""
    return TargetProfile(
        name="CHANGE-ME (your product)", version="", driver="reference", internal_domains=["change-me.example"],
        target={"http": "http://CHANGE-ME:8080", "smtp": "CHANGE-ME:2525", "admin_token": "CHANGE-ME"},
        mailpit={"api": info["mailpit_api"], "smtp": f"{info['mailpit_smtp'][0]}:{info['mailpit_smtp'][1]}"})


def to_toml(profile: TargetProfile, comment: str = "") -> str:
    """The profile as a TOML file ``load`` reads back (top-level keys, then its tables)."""

    def literal(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return repr(value)
        if isinstance(value, str):  # JSON's escapes are TOML's; DEL is the one JSON leaves raw
            return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
        if isinstance(value, (list, tuple)):
            return "[" + ", ".join(literal(v) for v in value) + "]"
        raise TypeError(f"cannot write {type(value).__name__} to TOML")

    data = profile.to_dict()
    lines = [f"# {line}".rstrip() for line in comment.splitlines()]
    for key in ("name", "version", "driver", "internal_domains", "external_domains", "capabilities",
                "delivery_timeout_s"):
        lines.append(f"{key} = {literal(data[key])}")
    for table in ("target", "mailpit", "classification"):
        lines += ["", f"[{table}]"] + [f"{k} = {literal(v)}" for k, v in data[table].items()]
    return "\n".join(lines) + "\n"
