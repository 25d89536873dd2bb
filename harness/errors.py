"""The harness's failure types.

Modelled on schemathesis: every failure carries a short ``title``, a
``message`` saying what was expected, and ``observed``, what was seen instead.

* ``ConformanceFailure``: the target did not do what the source requires.
* ``NotApplicable``: the target lacks a capability the check needs.
* ``HarnessError``: the harness itself could not run the check (sandbox
  unreachable, bad profile, ...). Never a verdict on the target.
* ``DeliveryTimeout``: a recipient's wait reached the profile's delivery timeout
  without even the barrier message: the run is incomplete.
* ``UsageError``: the user asked for something impossible (CLI exit 2).
"""

from __future__ import annotations

from typing import Any


class SmliteError(Exception):
    def __init__(self, title: str, message: str = "", observed: Any = None):
        self.title = title
        self.message = message
        self.observed = observed
        super().__init__(self.__str__())

    def __str__(self) -> str:
        text = self.title
        if self.message:
            text += f": {self.message}"
        if self.observed not in (None, "", [], {}):
            text += f"\n  observed: {self.observed}"
        return text


class HarnessError(SmliteError):
    """The harness could not do its job; says nothing about the target."""


class DeliveryTimeout(HarnessError):
    """A recipient waited the profile's whole ``delivery_timeout_s`` and nothing came, not even the ordinary
    barrier message sent after it: nothing can be said about that recipient — the scenario (and the run)
    is incomplete, never a failure of the target nor a pass."""


class UsageError(HarnessError):
    """Bad command-line or profile input; the CLI exits 2 with the message."""


class ConformanceFailure(SmliteError, AssertionError):
    """The target's behaviour differs from what the source states."""


class NotApplicable(SmliteError):
    """The target does not declare a capability the scenario needs."""


class ForeignLink(ConformanceFailure):
    """A portal link the target handed out points to an origin the profile does not declare as the
    target's: it is never requested, and the cell using it fails (the suite must not take evidence
    from whoever listens there)."""

    def __init__(self, link: str):
        self.link = link
        shown = link if len(link) <= 200 else f"{link[:200]}… ({len(link)} chars)"
        super().__init__("portal link points outside the target", shown)
