"""What a person sees on an SM Portal page: the controls it offers.

Owns: ``controls(html)`` — every control on the page (links, buttons, inputs, forms) with the
words a person reads on it or that it acts on — ``offers(html, word)``: whether any control
is about ``word`` ("print", "reply") — and ``expiry_announced(html)``: what the page tells a
person about the message expiring (the attribute says Never Expire). Used where the suite checks the attributes on the page as
well as in the SM Portal's API (capability sm-portal-page). Hand-written on the standard
library's HTML parser: it needs tags and their text, not a DOM.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

CONTROL_TAGS = {"a", "button", "input", "form", "select"}
ACTION_ATTRIBUTES = ("href", "action", "onclick", "value", "aria-label", "title", "name", "formaction")


class _Controls(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._open: list[list[str]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self._in_script = True
        if tag in CONTROL_TAGS:
            words = [f"<{tag}>"] + [value or "" for key, value in attrs if key in ACTION_ATTRIBUTES]
            if tag in ("input", "form"):
                self.found.append(" ".join(words))
            else:
                self._open.append(words)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False
        if tag in ("a", "button", "select") and self._open:
            self.found.append(" ".join(self._open.pop()))

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)
        for words in self._open:
            words.append(data)


def controls(html: str) -> list[str]:
    parser = _Controls()
    parser.feed(html)
    parser.close()
    return [re.sub(r"\s+", " ", c).strip() for c in parser.found] + [
        f"<script> {s.strip()[:200]}" for s in parser.scripts if "print" in s.lower()
    ]


def offers(html: str, word: str) -> list[str]:
    """The controls on the page about ``word`` (case-insensitive): empty when there is none."""
    return [c for c in controls(html) if re.search(rf"{re.escape(word)}", c, re.I)]


class _Text(HTMLParser):
    """The words a person reads: text outside <script>, <style> and <head>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.words: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head", "template"):
            self._hidden += 1
        elif tag in ("p", "div", "br", "li", "tr", "td", "span", "h1", "h2", "h3", "section", "footer"):
            self.words.append("\n")
        for key, value in attrs:
            if key in ("title", "aria-label", "alt") and value:
                self.words.append(f" {value}\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head", "template"):
            self._hidden = max(0, self._hidden - 1)

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.words.append(data)


_WHEN = r"(?:in|within|on|after|at|by|:)\s*(?:\d|an?\s|one\b|two\b|three\b|seven\b|thirty\b|ninety\b|the\s+end\b)"
_EXPIRY = [
    re.compile(rf"\bexpir(?:es|e|y|ing|ation)\b(?:\s+date)?\s*{_WHEN}", re.I),  # expires in 30 days, expiry: 2027-01-01
    re.compile(r"\bwill\s+(?:be\s+)?(?:expire|expired|deleted|removed|erased|purged|unavailable)\b", re.I),
    re.compile(
        r"\b(?:available|accessible|readable|kept|stored)\s+(?:until|till|through|for\s+(?:the\s+next\s+)?\d)", re.I
    ),
    re.compile(r"\b(?:deleted|removed|erased|purged)\s+(?:in|after|on|within)\s+\d", re.I),
    re.compile(r"\b\d+\s+(?:days?|weeks?|months?|hours?)\s+(?:left|remaining)\b", re.I),
]
_NEGATED = re.compile(r"\b(?:never|not|no|n't|without)\b[^.\n]{0,20}$", re.I)


def expiry_announced(html: str, message_text: str = "") -> list[str]:
    """The sentences on the page that announce an expiry ("expires in 30 days", "available until
    1 March", "will be deleted"); a negated one ("never expires", "will not be deleted") is not.
    ``message_text``: the message itself, shown on the page; its own words are not the page's."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    text = re.sub(r"[ \t\r\f\v]+", " ", "".join(parser.words))
    for line in (line.strip() for line in message_text.splitlines()):
        if len(line) > 3:
            text = text.replace(re.sub(r"[ \t\r\f\v]+", " ", line), "\n")
    found = []
    for line in (line.strip() for line in re.split(r"[\n.!?]+(?:\s|$)", text)):
        for pattern in _EXPIRY:
            match = pattern.search(line)
            if match and not _NEGATED.search(line[: match.start()] + match.group(0)[:12]):
                found.append(line[:200])
                break
    return found
