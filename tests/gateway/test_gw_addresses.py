"""The gateway's addresses (harness/gateway/policy.py, docs/contract.md "Addresses"): one identity per
address for every comparison, the form an address is carried in, the refusals with words that say
why, what counts as a valid mailbox and as internal, and the policy's broken variants cell by cell."""

from __future__ import annotations

import pytest

from harness.gateway.policy import (
    BANNER,
    NONE,
    NOTIFICATION,
    BadAddress,
    Outcome,
    address_key,
    ascii_domain,
    carried_address,
    domain_of,
    is_internal,
    is_valid_mailbox,
    normalize_definition,
    outcome,
)


def test_a_valid_mailbox_is_at_most_254_characters():
    local = "a" * 64
    domain = ".".join(["b" * 63, "c" * 63, "d" * 57]) + ".example"  # 63 + 1 + 63 + 1 + 57 + 8 = 193
    assert len(f"{local}@{domain}") == 258
    at_limit = f"{'a' * 60}@{domain}"
    assert len(at_limit) == 254 and is_valid_mailbox(at_limit)
    assert not is_valid_mailbox(f"{'a' * 61}@{domain}"), "255 characters: longer than RFC 5321 allows"


def test_an_idn_domain_has_one_ascii_form():
    assert ascii_domain("Bücher.Example") == "xn--bcher-kva.example"
    assert ascii_domain("BÜCHER.EXAMPLE") == "xn--bcher-kva.example", "UTS #46 maps case first"
    assert ascii_domain("faß.de") == "xn--fa-hia.de", "non-transitional: the sharp s stays a sharp s"
    assert ascii_domain("Corp.EXAMPLE") == "corp.example"
    assert ascii_domain("under_score.Example") == "under_score.example", "ASCII is only lowercased"
    with pytest.raises(ValueError) as refused:
        ascii_domain("bü_cher.example")
    assert "'bü_cher.example'" in str(refused.value) and "internationalized domain name" in str(refused.value)


def test_one_identity_per_address():
    assert address_key("  Erik@Bücher.Example ") == "erik@xn--bcher-kva.example"
    assert address_key("ERIK@ext.EXAMPLE") == "erik@ext.example"
    assert address_key("\u212aelvin@ext.example") == "\u212aelvin@ext.example", "a KELVIN SIGN is not a K"
    assert address_key('"x@Y"@Bücher.example') == '"x@y"@xn--bcher-kva.example', "the domain follows the last @"
    assert address_key("NoDomain") == "nodomain"
    assert address_key("Ann@BÜ_Cher.EXAMPLE") == "ann@bÜ_cher.example", "IDNA refuses it: only A-Z folded"


def test_internal_means_the_domain_after_the_last_at():
    assert domain_of('"a@x"@Corp.Example') == "corp.example"
    assert is_internal('"a@ext.example"@corp.example', ["corp.example"])
    assert not is_internal('"a@corp.example"@ext.example', ["corp.example"])
    assert is_internal("a@xn--bcher-kva.example", ["Bücher.example"])


def test_an_address_is_carried_as_written_with_its_domain_in_ascii():
    assert carried_address("  Ann.Lee@Corp.Example ") == "Ann.Lee@Corp.Example", "nothing folded"
    assert carried_address("Ann@Bücher.Example") == "Ann@xn--bcher-kva.example"
    assert carried_address("ann@corp.example", "To") == "ann@corp.example"


def test_a_non_ascii_local_part_is_refused_with_words_that_say_why():
    with pytest.raises(BadAddress) as refused:
        carried_address("jörg@corp.example")
    assert str(refused.value) == (
        "'jörg@corp.example' has a non-ASCII local part; this gateway does not carry SMTPUTF8 "
        "addresses (use an ASCII address)"
    )
    with pytest.raises(BadAddress) as refused:
        carried_address("jörg@corp.example", "the original's Cc header")
    assert str(refused.value).startswith("the original's Cc header: 'jörg@corp.example' has a non-ASCII local part")


def test_an_invalid_mailbox_or_domain_is_refused_naming_where_it_came_from():
    with pytest.raises(BadAddress) as refused:
        carried_address("not an address")
    assert str(refused.value) == "'not an address' is not a valid mailbox"
    with pytest.raises(BadAddress) as refused:
        carried_address("a@b", "To")
    assert str(refused.value) == "To: 'a@b' is not a valid mailbox"
    with pytest.raises(BadAddress) as refused:
        carried_address("a@bü_cher.example", "To")
    assert str(refused.value).startswith("To: the domain 'bü_cher.example' is not a valid internationalized")
    with pytest.raises(BadAddress) as refused:
        carried_address("jörg")  # no @: no local part to judge, an invalid mailbox
    assert str(refused.value) == "'jörg' is not a valid mailbox"


def test_unknown_applications_and_definitions_are_named_in_the_error():
    with pytest.raises(ValueError, match="unknown application 'web'"):
        outcome("web", "All", True, True)
    with pytest.raises(ValueError, match="unknown definition 'Internal'"):
        outcome("mpp", "Internal", True, True)


def test_without_a_variant_the_reference_policy_holds():
    assert normalize_definition("nonsense") is None
    assert outcome("mpp", "External", True, False) == Outcome(NOTIFICATION, NONE, True)
    assert outcome("outlook", "All", True, True) == Outcome(BANNER, BANNER, False)
    assert outcome("portal", "All", False, True) == Outcome(NOTIFICATION, NOTIFICATION, True)


def test_every_cell_of_the_policy_variants():
    v = "mpp-external-banner"
    assert outcome("mpp", "External", True, False, variant=v) == Outcome(BANNER, NONE, True)
    assert outcome("mpp", "External", True, False, variant="mpp-not-in-portal") == Outcome(NOTIFICATION, NONE, False)
    assert outcome("mpp", "External", True, True, variant="mpp-not-in-portal") == Outcome(BANNER, BANNER, False)
    assert outcome("portal", "External", True, True, variant="mpp-not-in-portal") == Outcome(BANNER, BANNER, True)
    v = "office-internal-notification"
    assert outcome("mac", "All", True, True, variant=v) == Outcome(NOTIFICATION, NOTIFICATION, True)
    v = "internal-as-external"
    assert outcome("mpp", "External", True, True, variant=v) == Outcome(NOTIFICATION, NONE, True)
    assert outcome("mpp", None, True, True, variant=v) == Outcome("plain", NONE, False)
    v = "table2-swapped"
    assert outcome("portal", "All", False, True, variant=v) == Outcome(BANNER, BANNER, True)
    assert outcome("portal", "External", False, True, variant=v) == Outcome(NOTIFICATION, NOTIFICATION, True)
    assert outcome("mpp", "All", False, True, variant=v) == Outcome(NOTIFICATION, NOTIFICATION, True)


def test_a_quoted_local_part_with_an_at_is_judged_as_one_mailbox():
    # RFC 5321 §4.1.2: the quoted string is the local part; the domain after the last @ goes to IDNA
    assert carried_address('"a@b"@Bücher.example') == '"a@b"@xn--bcher-kva.example'
    with pytest.raises(BadAddress) as refused:
        carried_address('"a@b"x@Bücher.example')
    assert str(refused.value) == "'\"a@b\"x@xn--bcher-kva.example' is not a valid mailbox"
