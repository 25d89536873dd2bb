"""Property tests of address identity and the delivery promise (a 250 is a promise), through the real gateway.

Hypothesis draws address sets from one base name in many spellings - case
variants, an IDN domain in Unicode and in its ASCII form, encoded words in
headers, and Unicode look-alikes (KELVIN SIGN for K, Cyrillic a, fullwidth
letters) - internal and external, and sends them through the three ways in:
SMTP (envelope + a Cc header), the MPP JSON API and SM Portal reply-all.

Invariants, checked on what the real gateway and Mailpit did:

* an address is refused where it enters exactly when its local part is not
  ASCII (MPP: 422 naming it; reply-all: 422 invalid_recipient);
* nobody sees a message meant for another address: every SM Portal listing
  holds only messages that named an address of the same identity - the oracle
  is written independently here (ASCII-only case folding of the local part,
  Python's own IDNA codec for the domain);
* every acknowledged message is delivered or bounced within a bound, and the
  queue never stops: it drains, ``/healthz`` says ok, and a later ordinary
  message still arrives.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from .support import INTERNAL, SENDER, gwtest, marker

pytestmark = pytest.mark.sandbox

DOMAINS = ["ext.example", "EXT.Example", "b\u00fccher.example", "xn--bcher-kva.example", INTERNAL]
SPELLINGS = {
    "same": lambda s: s,
    "upper": str.upper,
    "kelvin": lambda s: s.replace("k", "\u212a", 1),
    "cyrillic-a": lambda s: s.replace("a", "\u0430", 1),
    "fullwidth-k": lambda s: s.replace("k", "\uff4b", 1),
    "dotless-i": lambda s: s.replace("i", "\u0131", 1),
}
DEADLINE_S = 30.0


def oracle_key(address: str) -> str:
    """Identity as docs/contract.md defines it (domain by IDNA, lowercased; local part ASCII case-insensitive,
    nothing else folded), computed without the gateway's code."""
    local, _, domain = address.rpartition("@")
    local = "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in local)
    return f"{local}@{domain.encode('idna').decode('ascii').lower()}"


def header_form(address: str) -> str:
    """The address as a header holds it: an encoded word for a non-ASCII local part (7-bit on the wire)."""
    local, _, domain = address.rpartition("@")
    if local.isascii():
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    q = "".join(c if c.isascii() and c.isalnum() else "".join(f"={b:02X}" for b in c.encode()) for c in local)
    return f"=?utf-8?q?{q}?=@{domain.encode('idna').decode('ascii')}"


ASCII_SPELLINGS = ["same", "upper"]
# half the sets are all-ASCII spellings (accepted: delivery and identity are checked), half mix in look-alikes
addresses = st.one_of(
    st.lists(
        st.tuples(st.sampled_from(ASCII_SPELLINGS), st.sampled_from(DOMAINS)), min_size=1, max_size=4, unique=True
    ),
    st.lists(
        st.tuples(st.sampled_from(sorted(SPELLINGS)), st.sampled_from(DOMAINS)), min_size=1, max_size=4, unique=True
    ),
)


@settings(
    max_examples=10,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(mpp_set=addresses, cc_set=addresses, reply_all=st.booleans())
def test_one_identity_per_address_and_the_queue_never_stops(target, tally, mpp_set, cc_set, reply_all):
    tag = marker("ai")
    base = f"kai{tag[-6:]}"
    spell = lambda pair: f"{SPELLINGS[pair[0]](base)}@{pair[1]}"  # noqa: E731
    sent: dict[str, set[str]] = {}  # subject -> identities it was meant for
    gw = target.gw

    # 1. MPP JSON: refused exactly when a local part is not ASCII
    mpp_to = [spell(p) for p in mpp_set]
    subject = f"MPP {tag}"
    r = gw.mpp_send(target.mpp_session(SENDER), to=mpp_to, subject=subject, text=f"for {mpp_to}", definition="All")
    bad = [a for a in mpp_to if not a.rpartition("@")[0].isascii()]
    if bad:
        assert r.status_code == 422 and r.json()["error"] == "invalid_request", r.text
        assert any(a.rpartition("@")[0] in r.json()["message"] for a in bad), r.text
    else:
        assert r.status_code == 202, r.text
        sent[subject] = {oracle_key(a) for a in mpp_to}

    # 2. SMTP: an ASCII envelope recipient; the drawn set only in the Cc header (7-bit, encoded words)
    bob = f"bob.{tag}@ext.example"
    cc = [spell(p) for p in cc_set]
    subject = f"SMTP {tag}"
    raw = gwtest.make_message(frm=SENDER, to=[bob], subject=subject, text="smtp\n")
    raw = raw.replace(b"\nSubject:", ("\nCc: " + ", ".join(header_form(a) for a in cc) + "\nSubject:").encode(), 1)
    code, text = gw.send(raw, SENDER, [bob])
    assert code == 250, text
    sent[subject] = {oracle_key(bob)}

    # 3. reply-all from bob's SM Portal reads those Cc addresses
    if reply_all:
        [note] = target.mailbox.wait_for_messages(bob, 1, DEADLINE_S, predicate=lambda m: tag in m.subject)
        token = gwtest.portal_token(gwtest.parse(target.mailbox.message(note.id).raw))
        r = gw.post(f"/sm-portal/api/messages/{token}/reply-all", json={"text": "all"})
        bad = [a for a in cc if not a.rpartition("@")[0].isascii()]
        if bad:
            assert r.status_code == 422 and r.json()["error"] == "invalid_recipient", r.text
        else:
            assert r.status_code == 202, r.text
            sent[f"Re: {subject}"] = {oracle_key(a) for a in [SENDER, *cc] if oracle_key(a) != oracle_key(bob)}

    # the queue never stops: it drains within the bound, health stays ok
    deadline = time.monotonic() + DEADLINE_S
    while target.pending_deliveries() and time.monotonic() < deadline:
        time.sleep(0.1)  # poll to a deadline
    assert target.pending_deliveries() == 0, f"the queue did not drain in {DEADLINE_S}s: {gw.get('/healthz').json()}"
    assert gw.get("/healthz").json()["status"] == "ok"

    # nobody sees a message meant for another address
    universe = {spell((s, d)) for s in SPELLINGS for d in DOMAINS} | {bob, SENDER}
    for address in universe:
        if not address.rpartition("@")[0].isascii():
            continue  # such an address never enters; its look-alike's listing is checked below
        key = oracle_key(address)
        for item in gw.portal_items(address):
            if tag in item["subject"]:
                assert key in sent.get(item["subject"], set()), (
                    f"{address} (identity {key}) sees {item['subject']!r}, meant for {sent.get(item['subject'])}"
                )
        if address.endswith((INTERNAL, INTERNAL.upper())):
            for item in gw.mpp_items(target.mpp_session(address)):
                if tag in item["subject"] and item["subject"] in sent:
                    assert key in sent[item["subject"]], (address, item["subject"], sent[item["subject"]])
    # every acknowledged delivery to an external identity arrived (delivered; a bounce would be in the log)
    for subject, keys in sent.items():
        for key in keys:
            if key.endswith(("@ext.example", "@xn--bcher-kva.example")):
                target.mailbox.wait_for_messages(key, 1, DEADLINE_S, predicate=lambda m, s=subject: s in m.subject)
    tally.examples("address identities through SMTP, MPP and reply-all (examples)")
    tally.examples("address identities: accepted messages checked (messages)", len(sent))
