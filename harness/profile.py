"""Target profiles: where a target is, what it can do, how its mail is recognised.

A profile is a TOML (or JSON) file a vendor writes (docs/vendors.md), or the
one the runner generates for the embedded reference sandbox. Loading validates
every field and raises ``UsageError`` naming the field, so a bad profile is a
CLI message with exit code 2, never a traceback.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

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
        data["target"] = {k: ("***" if "token" in k or "password" in k else v) for k, v in self.target.items()}
        return data

    def save_json(self, path: Path) -> Path:
        path.write_text(json.dumps(self.to_dict(), indent=2), encoding="utf-8")
        return path


def _require(data: dict[str, Any], key: str, kind: type, where: str) -> Any:
    value = data.get(key)
    if not isinstance(value, kind):
        raise UsageError("Bad target profile", f"{where}: '{key}' must be a {kind.__name__}, got {value!r}")
    return value


def from_dict(data: dict[str, Any], where: str = "profile") -> TargetProfile:
    data = dict(data)
    known = set(TargetProfile.__dataclass_fields__)
    unknown = set(data) - known
    if unknown:
        raise UsageError("Bad target profile", f"{where}: unknown keys {', '.join(sorted(unknown))}; "
                         f"known: {', '.join(sorted(known - {'source_path'}))}")
    _require(data, "name", str, where)
    for key in ("internal_domains", "external_domains", "capabilities"):
        if key in data and not (isinstance(data[key], list) and all(isinstance(v, str) for v in data[key])):
            raise UsageError("Bad target profile", f"{where}: '{key}' must be a list of strings")
    if not data.get("internal_domains", ["x"]):
        raise UsageError("Bad target profile", f"{where}: 'internal_domains' must not be empty")
    for capability in data.get("capabilities", []):
        if capability not in CAPABILITIES:
            raise UsageError("Bad target profile", f"{where}: unknown capability {capability!r}; "
                             f"known: {', '.join(CAPABILITIES)}")
    for key in ("target", "mailpit"):
        if key in data and not isinstance(data[key], dict):
            raise UsageError("Bad target profile", f"{where}: [{key}] must be a table")
    try:
        data["classification"] = Rules.from_mapping(data.get("classification"))
    except (TypeError, ValueError) as exc:
        raise UsageError("Bad target profile", f"{where}: {exc}") from None
    data["internal_domains"] = [d.lower() for d in data.get("internal_domains", ["corp.example"])]
    return TargetProfile(**data)


def load(path: str | Path) -> TargetProfile:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UsageError("Cannot read target profile", f"{path}: {exc.strerror}") from None
    try:
        data = json.loads(raw) if path.suffix == ".json" else tomllib.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise UsageError("Target profile is not valid TOML/JSON", f"{path}: {exc}") from None
    profile = from_dict(data, str(path))
    profile.source_path = str(path)
    return profile


def from_sandbox(info: dict[str, Any], name: str = "smlite reference gateway") -> TargetProfile:
    """The profile of the embedded reference sandbox (harness.sandbox.Sandbox.info())."""
    from harness import __version__

    variant = info.get("variant") or ""
    return TargetProfile(
        name=name + (f" [broken variant: {variant}]" if variant else ""),
        version=__version__,
        driver="reference",
        internal_domains=list(info["internal_domains"]),
        target={"smtp": f"{info['gateway_smtp'][0]}:{info['gateway_smtp'][1]}",
                "http": info["gateway_http"], "admin_token": info["admin_token"]},
        mailpit={"api": info["mailpit_api"], "smtp": f"{info['mailpit_smtp'][0]}:{info['mailpit_smtp'][1]}"},
    )
