"""Secrets stay out of reports: one ``Masker`` applied to results before any file or line is written.

Owns:

* ``Masker``: masks secrets in any string, and in any nested JSON-able
  structure (``mask``). What it knows:

  - literals from the profile (``Masker.from_profile``): values of keys
    naming a token, password, secret, session, credential or API key (the
    admin token), the userinfo of every URL in it (``http://user:pw@host``),
    each also in its percent-encoded form;
  - patterns for what the target hands out during a run: URL userinfo
    anywhere, SM Portal tokens in ``/sm-portal/m/<token>``,
    ``/sm-portal/api/messages/<token>`` and ``/sm-portal/api/inbox/<token>``,
    the profile's own ``classification.portal_link`` (a vendor's link
    format: its last path segment), ``Bearer``/``Basic`` credentials,
    ``session=`` / ``mpp_session=`` parameters and cookies, and JSON text
    members whose name holds token, session, password or secret (an MPP
    session in an answer body ``{"session": "..."}``);
  - in structures, the value of any key naming a secret, whatever it holds.

  A secret becomes its first 4 characters (none when shorter than 12),
  ``…`` and ``#`` with 4 hex digits of an HMAC keyed per Masker: ``AbCd…#3f2a``.
  Equal secrets look equal within one report; the hash cannot be looked up
  in a dictionary of common passwords because the key is random per run.
  Masking is idempotent (a masked value is left as it is).
* ``mask_results(data, masker)`` for the results dict (results.json's form)
  and ``mask_run_results(results, masker)`` for a ``RunResults``, applied
  before results.json, junit.xml, cucumber.json, index.html and the terminal
  summary are written, unless the user asks ``--reveal-secrets``.

Hand-written: no library masks by both known values and token shapes inside
nested data (detect-secrets and the like scan files for high-entropy strings
and report them; they do not rewrite structures).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets as _random
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, unquote, urlsplit

SECRET_KEY = re.compile(r"token|passw(or)?d|passwd|secret|session|credential|api_?key|authorization|cookie", re.I)
MASKED = re.compile(r"^(?:[^\s]{0,4})…#[0-9a-f]{4}$|^\*+$")
MIN_LITERAL = 6  # shorter profile values are masked where they stand, not searched for in all text

_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)([^\s/@<>\"']+)@")
_PORTAL_PATH = re.compile(r"(/sm-portal/(?:m|api/messages|api/inbox)/)([A-Za-z0-9_\-~.%]{6,})")
_AUTH = re.compile(r"(?i)\b(Bearer|Basic)(\s+)([A-Za-z0-9._~+/=\-]{6,})")
_SESSION_PARAM = re.compile(r"(?i)\b((?:mpp_)?session=)([^&;,\s\"'<>#]{6,})")
_JSON_MEMBER = re.compile(r'(?i)("[^"\\]{0,40}(?:token|session|passw|secret)[^"\\]{0,40}"\s*:\s*")([^"\\]{6,})(")')


class Masker:
    def __init__(self, literals: Iterable[str] = (), *, portal_link: str | None = None, key: bytes | None = None):
        self._key = key if key is not None else _random.token_bytes(16)
        found: set[str] = set()
        for literal in literals:
            if isinstance(literal, str) and len(literal) >= MIN_LITERAL and not MASKED.match(literal):
                found.update({literal, quote(literal, safe=""), quote(literal, safe="/:@")})
        self.literals = sorted(found, key=len, reverse=True)
        self._literal_re = re.compile("|".join(map(re.escape, self.literals))) if self.literals else None
        self._portal_link = None
        if portal_link:
            try:
                self._portal_link = re.compile(portal_link)
            except re.error:
                self._portal_link = None

    @classmethod
    def from_profile(cls, profile: Any, *, key: bytes | None = None) -> Masker:
        """A Masker knowing the secrets of a TargetProfile (or its ``to_dict()``)."""
        data = profile.to_dict() if hasattr(profile, "to_dict") else dict(profile)
        literals: list[str] = []
        for name, value in _walk(data):
            if not isinstance(value, str):
                continue
            if name is not None and SECRET_KEY.search(name):
                literals.append(value)
            for match in _USERINFO.finditer(value):
                userinfo = match.group(2)
                literals.append(userinfo)
                literals.append(unquote(userinfo))
                _user, _, password = userinfo.partition(":")
                if password:
                    literals += [password, unquote(password)]
        portal_link = (data.get("classification") or {}).get("portal_link")
        return cls(literals, portal_link=portal_link if isinstance(portal_link, str) else None, key=key)

    # -- one value -------------------------------------------------------------------
    def mask_value(self, secret: str) -> str:
        """``AbCd…#3f2a``: 4 characters kept (none for short secrets), a keyed hash for equality."""
        if not secret or MASKED.match(secret):
            return secret
        digest = hmac.new(self._key, secret.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:4]
        return f"{secret[:4] if len(secret) >= 12 else ''}…#{digest}"

    def text(self, value: str) -> str:
        """``value`` with every secret in it masked."""
        if not value:
            return value
        if self._literal_re is not None:
            value = self._literal_re.sub(lambda m: self.mask_value(m.group(0)), value)
        value = _USERINFO.sub(lambda m: m.group(1) + self.mask_value(m.group(2)) + "@", value)
        if self._portal_link is not None:
            value = self._portal_link.sub(lambda m: self._mask_last_segment(m.group(0)), value)
        value = _PORTAL_PATH.sub(lambda m: m.group(1) + self.mask_value(m.group(2)), value)
        value = _AUTH.sub(lambda m: m.group(1) + m.group(2) + self.mask_value(m.group(3)), value)
        value = _SESSION_PARAM.sub(lambda m: m.group(1) + self.mask_value(m.group(2)), value)
        value = _JSON_MEMBER.sub(lambda m: m.group(1) + self.mask_value(m.group(2)) + m.group(3), value)
        return value

    def _mask_last_segment(self, link: str) -> str:
        path = urlsplit(link).path if "://" in link else link
        segment = path.rstrip("/").rsplit("/", 1)[-1]
        if len(segment) < MIN_LITERAL or MASKED.match(segment):
            return link
        at = link.rfind(segment)
        return link[:at] + self.mask_value(segment) + link[at + len(segment) :]

    # -- structures ----------------------------------------------------------------------
    def mask(self, data: Any, _key: str | None = None) -> Any:
        """A copy of a JSON-able structure with every string masked; values of secret keys masked whole."""
        if isinstance(data, str):
            if _key is not None and SECRET_KEY.search(_key) and not MASKED.match(data):
                return self.mask_value(data)
            return self.text(data)
        if isinstance(data, Mapping):
            return {
                (self.text(k) if isinstance(k, str) else k): self.mask(v, k if isinstance(k, str) else None)
                for k, v in data.items()
            }
        if isinstance(data, (list, tuple)):
            return [self.mask(item) for item in data]
        return data


