"""What a target's TLS endpoints show: for `smlite target check`.

Owns ``describe_smtp(driver)`` and ``describe_https(url, verify)``: the TLS
version, the server certificate's subject and expiry, and (SMTP) the AUTH
mechanisms the post-TLS EHLO offers. The SMTP connection is the reference
driver's own (``smtp_connect``: TLS and login exactly as the suite does), so
a line here means the suite's submissions will get through too. The
certificate is read with ``cryptography`` (trustme's dependency) from its DER
bytes, because ``getpeercert()`` returns nothing when verification is off.
"""

from __future__ import annotations

import socket
import ssl
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509


def certificate_summary(tls: ssl.SSLSocket | ssl.SSLObject) -> str:
    """'TLSv1.3, certificate CN=...,O=... expires 2029-01-01' for an established TLS connection."""
    version = tls.version() or "TLS"
    der = tls.getpeercert(binary_form=True)
    if not der:
        return f"{version}, no server certificate"
    cert = x509.load_der_x509_certificate(der)
    subject = cert.subject.rfc4514_string() or "(empty subject)"
    names = ""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = ", names " + " ".join(str(n.value) for n in san)
    except x509.ExtensionNotFound:
        pass
    expires = cert.not_valid_after_utc.strftime("%Y-%m-%d %H:%M UTC")
    return f"{version}, certificate subject {subject}{names}, expires {expires}"


def describe_smtp(driver: Any) -> str:
    """Connect as the driver does; report TLS, certificate and AUTH mechanisms."""
    client = driver.smtp_connect()
    try:
        if not client.esmtp_features:
            client.ehlo()
        auth = client.esmtp_features.get("auth", "").split()
        parts = []
        sock = client.sock
        if isinstance(sock, ssl.SSLSocket):
            parts.append(f"{driver.smtp_tls}: " + certificate_summary(sock))
        else:
            parts.append("no TLS (plain SMTP)")
        parts.append("AUTH offered: " + (" ".join(auth) if auth else "none"))
        if getattr(driver, "smtp_username", ""):
            parts.append(f"logged in as {driver.smtp_username!r}")
        return "; ".join(parts)
    finally:
        try:
            client.quit()
        except Exception:
            client.close()


def describe_https(url: str, context: ssl.SSLContext, timeout_s: float = 10.0) -> str:
    """TLS version and certificate of an https URL's server."""
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or 443
    with socket.create_connection((host, port), timeout=timeout_s) as raw:
        with context.wrap_socket(raw, server_hostname=host) as tls:
            return certificate_summary(tls)
