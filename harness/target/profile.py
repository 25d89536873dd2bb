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
from urllib.parse import urlsplit

from harness.spec.classify import Rules
from harness.errors import UsageError
from harness.files import atomic_write_text
from harness.target.files import toml_text
from harness.target.origins import origin_of

CAPABILITIES: dict[str, str] = {
    "smtp-submission": "send from Mimecast for Outlook and Mimecast for Mac (SMTP submission)",
    "mpp": "send from and read the Mimecast Personal Portal",
    "sm-portal": "open, reply, reply all and print in the Secure Messaging Portal",
    "admin-console": "list definitions and try to change them in the Administration Console",
    "clock": "move the target's clock forward",
    "sm-portal-index": "list what the SM Portal holds for a recipient (test support)",
    "sm-portal-page": "open the SM Portal's page of a message, as a person sees it (HTML)",
    "sm-portal-sign-in": "open the SM Portal as a signed-in user, where recipients reach it without a link in their mail",
}
# A profile without `capabilities` declares these: the six of the first contract. Capabilities
# added since are opt-in, so a profile and driver written against the first contract keep working.
DEFAULT_CAPABILITIES = ("smtp-submission", "mpp", "sm-portal", "admin-console", "clock", "sm-portal-index")
# Capabilities the reference gateway does not have (its recipients reach the SM Portal by links).
OPTIONAL_EXTRAS = ("sm-portal-sign-in",)
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
    capabilities: list[str] = field(default_factory=lambda: list(DEFAULT_CAPABILITIES))
    target: dict[str, Any] = field(default_factory=dict)  # driver settings: smtp, http, admin_token...
    mailpit: dict[str, Any] = field(default_factory=dict)  # api, smtp
    classification: Rules = field(default_factory=Rules)
    delivery_timeout_s: float = 15.0
    portal_origins: list[str] = field(default_factory=list)  # optional: more origins serving the SM Portal
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
        """Write the profile, secrets and all, readable by its owner only (0600, atomically)."""
        return atomic_write_text(path, json.dumps(self.to_dict(), indent=2), mode=0o600)


def _secret(key: str) -> bool:
    return any(word in key.lower() for word in ("token", "password", "secret", "key"))


def shown(value: Any, limit: int = 80) -> str:
    """``repr(value)`` for an error message, cut to `limit` characters: "'aaaa… (10485760 chars)"."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} chars)"


def key_names(keys: Any, most: int = 8) -> str:
    """Key names for an error message: sorted, each cut, at most `most` of them."""
    names = sorted(str(k) for k in keys)
    shown = ", ".join(n if len(n) <= 40 else f"{n[:40]}… ({len(n)} chars)" for n in names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def _bad(where: str, text: str) -> UsageError:
    return UsageError("Bad target profile", f"{_cut(where)}: {_cut(text, 400)} (see docs/vendors.md, 'The profile')")


def _cut(text: str, limit: int = 160) -> str:
    """A path or message cut for one line of stderr."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} chars)"


def _string_list(data: dict[str, Any], key: str, where: str) -> list[str]:
    value = data[key]
    if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        raise _bad(where, f"'{key}' must be a list of strings, got {shown(value)}")
    if not value:
        raise _bad(where, f"'{key}' must not be empty")
    return value


def _domains(data: dict[str, Any], key: str, where: str) -> list[str]:
    domains = [d.strip().lower() for d in _string_list(data, key, where)]
    for domain in domains:
        if not _DOMAIN.match(domain):
            raise _bad(where, f"'{key}': {shown(domain)} is not a domain name (like corp.example)")
    return list(dict.fromkeys(domains))


def _classification(value: Any, where: str) -> Rules:
    if value is None:
        return Rules()
    if isinstance(value, Rules):
        return value
    if not isinstance(value, dict):
        raise _bad(where, f"[classification] must be a table, got {shown(value)}")
    known = {f.name: f for f in fields(Rules)}
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise _bad(where, f"[classification] has unknown keys {key_names(unknown)}; known: {', '.join(known)}")
    for key, given in value.items():
        want = int if key == "banner_window" else str
        if not isinstance(given, want) or isinstance(given, bool):
            raise _bad(where, f"classification.{key} must be {'an integer' if want is int else 'a string'}, "
                       f"got {shown(given)}")
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
        raise _bad(where, f"[mailpit] must be a table, got {shown(value)}")
    unknown = sorted(set(value) - set(MAILPIT_KEYS))
    if unknown:
        raise _bad(where, f"[mailpit] has unknown keys {key_names(unknown)}; known: {', '.join(MAILPIT_KEYS)}")
    if "api" not in value:
        raise _bad(where, "[mailpit] needs 'api', the sandbox Mailpit's API URL (printed by `smlite sandbox up`)")
    if not (isinstance(value["api"], str) and re.match(r"^https?://[^\s/]+", value["api"])):
        raise _bad(where, f"mailpit.api must be an http(s) URL, got {shown(value['api'])}")
    smtp = value.get("smtp")
    if smtp is not None and not (isinstance(smtp, str) and re.match(r"^[^\s:]+:\d+$", smtp)):
        raise _bad(where, f"mailpit.smtp must read host:port, got {shown(smtp)}")
    return dict(value)


