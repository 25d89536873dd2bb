"""What a person sees on an SM Portal page: the controls it offers.

Owns: ``controls(html)`` — every control on the page (links, buttons, inputs, forms) with the
words a person reads on it or that it acts on — and ``offers(html, word)``: whether any control
is about ``word`` ("print", "reply"). Used where the suite checks the attributes on the page as
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
    return [re.sub(r"\s+", " ", c).strip() for c in parser.found] + \
        [f"<script> {s.strip()[:200]}" for s in parser.scripts if "print" in s.lower()]


def offers(html: str, word: str) -> list[str]:
    """The controls on the page about ``word`` (case-insensitive): empty when there is none."""
    return [c for c in controls(html) if re.search(rf"{re.escape(word)}", c, re.I)]
