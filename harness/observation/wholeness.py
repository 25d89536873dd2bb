"""The whole message: what a copy of a real message keeps of the original, part by part.

Owns ``Original`` (a message as sent: its bytes with CRLF line ends, parsed), ``leaves`` (every part
with content of its own, in order, each with what a copy must keep of it), ``shown_first`` (the body
parts a reader sees first: where docs/contract.md puts the one banner), ``banner_problems`` (an email
with banner against its original), ``portal_problems`` (an SM Portal answer of capability
sm-portal-whole-message against its original), ``malformed`` (why a message is broken MIME, if it
is) and ``marker_of`` (a line only the original's own text carries).

The source's "Email with banner" and "Message in SM Portal" are the message itself; what each keeps
is derived from that and checked at level derived. Hand-written on the standard library's email
package: no library compares two messages part by part.
"""

from __future__ import annotations

import email.policy
import hashlib
import html as html_lib
import re
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from harness.drivers.smtp_submission import crlf

DISPLAYED = ("text/plain", "text/html")
ENCLOSING = ("message/rfc822", "message/global")
REPORTS = ("message/delivery-status", "message/disposition-notification", "text/rfc822-headers")
BANNER_WINDOW = 400
MAX_DEPTH = 50


def parse(raw: bytes) -> EmailMessage:
    message = BytesParser(policy=email.policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    return message


@dataclass(frozen=True)
class Leaf:
    """A part with content of its own: its place, type, file name and what a copy must keep of it."""

    path: str
    content_type: str
    name: str | None
    attachment: bool
    kept: str  # decoded text (LF) of a text part, the body of a report part, or sha256 of the bytes
    size: int
    part: Any

    def describe(self) -> str:
        named = f" '{self.name}'" if self.name else ""
        return f"part {self.path} ({self.content_type}{named})"


@dataclass(frozen=True)
class Original:
    raw: bytes
    message: EmailMessage

    @classmethod
    def from_raw(cls, raw: bytes) -> Original:
        raw = crlf(raw)
        return cls(raw, parse(raw))


def is_attachment(part: Any) -> bool:
    return part.get_content_disposition() == "attachment" or bool(part.get_filename())


def text_of(part: Any) -> str:
    try:
        content = part.get_content()
    except (LookupError, ValueError, AssertionError, AttributeError):
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else str(payload or "")
    if isinstance(content, bytes):
        content = content.decode("utf-8", "replace")
    return "\n".join(line.rstrip() for line in str(content).replace("\r\n", "\n").split("\n")).strip("\n")


def _report_body(part: Any) -> str:
    text = part.as_string(policy=email.policy.default.clone(linesep="\n"))
    return "\n".join(line.rstrip() for line in text.partition("\n\n")[2].split("\n")).strip()


def _kept(part: Any) -> tuple[str, int]:
    content_type = part.get_content_type()
    if content_type in REPORTS:
        body = _report_body(part)
        return body, len(body)
    if part.get_content_maintype() == "text" and not is_attachment(part):
        text = text_of(part)
        return text, len(text)
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    return hashlib.sha256(data).hexdigest(), len(data)


def leaves(message: Any) -> list[Leaf]:
    """Every part with content of its own, in order; an enclosed message's header block is one too."""
    found: list[Leaf] = []

    def visit(part: Any, path: str) -> None:
        content_type = part.get_content_type()
        if content_type in ENCLOSING:
            inner = part.get_payload()
            inner = inner[0] if isinstance(inner, list) and inner else inner
            headers = "\n".join(f"{k}: {v}" for k, v in inner.items()) if hasattr(inner, "items") else ""
            found.append(Leaf(path, content_type, None, False, headers, len(headers), part))
            if hasattr(inner, "get_content_type"):
                visit_body(inner, path)
            return
        if part.is_multipart() and content_type not in REPORTS:
            visit_body(part, path)
            return
        kept, size = _kept(part)
        found.append(Leaf(path, content_type, part.get_filename(), is_attachment(part), kept, size, part))

    def visit_body(message: Any, path: str) -> None:
        prefix = f"{path}." if path else ""
        if message.is_multipart() and message.get_content_type() not in (*REPORTS, *ENCLOSING):
            for n, child in enumerate(message.get_payload(), 1):
                visit(child, f"{prefix}{n}")
        else:
            visit(message, f"{prefix}1")

    visit_body(message, "")
    return found


def shown_first(part: Any) -> list[Any]:
    """The body parts a reader sees first (docs/contract.md, "One banner"): each alternative of a
    multipart/alternative, the root of a multipart/related, the first part of a multipart/report, the
    first subpart that shows text of any other multipart; never signed content or enclosed messages."""
    content_type = part.get_content_type()
    if content_type in DISPLAYED:
        return [] if is_attachment(part) else [part]
    if not part.is_multipart() or content_type in (*ENCLOSING, "multipart/signed", "multipart/encrypted"):
        return []
    children = list(part.get_payload())
    if content_type == "multipart/alternative":
        return [shown for child in children for shown in shown_first(child)]
    if content_type in ("multipart/related", "multipart/report"):
        return shown_first(children[0]) if children else []
    for child in children:
        if shown := shown_first(child):
            return shown
    return []


def readable(leaf: Leaf) -> str:
    text = leaf.kept
    if leaf.content_type == "text/html":
        text = re.sub(r"(?is)<(script|style|head)\b.*?</\1>", " ", text)
        text = html_lib.unescape(re.sub(r"<[^>]+>", " ", text))
    return re.sub(r"\s+", " ", text).strip()


def _banner_at_top(text: str, banner: str) -> bool:
    return 0 <= text.find(banner) <= BANNER_WINDOW


def banner_problems(
    original: Original, delivered_raw: bytes, banner_text: str, contract: list[str] | None = None
) -> list[str]:
    """What the email with banner changed beyond one banner at the top of what is shown first. A banner
    on top of a later text part of the message's own body, its text kept under it, is what docs/contract.md
    before issue 22 asked for (a banner on each text part) and the source does not forbid: it goes to
    ``contract``, not among the problems. Inside an enclosed message, an attachment or a report part, a
    banner changes that part: a problem."""
    banner = re.sub(r"\s+", " ", banner_text).strip()
    before, after = leaves(original.message), leaves(parse(crlf(delivered_raw)))
    first = {id(p) for p in shown_first(original.message)}
    problems: list[str] = []
    head = after[0] if after else None
    banner_part = head is not None and head.content_type == "text/plain" and readable(head).startswith(banner)
    if not first and not banner_part:  # nowhere to put it: a banner part first, then the original entity
        shown = head.describe() if head else "nothing"
        return [
            "the message has no text part a reader sees first, and the email with banner does not "
            f"open with a banner part (first: {shown})"
        ]
    if banner_part and (not first or len(after) == len(before) + 1):
        first, after = set(), after[1:]  # a banner part of its own on top: the original follows, untouched
    if [leaf.content_type for leaf in after] != [leaf.content_type for leaf in before]:
        return [
            "the email with banner does not keep the original's parts: original "
            f"{', '.join(leaf.content_type for leaf in before)}; delivered {', '.join(leaf.content_type for leaf in after)}"
        ]
    enclosures = [leaf.path + "." for leaf in before if leaf.content_type in ENCLOSING]
    for was, now in zip(before, after, strict=True):
        own_text = was.content_type in DISPLAYED and not was.attachment
        if own_text and id(was.part) not in first and not any(was.path.startswith(e) for e in enclosures):
            if _banner_at_top(readable(now), banner) and readable(was) in readable(now) and banner not in readable(was):
                if contract is not None:
                    contract.append(
                        f"a banner on top of {now.describe()} as well: the contract puts one banner, on what is "
                        "shown first (the source does not say how many)"
                    )
                continue
        if id(was.part) in first:
            if not _banner_at_top(readable(now), banner):
                problems.append(f"{now.describe()} is shown first but does not open with the banner")
            elif readable(was) not in readable(now):
                problems.append(f"{now.describe()} does not keep the original's text under the banner")
        elif was.kept != now.kept:
            extra = " (a banner inside it)" if banner in readable(now) and banner not in readable(was) else ""
            kind = "attachment" if was.attachment else "part"
            problems.append(f"the {kind} {was.describe()} was changed{extra}")
    return problems


def portal_problems(original: Original, answer: dict[str, Any], fetch: Callable[[str], Any]) -> list[str]:
    """What an SM Portal answer (with ``parts`` and ``attachments``) lacks of the original."""
    parts, attached = answer.get("parts"), answer.get("attachments")
    if not isinstance(parts, list) or not isinstance(attached, list):
        return ["the SM Portal's answer lists no 'parts' or no 'attachments' (sm-portal-whole-message)"]
    shown = [re.sub(r"\s+", " ", str(p.get("text") or "")).strip() for p in parts if isinstance(p, dict)]
    problems = []
    for leaf in leaves(original.message):
        if leaf.content_type.startswith("text/") and not leaf.attachment and leaf.kept.strip():
            own = re.sub(r"\s+", " ", leaf.kept).strip()
            if not any(own in text for text in shown):
                problems.append(f"the SM Portal's message lacks the text of {leaf.describe()}")
    offered = [a for a in attached if isinstance(a, dict)]
    for leaf in leaves(original.message):
        if not leaf.attachment or leaf.content_type.startswith("message/"):
            continue
        match = next((a for a in offered if a.get("sha256") == leaf.kept and a.get("size") == leaf.size), None)
        if match is None:
            problems.append(f"the SM Portal's message lacks the attachment {leaf.describe()}")
            continue
        offered.remove(match)
        answer_of = fetch(str(match.get("url") or ""))
        body = answer_of.body if isinstance(answer_of.body, (bytes, bytearray)) else b""
        if answer_of.status != 200 or hashlib.sha256(body).hexdigest() != leaf.kept:
            problems.append(f"the SM Portal's download of {leaf.describe()} is not its bytes ({answer_of.status})")
    return problems


def malformed(raw: bytes) -> str | None:
    """Why ``raw`` is broken MIME (docs/contract.md, "Every valid message is accepted"), or None."""
    raw = crlf(raw)
    head, sep, _ = raw.partition(b"\r\n\r\n")
    if not sep or not head.strip():
        return "no header block"
    for line in head.split(b"\r\n"):
        if line[:1] not in (b" ", b"\t") and not re.match(rb"^[!-9;-~]+:", line):
            return f"a header line that is not a field: {line[:60]!r}"
    if any(len(line) > 998 for line in raw.split(b"\r\n")):
        return "a line longer than 998 characters (RFC 5322 §2.1.1)"
    message = parse(raw)

    def check(part: Any, depth: int, enclosing: list[bytes]) -> str | None:
        if depth > MAX_DEPTH:
            return f"nesting deeper than {MAX_DEPTH}"
        if part.get_content_maintype() == "multipart":
            boundary = part.get_boundary()
            if not boundary:
                return f"a {part.get_content_type()} without a boundary"
            if not isinstance(part.get_payload(), list):
                return f"the boundary of a {part.get_content_type()} never occurs"
            for child in part.get_payload():
                if why := check(child, depth + 1, [*enclosing, boundary.encode("ascii", "replace")]):
                    return why
        elif part.get_content_type() in ENCLOSING and isinstance(part.get_payload(), list):
            for inner in part.get_payload():
                if why := check(inner, depth + 1, enclosing):
                    return why
        else:
            payload = part.get_payload(decode=True) or b""
            for boundary in enclosing:
                if re.search(rb"(?m)^--" + re.escape(boundary) + rb"(--)?\s*$", payload):
                    return "a part holds a boundary delimiter line of an enclosing multipart"
            if part.get_content_maintype() == "text":
                try:
                    part.get_content()
                except (LookupError, ValueError, AssertionError):
                    return f"an undecodable text part ({part.get_content_type()})"
        return None

    return check(message, 0, [])


def marker_of(raw: bytes) -> str | None:
    """The longest line of the first text part (a text file attached, when there is none): text only the
    original carries."""
    message = parse(crlf(raw))
    texts = [leaf for leaf in leaves(message) if leaf.content_type.startswith("text/")]
    texts = [leaf for leaf in texts if not leaf.attachment] or texts  # text files only when nothing else
    plain = [leaf for leaf in texts if leaf.content_type != "text/html"] or texts
    for leaf in plain:
        if leaf.content_type == "text/html":
            lines = [html_lib.unescape(chunk).strip() for chunk in re.findall(r">([^<>]+)<", text_of(leaf.part))]
        else:
            lines = [line.strip() for line in text_of(leaf.part).split("\n")]
        if lines := [line for line in lines if line]:
            return max(lines, key=len)[:120]
    return None
