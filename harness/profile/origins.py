"""Which origins belong to the target: portal links are followed there and nowhere else.

Owns ``declared_origins(profile)`` (the origin of ``[target] http`` plus the
optional top-level ``portal_origins``), ``origin_of(url)`` (an http(s) URL's
``scheme://host:port``, lower-cased, default ports filled in, IPv6 in
brackets) and ``allowed_origin(profile, url)`` / ``require_target_origin``:
the *declared* origin a link matches, which the caller then requests, never
the link's own spelling of it, so a parser disagreement (``\\``, ``@``) cannot
send a request elsewhere. A link that is malformed, carries credentials, or
matches no declared origin raises ``ForeignLink`` and is never requested.
A relative link (a path) is resolved against ``[target] http``.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from harness.errors import ForeignLink

DEFAULT_PORTS = {"http": 80, "https": 443}
_UNSAFE = re.compile(r"[\s\\\x00-\x1f\x7f]")


def origin_of(url: str) -> str | None:
    """``scheme://host:port`` of an absolute http(s) URL; None if it is not one (or is malformed)."""
    if not isinstance(url, str) or _UNSAFE.search(url):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower().rstrip(".")
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port or DEFAULT_PORTS[scheme]}"


def declared_origins(profile: Any) -> dict[str, str]:
    """canonical origin -> the base to request, for every origin the profile gives the target."""
    bases: list[str] = []
    http = getattr(profile, "target", {}).get("http")
    if isinstance(http, str):
        bases.append(http)
    bases += [o for o in getattr(profile, "portal_origins", []) or [] if isinstance(o, str)]
    declared: dict[str, str] = {}
    for base in bases:
        origin = origin_of(base)
        if origin and origin not in declared:
            parts = urlsplit(base)
            declared[origin] = f"{parts.scheme.lower()}://{parts.netloc.rpartition('@')[2]}"
    return declared


def allowed_origin(profile: Any, url: str) -> str | None:
    """The declared base (``scheme://netloc``) ``url`` belongs to, or None if it belongs to none."""
    if not isinstance(url, str) or _UNSAFE.search(url):
        return None
    parts = urlsplit(url)
    if not parts.scheme and not parts.netloc and url.startswith("/"):
        http = getattr(profile, "target", {}).get("http")
        return declared_origins(profile).get(origin_of(http) or "") if isinstance(http, str) else None
    if parts.username is not None or parts.password is not None:
        return None  # credentials in a link the target hands out: never sent anywhere
    return declared_origins(profile).get(origin_of(url) or "")


def require_target_origin(profile: Any, link: str) -> str:
    """``allowed_origin`` or ``ForeignLink`` ("portal link points outside the target: <link>")."""
    base = allowed_origin(profile, link)
    if base is None:
        raise ForeignLink(str(link))
    return base
