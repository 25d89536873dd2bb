"""Owns: the domain variants the suite uses to test how a target decides "internal".

docs/contract.md: a recipient is internal when its domain is one of the profile's
``internal_domains``, matched exactly and case-insensitively. Three variants of a
declared internal domain probe that rule, each seeded (``random.Random``-like ``rng``):

* ``mixed_case``: the same domain with letters in mixed case — still internal, since
  domains are case-insensitive (RFC 5321 §2.4);
* ``glued``: letters glued in front of the domain without a dot (``x`` + domain,
  ``evil-`` + domain) — another domain, so external;
* ``sub_domain``: a label and a dot in front (``sub.`` + domain) — external under
  the contract's exact match (the source does not define "internal" at all).

Hand-written: three string transformations; no library does these.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from typing import Protocol


class Rng(Protocol):
    def random(self) -> float: ...
    def choice(self, seq: Sequence[str]) -> str: ...


def mixed_case(domain: str, rng: Rng) -> str:
    """``domain`` with its letters' case mixed: never all lower case, never identical to ``domain``."""
    if not any(c.isalpha() for c in domain):
        raise ValueError(f"{domain!r} has no letters to write in mixed case")
    letters = [c.upper() if c.isalpha() and rng.random() < 0.5 else c.lower() for c in domain]
    out = "".join(letters)
    if out == out.lower() or out == domain:
        # force a difference from the declared spelling and from all-lower: flip the first letter that differs
        for i, c in enumerate(domain):
            if c.isalpha():
                letters[i] = c.lower() if c.isupper() else c.upper()
                if "".join(letters) != "".join(letters).lower():
                    break
        out = "".join(letters)
    return out


def glued(domain: str, rng: Rng) -> str:
    """Letters glued in front of ``domain`` without a dot boundary: a different domain that ends with its text."""
    prefix = "".join(rng.choice(string.ascii_lowercase) for _ in range(1 + int(rng.random() * 5)))
    return f"{prefix}{rng.choice(['', '-'])}{domain.lower()}"


def sub_domain(domain: str, rng: Rng) -> str:
    """A sub-domain of ``domain``: a label, a dot, then the domain."""
    label = "".join(rng.choice(string.ascii_lowercase) for _ in range(3 + int(rng.random() * 4)))
    return f"{label}.{domain.lower()}"


def is_internal(domain: str, internal_domains: list[str]) -> bool:
    """docs/contract.md's rule: exact match, case-insensitive (the test oracle for the variants above)."""
    return domain.lower() in {d.lower() for d in internal_domains}