def _walk(data: Any, name: str | None = None) -> Iterable[tuple[str | None, Any]]:
    """(key, value) of every leaf, iteratively (no recursion limit on odd data)."""
    stack: list[tuple[str | None, Any]] = [(name, data)]
    while stack:
        key, value = stack.pop()
        if isinstance(value, Mapping):
            stack.extend((str(k), v) for k, v in value.items())
        elif isinstance(value, (list, tuple)):
            stack.extend((key, v) for v in value)
        else:
            yield key, value


def mask_results(data: dict[str, Any], masker: Masker) -> dict[str, Any]:
    """results.json's dict with every secret masked (a new dict; ``data`` is left as it is)."""
    masked: dict[str, Any] = masker.mask(data)
    return masked


def mask_run_results(results: Any, masker: Masker) -> Any:
    """A masked copy of a ``RunResults`` (harness/results/model.py), for every report writer."""
    from harness import results as R

    return R.RunResults.from_dict(mask_results(results.to_dict(), masker))


def for_report(results: Any, profile: Any, *, reveal: bool = False) -> Any:
    """What every writer and the terminal summary get: ``results`` masked with the profile's secrets,
    or as it is with ``--reveal-secrets``. Call once per run and use the one object for all outputs
    (a Masker's hash key is per Masker, so equal secrets look equal only within one masking)."""
    return results if reveal else mask_run_results(results, Masker.from_profile(profile))
