"""Checking the fields of a target profile, one at a time: each problem one ``UsageError`` naming the field.

Owns the field checks ``schema.from_dict`` uses (``string_list``, ``domains``, ``classification``,
``mailpit_table``, ``portal_origins``), how a value is echoed in a message (``shown``, ``key_names``,
``cut``: never a 10 MB line) and which keys hold secrets (``is_secret_key``).
"""

from __future__ import annotations

import re
from dataclasses import fields
from typing import Any
from urllib.parse import urlsplit

from harness.errors import UsageError
from harness.profile.origins import origin_of
from harness.profile.rules import Rules

_DOMAIN = re.compile(r"^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$")
MAILPIT_KEYS = {
    "api": "the sandbox Mailpit's API URL (the suite reads delivered mail there)",
    "smtp": "host:port of the sandbox Mailpit's SMTP (where the target relays; informational)",
}


def is_secret_key(key: str) -> bool:
    if key.lower().endswith("_env"):  # the NAME of an environment variable holding a secret, not the secret
        return False
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


def bad(where: str, text: str) -> UsageError:
    return UsageError("Bad target profile", f"{cut(where)}: {cut(text, 400)} (see docs/vendors.md, 'The profile')")


def cut(text: str, limit: int = 160) -> str:
    """A path or message cut for one line of stderr."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} chars)"


def string_list(data: dict[str, Any], key: str, where: str) -> list[str]:
    value = data[key]
    if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        raise bad(where, f"'{key}' must be a list of strings, got {shown(value)}")
    if not value:
        raise bad(where, f"'{key}' must not be empty")
    return value


def domains(data: dict[str, Any], key: str, where: str) -> list[str]:
    domains = [d.strip().lower() for d in string_list(data, key, where)]
    for domain in domains:
        if not _DOMAIN.match(domain):
            raise bad(where, f"'{key}': {shown(domain)} is not a domain name (like corp.example)")
    return list(dict.fromkeys(domains))


def classification(value: Any, where: str) -> Rules:
    if value is None:
        return Rules()
    if isinstance(value, Rules):
        return value
    if not isinstance(value, dict):
        raise bad(where, f"[classification] must be a table, got {shown(value)}")
    known = {f.name: f for f in fields(Rules)}
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise bad(where, f"[classification] has unknown keys {key_names(unknown)}; known: {', '.join(known)}")
    for key, given in value.items():
        want = int if key == "banner_window" else str
        if not isinstance(given, want) or isinstance(given, bool):
            raise bad(
                where, f"classification.{key} must be {'an integer' if want is int else 'a string'}, got {shown(given)}"
            )
        if isinstance(given, str) and not given.strip():
            raise bad(where, f"classification.{key} must not be empty")
    if value.get("banner_window", 1) < 1:
        raise bad(where, "classification.banner_window must be at least 1")
    try:
        return Rules.from_mapping(value)
    except (TypeError, ValueError) as exc:
        raise bad(where, str(exc)) from None


def mailpit_table(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise bad(where, f"[mailpit] must be a table, got {shown(value)}")
    unknown = sorted(set(value) - set(MAILPIT_KEYS))
    if unknown:
        raise bad(where, f"[mailpit] has unknown keys {key_names(unknown)}; known: {', '.join(MAILPIT_KEYS)}")
    if "api" not in value:
        raise bad(where, "[mailpit] needs 'api', the sandbox Mailpit's API URL (printed by `smlite sandbox up`)")
    if not (isinstance(value["api"], str) and re.match(r"^https?://[^\s/]+", value["api"])):
        raise bad(where, f"mailpit.api must be an http(s) URL, got {shown(value['api'])}")
    smtp = value.get("smtp")
    if smtp is not None and not (isinstance(smtp, str) and re.match(r"^[^\s:]+:\d+$", smtp)):
        raise bad(where, f"mailpit.smtp must read host:port, got {shown(smtp)}")
    return dict(value)


def portal_origins(value: Any, where: str) -> list[str]:
    """Origins (``scheme://host[:port]``) besides ``[target] http`` whose portal links may be followed."""
    if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        raise bad(where, f"'portal_origins' must be a list of strings, got {shown(value)}")
    for origin in value:
        parts = urlsplit(origin) if origin_of(origin) else None
        if parts is None or parts.path not in ("", "/") or parts.query or parts.fragment or "@" in parts.netloc:
            raise bad(where, f"'portal_origins': {shown(origin)} is not an origin like https://portal.example:8443")
    return list(dict.fromkeys(v.rstrip("/") for v in value))
