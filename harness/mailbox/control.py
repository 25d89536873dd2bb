"""The harness's proof that its own mail sandbox works: a control message straight into the
mailbox and back, with a short deadline.

Owns: ``control_roundtrip()``. The suite runs it once at the start and again whenever a wait
for mail runs out; when it fails, the mail sandbox is broken — a harness error, never the
target's fault — and the run ends Incomplete within seconds instead of minutes of timeouts.
"""

from __future__ import annotations

import secrets
import smtplib
from email.message import EmailMessage

from harness.errors import HarnessError
from harness.mailbox.mailpit import MailpitClient
from harness.mailbox.types import WaitTimeout

CONTROL_DOMAIN = "control.smlite.invalid"


def control_roundtrip(client: MailpitClient, smtp: str, deadline_s: float = 5.0) -> float:
    """Send a control message to Mailpit's SMTP at ``smtp`` ("host:port") and read it back
    through ``client``; the seconds it took. HarnessError saying which half failed."""
    import time

    started = time.monotonic()
    address = f"control-{secrets.token_hex(4)}@{CONTROL_DOMAIN}"
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = f"smlite@{CONTROL_DOMAIN}", address, "smlite control"
    message.set_content("A control message: the harness checks its own mail sandbox.\n")
    host, _, port = smtp.rpartition(":")
    try:
        with smtplib.SMTP(host, int(port), timeout=deadline_s) as connection:
            connection.send_message(message)
    except (OSError, ValueError, smtplib.SMTPException) as exc:
        raise HarnessError(
            "The mail sandbox is not working",
            f"a control message sent straight into Mailpit's SMTP at {smtp} is refused",
            f"{type(exc).__name__}: {exc}",
        ) from None
    try:
        client.wait_for_messages(address, 1, deadline_s)
    except WaitTimeout:
        raise HarnessError(
            "The mail sandbox is not working",
            f"a control message Mailpit accepted at {smtp} never showed in its API "
            f"{client.api_url} within {deadline_s:.0f}s",
            "nothing",
        ) from None
    return time.monotonic() - started
