"""Owns: the Hypothesis strategies of what a real sender, recipient and target produce, named in the
domain's words — local parts and display names in the forms RFC 5322 allows, the internal domains and
what resembles them (harness/source_model/domains.py's variants), the two definitions named in any case
and names that are not a definition, and message content of many shapes (text, an HTML alternative,
attachments of any bytes and name, a header of any text, a long body).

What the driver cannot send is not drawn: attachments and Bcc need SMTP submission (the MPP API has
neither), a Bcc needs ``Driver.sends_bcc``; ``not_explored`` says what a target lacks.
"""

from __future__ import annotations

import random
from typing import Final

from hypothesis import strategies as st

from harness.exploration.model import (
    CASE_VARIANT,
    EXTERNAL,
    INTERNAL,
    LOOK_ALIKE,
    SUB_DOMAIN,
    AddressPlan,
    AttachmentPlan,
    ContentPlan,
)
from harness.source_model import domains as domain_variants
from harness.source_model.source import DEFINITIONS

FIRST_NAMES: Final = ("ines", "ida", "erik", "xena", "olaf", "mia", "jose", "anne-marie", "o_brien", "zoë")
# the dimensions the generator draws, for the report and docs/exploration.md
DIMENSIONS: Final = {
    "local part": "dot-atom, plus-tagged, hyphen/underscore, upper case, quoted string with a space",
    "display name": "none, ASCII, with a comma or quotes (quoted), any Unicode letters (encoded words)",
    "domain": "internal, internal in mixed case, look-alike (letters glued in front), sub-domain, external",
    "recipients": "1–4 To, 0–3 Cc, 0–1 Bcc (SMTP only), internal, external or both (mixed)",
    "application": "Mimecast for Outlook, Mimecast for Mac, Mimecast Personal Portal (as declared)",
    "definition": "All, External, each in any letter case; unknown names (refused)",
    "content": "text of any Unicode; an HTML alternative; 0–2 attachments of any bytes, name and type; a "
    "header of any text; a long body",
    "conversation": "send, reply and reply all in the SM Portal, open and print there, move the clock "
    "(days, weeks, months or years, each scale as likely), list and try to change definitions in the "
    "Administration Console",
}

_letters = st.characters(categories=("Lu", "Ll", "Lo"), max_codepoint=0x9FFF)
_words = st.text(_letters, min_size=1, max_size=8)


@st.composite
def local_parts(draw: st.DrawFn) -> str:
    """A local part in one of the forms RFC 5322 §3.4.1 allows (a dot-atom or a quoted string)."""
    name = draw(st.sampled_from(FIRST_NAMES)).replace("ë", "e")
    form = draw(st.sampled_from(("dot-atom", "plus", "upper", "quoted")))
    if form == "plus":
        return f"{name}+{draw(st.sampled_from(('news', 'a1', 'x-y')))}"
    if form == "upper":
        return name.upper()
    if form == "quoted":
        return f'"{name} {draw(st.sampled_from(("van", "de", "la")))}"'
    return name


def display_names() -> st.SearchStrategy[str]:
    """None, plain ASCII, with characters that need quoting, or any Unicode letters (RFC 2047)."""
    return st.one_of(
        st.just(""),
        st.sampled_from(("Ines Irwin", "Erik Eng", "Dr. Mia O'Neil")),
        st.sampled_from(("Eng, Erik", 'Ida "the boss" Ito')),
        st.builds(lambda a, b: f"{a} {b}", _words, _words),
    )


def domain_in_form(form: str, internal: list[str], external: list[str], rng_seed: int) -> str:
    """A domain of ``form`` (harness/source_model/domains.py's variants, seeded by the drawn ``rng_seed``)."""
    rng = random.Random(rng_seed)
    if form == EXTERNAL:
        return rng.choice(external)
    base = rng.choice(internal)
    if form == CASE_VARIANT:
        return domain_variants.mixed_case(base, rng)
    if form == LOOK_ALIKE:
        return domain_variants.glued(base, rng)
    if form == SUB_DOMAIN:
        return domain_variants.sub_domain(base, rng)
    return base


def addresses(internal: list[str], external: list[str], forms: tuple[str, ...]) -> st.SearchStrategy[AddressPlan]:
    """A person's address, its domain written in one of ``forms``."""

    @st.composite
    def build(draw: st.DrawFn) -> AddressPlan:
        form = draw(st.sampled_from(forms))
        domain = domain_in_form(form, internal, external, draw(st.integers(0, 2**16)))
        return AddressPlan(draw(local_parts()), domain, form, draw(display_names()))

    return build()


def senders(internal: list[str]) -> st.SearchStrategy[AddressPlan]:
    """An internal user who sends: at an internal domain, as declared or in mixed case."""
    return addresses(internal, [], (INTERNAL, INTERNAL, CASE_VARIANT))


def recipients(internal: list[str], external: list[str]) -> st.SearchStrategy[AddressPlan]:
    return addresses(internal, external, (INTERNAL, EXTERNAL, EXTERNAL, CASE_VARIANT, LOOK_ALIKE, SUB_DOMAIN))


@st.composite
def definitions_named(draw: st.DrawFn) -> str:
    """All or External, written as declared most often, else in any letter case."""
    name = draw(st.sampled_from(tuple(DEFINITIONS)))
    if draw(st.integers(0, 3)):
        return name
    flips = draw(st.lists(st.booleans(), min_size=len(name), max_size=len(name)))
    return "".join(c.swapcase() if flip else c for c, flip in zip(name, flips))


def unknown_definitions() -> st.SearchStrategy[str]:
    """A name that is not a definition of Secure Messaging Lite."""
    known = {d.lower() for d in DEFINITIONS}
    return st.text(st.characters(categories=("Lu", "Ll", "Nd")), min_size=1, max_size=12).filter(
        lambda n: n.strip().lower() not in known and n.strip() == n and n.isprintable()
    )


def clock_moves() -> st.SearchStrategy[int]:
    """How many days the target's clock moves: a few days, weeks, months or years (up to three), each scale
    as likely (uniform days from 1 to 3650 would almost never stay within a month, and any expiry,
    retention or permission that changes with age lives at some scale); shrinks toward one day. Moves add
    up within a conversation; the scenarios prove ten years in one move."""
    return st.one_of(st.integers(1, 6), st.integers(7, 59), st.integers(60, 364), st.integers(365, 1100))


def attachments() -> st.SearchStrategy[AttachmentPlan]:
    return st.builds(
        AttachmentPlan,
        st.builds(lambda w, ext: f"{w}.{ext}", _words, st.sampled_from(("txt", "pdf", "bin", "csv"))),
        st.binary(min_size=1, max_size=2048),
        st.sampled_from(("text/plain", "application/pdf", "application/octet-stream", "text/csv")),
    )


def contents(*, attachments_allowed: bool) -> st.SearchStrategy[ContentPlan]:
    """A message's content: Unicode subject words and text, and optional parts."""
    return st.builds(
        ContentPlan,
        st.builds(" ".join, st.lists(_words, min_size=1, max_size=4)),
        st.text(st.characters(categories=("L", "N", "P", "Zs")), min_size=1, max_size=200),
        st.booleans(),
        st.lists(attachments(), max_size=2).map(tuple) if attachments_allowed else st.just(()),
        st.one_of(st.just(""), st.builds(" ".join, st.lists(_words, min_size=1, max_size=3))),
        st.integers(0, 5).map(lambda n: n == 0),
    )
