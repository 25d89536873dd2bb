"""Owns: the independent gateway's own contract checks (refusals, errors, immutability) against a real instance.

The conformance suite judges policy; these check the contract's edges a vendor
would test themselves: SMTP refusal codes and texts, HTTP error shapes, clock
control, and that a refused message is neither stored nor delivered.
"""

from __future__ import annotations

import smtplib
import tempfile
from email.message import EmailMessage
from pathlib import Path

import pytest
import requests

from tools.independent.matrix import Running

pytestmark = [pytest.mark.independent, pytest.mark.sandbox]


@pytest.fixture(scope="module")
def gw():
    with tempfile.TemporaryDirectory(prefix="nw-gw-") as tmp:
        with Running(Path(tmp)) as running:
            yield running


def _smtp(gw, sender, rcpts, headers, body="hello"):
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, ", ".join(rcpts), "edge"
    for name, value in headers.items():
        msg[name] = value
    msg.set_content(body)
    with smtplib.SMTP("127.0.0.1", gw.ports["smtp_port"], timeout=10) as client:
        client.ehlo()
        code, text = client.mail(sender)
        if code != 250:
            return code, text.decode()
        for rcpt in rcpts:
            code, text = client.rcpt(rcpt)
            if code != 250:
                return code, text.decode()
        try:
            code, text = client.data(msg.as_bytes())
            return code, text.decode()
        except smtplib.SMTPDataError as exc:
            return exc.smtp_code, exc.smtp_error.decode()


def test_smtp_refusals_name_the_problem(gw):
    code, text = _smtp(gw, "eve@example.net", ["a@example.org"], {})
    assert (code, text) == (550, "5.7.1 Relaying denied: <eve@example.net> is not in an internal domain")
    code, text = _smtp(gw, "ines@northwind.test", ["erik@example.net"], {"X-SM-Definition": "Secret"})
    assert code == 554 and "Unknown Secure Messaging definition 'Secret'" in text
    code, text = _smtp(
        gw, "ines@northwind.test", ["erik@example.net"], {"X-SM-Definition": "All", "X-SM-Application": "mpp"}
    )
    assert code == 554 and "Unknown application 'mpp'" in text
    code, text = _smtp(gw, "ines@northwind.test", ["not an address"], {})
    assert code in (501, 553)


def test_at_most_100_recipients(gw):
    with smtplib.SMTP("127.0.0.1", gw.ports["smtp_port"], timeout=10) as client:
        client.ehlo()
        assert client.mail("ines@northwind.test")[0] == 250
        codes = [client.rcpt(f"r{i}@example.net")[0] for i in range(101)]
    assert codes[:100] == [250] * 100 and codes[100] == 452


def test_data_without_recipient_is_refused(gw):
    with smtplib.SMTP("127.0.0.1", gw.ports["smtp_port"], timeout=10) as client:
        client.ehlo()
        client.mail("ines@northwind.test")
        code, text = client.docmd("DATA")
    assert (code, text.decode()) == (503, "5.5.1 Error: need RCPT command")


def test_http_errors_are_json(gw):
    base = f"http://127.0.0.1:{gw.ports['http_port']}"
    admin = {"Authorization": f"Bearer {gw.token}"}
    answer = requests.get(f"{base}/admin/api/definitions", timeout=5)
    assert answer.status_code == 401 and answer.json()["error"] == "unauthorized"
    answer = requests.delete(f"{base}/admin/api/definitions/All", headers=admin, timeout=5)
    assert answer.status_code == 403 and answer.json()["error"] == "definitions_immutable"
    names = [
        d["name"] for d in requests.get(f"{base}/admin/api/definitions", headers=admin, timeout=5).json()["definitions"]
    ]
    assert names == ["All", "External"]
    assert requests.get(f"{base}/sm-portal/api/messages/nw-{'0' * 32}", timeout=5).json()["error"] == "not_found"
    answer = requests.post(
        f"{base}/admin/api/mpp-sessions", headers=admin, json={"address": "x@example.net"}, timeout=5
    )
    assert answer.status_code == 403 and answer.json()["error"] == "no_mpp_for_external"
    session = requests.post(
        f"{base}/admin/api/mpp-sessions", headers=admin, json={"address": "i@northwind.test"}, timeout=5
    ).json()["session"]
    answer = requests.post(
        f"{base}/mpp/api/messages",
        headers={"Authorization": f"Bearer {session}"},
        json={"to": [], "subject": "s", "text": "t", "definition": "All"},
        timeout=5,
    )
    assert answer.status_code == 422 and answer.json()["error"] == "invalid_request" and answer.json()["detail"]
    answer = requests.post(
        f"{base}/mpp/api/messages",
        headers={"Authorization": f"Bearer {session}"},
        json={"to": ["e@example.net"], "subject": "s", "text": "t", "definition": "Nope"},
        timeout=5,
    )
    assert answer.status_code == 400 and answer.json()["error"] == "unknown_definition"
    answer = requests.post(
        f"{base}/mpp/api/messages", headers={"Authorization": f"Bearer {session}"}, data="{not json", timeout=5
    )
    assert answer.status_code == 422


def test_the_clock_moves_only_when_enabled(gw):
    base = f"http://127.0.0.1:{gw.ports['http_port']}"
    admin = {"Authorization": f"Bearer {gw.token}"}
    assert requests.get(f"{base}/admin/api/clock", headers=admin, timeout=5).json()["controllable"] is True
    before = requests.get(f"{base}/admin/api/clock", headers=admin, timeout=5).json()["now"]
    after = requests.post(f"{base}/admin/api/clock", headers=admin, json={"advance_days": 1}, timeout=5).json()["now"]
    assert after[:10] > before[:10]
