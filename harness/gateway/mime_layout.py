"""Where each MIME part of a raw message lies, as byte offsets, and its header fields as raw bytes.

Owns ``read(raw) -> Layout``: the message parsed by the email package (``composer.POLICY``, as
``composer.parse`` does) together with, for every part the parser made, the offset where the part
starts (its header block), where its body starts and where it ends. The end includes the line
break before the next boundary delimiter, which RFC 2046 gives to the delimiter, not to the part
(``Span.payload_end`` leaves it out). Also owns ``header_fields`` (a header block split into raw
fields, folding kept) and ``line_ending``.

Hand-written because neither the email package nor a library on the index says where a part's
bytes are, and the gateway must put a banner into one displayed text part without touching a
byte of the rest (attachments, signed content, enclosed messages). The offsets are not computed
by a second MIME scanner that could disagree with the parser: they come from the email package's
own FeedParser, whose line source counts the characters it hands out, so they follow exactly the
boundaries it found, defects and all. The hooks used (``_input``, ``_new_message``,
``_parse_headers``, ``_pop_message``) are the FeedParser's since Python 3.3; the corpus tests
prove the offsets against the parsed content. Bytes are decoded as ASCII with surrogateescape,
as ``BytesParser`` does: one character per byte, so character offsets are byte offsets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import feedparser
from email.feedparser import FeedParser
from email.message import EmailMessage
from typing import Any, cast

from .composer import POLICY

_FIELD_START = re.compile(rb"^[^\s:][^:]*:")


@dataclass(frozen=True)
class Span:
    start: int  # the part's first header byte
    body: int  # the first byte of its body
    end: int  # one past its last byte, the line break before the next delimiter included
    in_multipart: bool  # a delimiter starts at ``end``: the body's last line break is the delimiter's

    def payload_end(self, raw: bytes) -> int:
        """Where the body ends without the line break that belongs to the next delimiter."""
        if not self.in_multipart:
            return self.end
        if raw[self.body : self.end].endswith(b"\r\n"):
            return self.end - 2
        if raw[self.body : self.end].endswith((b"\n", b"\r")):
            return self.end - 1
        return self.end


class _CountingLines(feedparser.BufferedSubFile):  # type: ignore[name-defined]
    """The parser's line source, counting the characters handed out (and given back)."""

    def __init__(self) -> None:
        super().__init__()
        self.pos = 0

    def readline(self):
        line = super().readline()
        if isinstance(line, str):
            self.pos += len(line)
        return line

    def unreadline(self, line) -> None:
        super().unreadline(line)
        self.pos -= len(line)


class _LocatingParser(FeedParser):
    """A FeedParser that writes down where each part it makes starts, where its body starts and
    where it ends."""

    _cur: Any  # FeedParser's: the part being parsed

    def __init__(self) -> None:
        super().__init__(policy=POLICY)
        self._input = self.lines = _CountingLines()
        self.spans: dict[int, list[Any]] = {}  # id(part) -> [start, body, end]
        self.parts: list[EmailMessage] = []  # keeps every part alive while ids are keys
        self.delimiters: set[int] = set()  # where a boundary delimiter line starts

    def _new_message(self) -> None:
        super()._new_message()  # type: ignore[misc]
        pos = self.lines.pos
        self.parts.append(self._cur)
        self.spans[id(self._cur)] = [pos, pos, pos]

    def _parse_headers(self, lines) -> None:
        super()._parse_headers(lines)  # type: ignore[misc]
        self.spans[id(self._cur)][1] = self.lines.pos

    def _pop_message(self):
        part = super()._pop_message()  # type: ignore[misc]
        pos = self.lines.pos
        self.spans[id(part)][2] = pos
        if self._cur is not None and self._cur.get_content_maintype() == "multipart":
            # a subpart ends where a delimiter starts: every part ending here loses its last
            # line break to that delimiter (the parser strips it from the innermost one)
            self.delimiters.add(pos)
        return part


class Layout:
    """A parsed message and where each of its parts lies in ``raw``."""

    def __init__(self, raw: bytes, message: EmailMessage, parser: _LocatingParser) -> None:
        self.raw = raw
        self.message = message
        self._spans = {
            key: Span(start, body, end, end in parser.delimiters) for key, (start, body, end) in parser.spans.items()
        }
        self._parts = parser.parts  # every part stays alive: the keys above are their ids

    def span(self, part: Any) -> Span:
        return self._spans[id(part)]

    def header_block(self, part: Any) -> bytes:
        s = self.span(part)
        return self.raw[s.start : s.body]

    def body(self, part: Any) -> bytes:
        """The part's body as it is in the message (still transfer-encoded)."""
        s = self.span(part)
        return self.raw[s.body : s.payload_end(self.raw)]


def read(raw: bytes) -> Layout:
    parser = _LocatingParser()
    parser.feed(raw.decode("ascii", "surrogateescape"))
    message = cast(EmailMessage, parser.close())
    return Layout(raw, message, parser)


def header_fields(block: bytes) -> list[tuple[str, bytes]]:
    """A header block as (lower-case name, the field's raw bytes with its folded lines and line
    breaks); the blank separator line and anything after it are left out."""
    fields: list[tuple[str, bytes]] = []
    for line in block.splitlines(keepends=True):
        if line in (b"\r\n", b"\n", b"\r"):
            break
        if line[:1] in (b" ", b"\t"):
            if fields:
                name, raw = fields[-1]
                fields[-1] = (name, raw + line)
            # else: a continuation of no field, as the message's first line: no field (Python's parser
            # ignores it as a defect and reads the fields after it, and so must this)
        elif _FIELD_START.match(line):
            fields.append((line.split(b":", 1)[0].decode("ascii", "replace").strip().lower(), line))
        else:
            break
    return fields


def line_ending(raw: bytes) -> bytes:
    """The line break the message uses (CRLF or LF), judged by its first line."""
    first = raw.find(b"\n")
    return b"\r\n" if first > 0 and raw[first - 1 : first] == b"\r" else b"\n"