def _portal_origins(value: Any, where: str) -> list[str]:
    """Origins (``scheme://host[:port]``) besides ``[target] http`` whose portal links may be followed."""
    if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        raise _bad(where, f"'portal_origins' must be a list of strings, got {shown(value)}")
    for origin in value:
        parts = urlsplit(origin) if origin_of(origin) else None
        if parts is None or parts.path not in ("", "/") or parts.query or parts.fragment or "@" in parts.netloc:
            raise _bad(where, f"'portal_origins': {shown(origin)} is not an origin like https://portal.example:8443")
    return list(dict.fromkeys(v.rstrip("/") for v in value))


def from_dict(data: dict[str, Any], where: str = "profile", *, internal: bool = False) -> TargetProfile:
    """Validate a parsed profile; ``internal`` allows the keys smlite itself writes (profile.json)."""
    data = dict(data)
    settable = set(TargetProfile.__dataclass_fields__) - (set() if internal else _INTERNAL_KEYS)
    unknown = set(data) - settable
    if unknown:
        raise _bad(where, f"unknown keys {key_names(unknown)}; known: "
                   f"{', '.join(sorted(settable - _INTERNAL_KEYS))}")
    if not isinstance(data.get("name"), str) or not data["name"].strip():
        raise _bad(where, f"'name' (the target's name, a string) is required, got {shown(data.get('name'))}")
    for key in ("version", "driver"):
        if key in data and not isinstance(data[key], str):
            raise _bad(where, f"'{key}' must be a string, got {shown(data[key])}")
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
                raise _bad(where, f"unknown capability {shown(capability)}; known: {', '.join(CAPABILITIES)}")
        data["capabilities"] = list(dict.fromkeys(data["capabilities"]))
    if "target" in data and not isinstance(data["target"], dict):
        raise _bad(where, f"[target] must be a table (the driver's settings), got {shown(data['target'])}")
    data["mailpit"] = _mailpit(data.get("mailpit"), where) if "mailpit" in data else {}
    if not data["mailpit"]:
        raise _bad(where, "[mailpit] with 'api' is required: the suite reads delivered mail from the sandbox "
                   "Mailpit (`smlite sandbox up` prints its URLs)")
    timeout = data.get("delivery_timeout_s", 15.0)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= 600:
        raise _bad(where, f"'delivery_timeout_s' must be a number of seconds between 0 and 600, got {shown(timeout)}")
    data["delivery_timeout_s"] = float(timeout)
    if "portal_origins" in data:
        data["portal_origins"] = _portal_origins(data["portal_origins"], where)
    data["classification"] = _classification(data.get("classification"), where)
    return TargetProfile(**data)


MAX_PROFILE_BYTES = 1 << 20  # a real profile is under 4 KiB
MAX_PROFILE_DEPTH = 32  # tables and arrays in tables; a real profile nests 3 deep


def load(path: str | Path) -> TargetProfile:
    """Read and validate a profile file. Everything wrong is one ``UsageError`` line (exit 2): a file over
    1 MiB is refused unread, nesting deeper than 32 before the parser sees it (tomllib and json recurse
    once per level and would raise RecursionError), and values echoed in messages are cut to 80 chars."""
    path = Path(path)
    where = _cut(str(path))
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_PROFILE_BYTES + 1)
    except OSError as exc:
        raise UsageError("Cannot read target profile", f"{where}: {exc.strerror or exc}") from None
    if len(raw) > MAX_PROFILE_BYTES:
        raise UsageError("Target profile too large", f"{where}: more than {MAX_PROFILE_BYTES // 1024} KiB "
                         "(a profile is a few hundred bytes of settings)")
    internal = path.suffix == ".json"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError("Target profile is not valid TOML/JSON", f"{where}: not UTF-8 ({exc.reason} "
                         f"at byte {exc.start})") from None
    depth = bracket_depth(text, toml=not internal, stop_at=MAX_PROFILE_DEPTH + 1)
    if depth > MAX_PROFILE_DEPTH:
        raise _too_deep(where)
    try:
        data = json.loads(text) if internal else tomllib.loads(text)
    except RecursionError:
        raise _too_deep(where) from None
    except ValueError as exc:
        raise UsageError("Target profile is not valid TOML/JSON", f"{where}: {_cut(str(exc), 200)}") from None
    if not isinstance(data, dict):
        raise _bad(where, "the file must hold a table of settings")
    if value_depth(data, MAX_PROFILE_DEPTH + 1) > MAX_PROFILE_DEPTH:  # dotted keys nest without brackets
        raise _too_deep(where)
    try:
        profile = from_dict(data, str(path), internal=internal)
    except RecursionError:
        raise _too_deep(where) from None
    profile.source_path = profile.source_path or str(path.resolve())
    return profile


