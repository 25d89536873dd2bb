"""The view of one piece of evidence: a delivered email, an HTTP/SMTP exchange, an MPP item, a note.

Turns ``results.Evidence`` (free-form ``data``) into labelled fields the
template prints as text. Nothing here is markup: bodies stay strings, and the
template escapes them (HTML bodies go to a sandboxed iframe's ``srcdoc``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from harness.results import Evidence

MAX_BODY = 200_000
# data keys shown in their own place; everything else is listed under "other fields".
_EMAIL_KEYS = ("from", "to", "cc", "subject", "date")
_HTTP_KEYS = ("method", "url", "request", "status", "elapsed_ms")
_BODY_KEYS = ("text", "html", "excerpt", "headers", "body", "answer", "classification", "rule", "mailpit_id", "picture")


# Where an HTML body refers to something remote: attribute values, CSS url() and @import.
_REMOTE = re.compile(r"""(?ix)
    ( (?:\b[a-z:-]+\s*=\s*["']?\s*) | (?:url\(\s*["']?\s*) | (?:@import\s+["']?\s*) | (?:,\s*) )
    (?:https?:|ftp:)?//""")


def inert_html(html: str) -> str:
    """An HTML body whose remote references point nowhere (``data:,remote:host/path``).

    Only a courtesy, so a preview does not even try to fetch: the sandboxed
    iframe (no scripts) and the page's Content-Security-Policy are what keep
    the report from loading anything.
    """
    return _REMOTE.sub(lambda m: m.group(1) + "data:,remote:", html)


@dataclass
class EvidenceView:
    anchor: str
    kind: str
    title: str
    fields: list[tuple[str, str]] = field(default_factory=list)  # short label/value pairs
    classification: str = ""
    rule: str = ""
    excerpt: str = ""
    text: str = ""
    html: str = ""
    body: str = ""  # HTTP body / exchange answer, pretty-printed when JSON
    headers: list[tuple[str, str]] = field(default_factory=list)
    extra: list[tuple[str, str]] = field(default_factory=list)
    picture: bool = False  # a picture of it is in the page's pictures section

    @property
    def inert_html(self) -> str:
        return inert_html(self.html)

    @property
    def subject(self) -> str:
        return dict(self.fields).get("Subject", "")


def as_text(value: Any) -> str:
    """A data value as plain text: lists joined, mappings and numbers as JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return ", ".join(value)
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def pretty_body(value: Any) -> str:
    """An HTTP body: JSON (given as data or as a JSON string) indented; anything else as text."""
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return value
        if not isinstance(parsed, (dict, list)):
            return value
        value = parsed
    return as_text(value)


def _headers(value: Any) -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [(str(k), as_text(v)) for k, v in value.items()]
    if isinstance(value, (list, tuple)):
        pairs = []
        for item in value:
            if isinstance(item, (list, tuple)) and len(item) == 2:
                pairs.append((str(item[0]), as_text(item[1])))
            else:
                pairs.append(("", as_text(item)))
        return pairs
    if isinstance(value, str) and value:
        return [
            (line.split(":", 1)[0].strip(), line.split(":", 1)[1].strip()) if ":" in line else ("", line)
            for line in value.splitlines()
            if line.strip()
        ]
    return []


def _cap(text: str) -> str:
    """Keep the page readable: a body beyond MAX_BODY characters is cut (results.json has it whole)."""
    if len(text) <= MAX_BODY:
        return text
    return text[:MAX_BODY] + f"\n[… {len(text) - MAX_BODY} more characters: see results.json]"


def evidence_view(evidence: Evidence, anchor: str) -> EvidenceView:
    data = evidence.data if isinstance(evidence.data, dict) else {"value": evidence.data}
    view = EvidenceView(anchor=anchor, kind=evidence.kind or "note", title=evidence.title or evidence.id)
    if view.kind in ("email", "mpp"):
        for key in _EMAIL_KEYS:
            if data.get(key) not in (None, "", []):
                view.fields.append((key.capitalize(), as_text(data[key])))
    else:
        for key in _HTTP_KEYS:
            if data.get(key) not in (None, ""):
                label = "Elapsed" if key == "elapsed_ms" else key.capitalize()
                value = f"{data[key]} ms" if key == "elapsed_ms" else as_text(data[key])
                view.fields.append((label, value))
    if data.get("mailpit_id"):
        view.fields.append(("Mailpit id", as_text(data["mailpit_id"])))
    classification = data.get("classification") or (data.get("kind") if view.kind == "mpp" else "")
    view.classification = as_text(classification)
    view.rule = as_text(data.get("rule"))
    view.excerpt = as_text(data.get("excerpt"))
    view.text = _cap(as_text(data.get("text")))
    view.html = _cap(as_text(data.get("html")))
    body = data.get("body", data.get("answer"))
    view.body = _cap(pretty_body(body)) if body not in (None, "") else ""
    view.headers = _headers(data.get("headers"))
    view.picture = bool(data.get("picture"))
    shown = set(_EMAIL_KEYS) | set(_HTTP_KEYS) | set(_BODY_KEYS) | ({"kind"} if view.kind == "mpp" else set())
    view.extra = [(str(k), as_text(v)) for k, v in data.items() if k not in shown and v not in (None, "")]
    return view
