"""The delay knob: a reference gateway that delivers late, with jitter, out of order — for testing the suite.

Owns ``DeliveryDelay``: when a delivery queued at ``now`` is first tried, ``now + delay + a random
0..jitter`` (seeded by ``delivery_seed``, 0 = a fresh seed). With jitter, a message queued later can be
tried first: deliveries are reordered as a hosted product's are. Configured by ``delivery_delay_s``,
``delivery_jitter_s`` and ``delivery_seed`` (docs/contract.md, "Gateway configuration"); all 0 by default:
delivered at once, in order. Only the first attempt is delayed; retries keep their backoff.
"""

from __future__ import annotations

import hashlib
import secrets
import threading


class DeliveryDelay:
    def __init__(self, delay_s: float = 0.0, jitter_s: float = 0.0, seed: int = 0) -> None:
        self.delay_s, self.jitter_s = max(0.0, delay_s), max(0.0, jitter_s)
        self._seed = seed or secrets.randbits(63)
        self._drawn = 0
        self._lock = threading.Lock()

    @property
    def active(self) -> bool:
        return self.delay_s > 0 or self.jitter_s > 0

    def __call__(self, now: float) -> float:
        if not self.active:
            return 0.0
        with self._lock:
            self._drawn += 1
            drawn = self._drawn
        return now + self.delay_s + self.jitter_s * _fraction(self._seed, drawn)


def _fraction(seed: int, n: int) -> float:
    """The ``n``-th number in [0, 1) of the sequence ``seed`` names: reproducible from the seed alone, and no
    ``random`` in the gateway (tests/hardening: every token it makes comes from ``secrets``)."""
    digest = hashlib.sha256(f"{seed}:{n}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64