def _too_deep(where: str) -> UsageError:
    return UsageError("Target profile nested too deeply", f"{where}: more than {MAX_PROFILE_DEPTH} levels of "
                      "tables and arrays (a profile needs 3)")


def bracket_depth(text: str, *, toml: bool, stop_at: int | None = None) -> int:
    """The deepest nesting of ``[``/``{`` in TOML or JSON text, outside strings and (TOML) comments.

    A scan in one loop, no recursion, so it can run before a parser that recurses per level;
    it stops early once ``stop_at`` is reached. TOML's triple-quoted strings and literal
    ('...') strings are skipped whole; a quote inside a string escaped with a backslash too.
    """
    depth = deepest = 0
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if stop_at is not None and deepest >= stop_at:
                    return deepest
        elif char in "]}":
            depth = max(depth - 1, 0)
        elif char == "#" and toml:
            newline = text.find("\n", i)
            i = n if newline < 0 else newline
            continue
        elif char == '"' or (char == "'" and toml):
            triple = toml and text.startswith(char * 3, i)
            closing = char * 3 if triple else char
            j = i + len(closing)
            while j < n:
                if char == '"' and text[j] == "\\":
                    j += 2
                    continue
                if text.startswith(closing, j):
                    break
                if not triple and text[j] == "\n":
                    break  # an unterminated one-line string: the parser will say so
                j += 1
            if triple:  # a triple-quoted string may end with up to two more quotes
                while j + 3 < n and text[j + 3] == char:
                    j += 1
            i = j + len(closing)
            continue
        i += 1
    return deepest


def value_depth(value: Any, stop_at: int | None = None) -> int:
    """How deep dicts and lists nest in a parsed value (iteratively; stops early at ``stop_at``)."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            depth += 1
            deepest = max(deepest, depth)
            if stop_at is not None and deepest >= stop_at:
                return deepest
            stack.extend((child, depth) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


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
    owned = sorted(set(data) & set(SANDBOX_OWNED_GATEWAY_KEYS))
    if owned:
        raise UsageError("Bad gateway settings", f"{path}: the sandbox sets {', '.join(owned)} itself "
                         "(its database, its Mailpit, loopback hosts); remove them")
    return data


def from_sandbox(info: dict[str, Any], name: str = "smlite reference gateway",
                 gateway: Mapping[str, Any] | None = None) -> TargetProfile:
    """The profile of a reference sandbox (harness.sandbox.lifecycle.Sandbox.info()), whose gateway
    was started with the extra settings ``gateway`` (banner, notification subject...)."""
    from harness import __version__

    gateway = gateway if gateway is not None else info.get("gateway_settings") or {}
    variant = info.get("variant") or ""
    name = gateway.get("name") or name
    capabilities = [c for c in CAPABILITIES
                    if c not in OPTIONAL_EXTRAS and (c != "clock" or gateway.get("test_clock", True))]
    public = gateway.get("public_base_url")  # the gateway's portal links point there
    portal_origins = [f"{urlsplit(public).scheme}://{urlsplit(public).netloc}"] if origin_of(public) else []
    return TargetProfile(
        name=name + (f" [broken variant: {variant}]" if variant else ""),
        version=__version__,
        driver="reference",
        internal_domains=list(info["internal_domains"]),
        capabilities=capabilities,
        target={"smtp": f"{info['gateway_smtp'][0]}:{info['gateway_smtp'][1]}",
                "http": info["gateway_http"], "admin_token": info["admin_token"]},
        mailpit={"api": info["mailpit_api"], "smtp": f"{info['mailpit_smtp'][0]}:{info['mailpit_smtp'][1]}"},
        classification=rules_for_gateway(gateway),
        portal_origins=portal_origins,
    )


def starter_profile(info: dict[str, Any]) -> TargetProfile:
    """A profile to edit for your own target: the sandbox Mailpit filled in, the rest CHANGE-ME."""
    return TargetProfile(
        name="CHANGE-ME (your product)", version="", driver="reference", internal_domains=["change-me.example"],
        target={"http": "http://CHANGE-ME:8080", "smtp": "CHANGE-ME:2525", "admin_token": "CHANGE-ME"},
        mailpit={"api": info["mailpit_api"], "smtp": f"{info['mailpit_smtp'][0]}:{info['mailpit_smtp'][1]}"})


def to_toml(profile: TargetProfile, comment: str = "") -> str:
    """The profile as a TOML file ``load`` reads back (what its author writes; unset and empty values left out)."""
    data = {k: v for k, v in profile.to_dict().items() if k not in _INTERNAL_KEYS and v not in (None, [], {})}
    return toml_text(data, comment)
