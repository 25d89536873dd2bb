"""The whole message as the SM Portal and the MPP answer it: every body part, every attachment.

Owns ``portal_copy`` (the message as delivered to the SM Portal: the original without ``X-SM-*``,
``Disposition-Notification-To`` and ``Return-Receipt-To``, every other byte kept), ``parts`` (every
body part in order, IMAP section numbers as paths, decoded text, which multipart/alternative and
which enclosed message holds it), ``attachments`` (name, type, size and SHA-256 of the decoded
bytes, and where to download them) and ``attachment_bytes``. docs/contract.md describes the shape.
Broken variants that make the portal drop parts are applied here (``variant``).
"""

from __future__ import annotations

import hashlib
from typing import Any

from . import mime_layout
from .banner import is_attachment
from .composer import STRIP_ALWAYS, headers_dict, is_sm_header, strip_raw_headers

# message/* types whose body the email package parses into header blocks, shown as their text
_FIELD_BLOCKS = ("message/delivery-status", "message/disposition-notification")


def portal_copy(raw: bytes) -> bytes:
    return strip_raw_headers(raw, lambda name: is_sm_header(name) or name.lower() in STRIP_ALWAYS)


def _walk(lay: mime_layout.Layout) -> list[dict[str, Any]]:
    """Every body part of the message in order: (path, part, alternative_of, enclosed_in)."""
    found: list[dict[str, Any]] = []

    def body(msg: Any, prefix: str, enclosed: str | None) -> None:
        if msg.is_multipart() and msg.get_content_maintype() == "multipart":
            children(msg, prefix, enclosed, alternative="" if not prefix else prefix)
        else:
            part(msg, f"{prefix}.1" if prefix else "1", None, enclosed)

    def children(multipart: Any, prefix: str, enclosed: str | None, alternative: str | None) -> None:
        is_alternative = multipart.get_content_type() == "multipart/alternative"
        for number, sub in enumerate(multipart.get_payload(), 1):
            path = f"{prefix}.{number}" if prefix else str(number)
            part(sub, path, alternative if is_alternative else None, enclosed)

    def part(p: Any, path: str, alternative_of: str | None, enclosed: str | None) -> None:
        ctype = p.get_content_type()
        if ctype == "message/rfc822" and p.is_multipart():
            found.append({"path": path, "part": p, "alternative_of": alternative_of, "enclosed_in": enclosed})
            body(p.get_payload(0), path, path)
        elif p.get_content_maintype() == "multipart" and p.is_multipart():
            children(p, path, enclosed, alternative=path)
        else:
            found.append({"path": path, "part": p, "alternative_of": alternative_of, "enclosed_in": enclosed})

    body(lay.message, "", None)
    return found


def _text(lay: mime_layout.Layout, p: Any) -> str | None:
    if p.get_content_type() in _FIELD_BLOCKS:
        return lay.body(p).decode("utf-8", "replace").replace("\r\n", "\n")
    if p.get_content_maintype() != "text":
        return None
    try:
        return str(p.get_content()).replace("\r\n", "\n")
    except (LookupError, ValueError, AssertionError):
        return lay.body(p).decode("utf-8", "replace")


def _attached(p: Any) -> bool:
    """An attachment: a part with content of its own (not message/*) marked as one, or with a file name."""
    return p.get_content_maintype() != "message" and is_attachment(p)


def _decoded(p: Any) -> bytes:
    return p.get_payload(decode=True) or b""


def describe(raw: bytes, attachment_url: str | None, *, variant: str = "") -> dict[str, Any]:
    """``{"parts": [...], "attachments": [...]}`` of ``raw``; ``attachment_url`` is formatted with
    the attachment's number (from 1), or None when there is no download."""
    lay = mime_layout.read(raw)
    walked = _walk(lay)
    parts: list[dict[str, Any]] = []
    attachments: list[dict[str, Any]] = []
    for entry in walked:
        p = entry["part"]
        attached = _attached(p)
        if attached and variant == "portal-drops-attachments":
            continue
        parts.append(
            {
                "path": entry["path"],
                "content_type": p.get_content_type(),
                "name": p.get_filename(),
                "text": None if attached and p.get_content_maintype() != "text" else _text(lay, p),
                "alternative_of": entry["alternative_of"],
                "enclosed_in": entry["enclosed_in"],
                "headers": headers_dict(p.get_payload(0)) if p.get_content_type() == "message/rfc822" else None,
            }
        )
        if attached:
            data = _decoded(p)
            number = len(attachments) + 1
            attachments.append(
                {
                    "path": entry["path"],
                    "name": p.get_filename(),
                    "content_type": p.get_content_type(),
                    "size": len(data),
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "url": attachment_url.format(number) if attachment_url else None,
                }
            )
    if variant == "portal-first-text-part-only":
        parts = [p for p in parts if p["content_type"] == "text/plain"][:1]
    return {"parts": parts, "attachments": attachments}


def attachment_bytes(raw: bytes, number: int) -> tuple[dict[str, Any], bytes] | None:
    """The ``number``-th attachment (from 1): its name and type, and its decoded bytes."""
    lay = mime_layout.read(raw)
    attached = [e["part"] for e in _walk(lay) if _attached(e["part"])]
    if not 1 <= number <= len(attached):
        return None
    p = attached[number - 1]
    return {"name": p.get_filename(), "content_type": p.get_content_type()}, _decoded(p)
