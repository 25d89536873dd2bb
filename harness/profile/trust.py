"""What in a profile weakens the evidence of a run: certificate checks turned off.

Owns ``unchecked_tls(settings)``: one sentence per place where the profile tells the harness not to
check a TLS certificate (``[target] tls_verify = false``, ``[mailbox] verify_tls = false`` on an IMAP
server with TLS). Such a run still talks TLS, but anyone in the middle could answer in the target's
place, so ``smlite target check``, the header of ``smlite run`` and the report state it as a warning
— never silently, never as a pass. ``settings`` is a profile as a dict: ``TargetProfile.to_dict()``, or
the ``profile_settings`` a results.json records (harness/conformance/runner.py), so the report, which
reads results only, can ask the same question.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_WHY = "anyone in the middle could answer in its place: for a throw-away lab only"


def unchecked_tls(settings: Mapping[str, Any] | None) -> list[str]:
    """Each certificate check the profile turns off, in words ([] when every check is on)."""
    if not isinstance(settings, Mapping):
        return []
    notices = []
    target = settings.get("target")
    if isinstance(target, Mapping) and target.get("tls_verify") is False:
        notices.append(f"TLS certificates of the target are not checked ([target] tls_verify = false): {_WHY}")
    mailbox = settings.get("mailbox")
    if (
        isinstance(mailbox, Mapping)
        and mailbox.get("verify_tls") is False
        and str(mailbox.get("tls", "implicit")).lower() != "none"
    ):
        notices.append(f"the IMAP server's certificate is not checked ([mailbox] verify_tls = false): {_WHY}")
    return notices
