"""Unit tests of harness.gateway.policy: every cell of the reference policy."""

import itertools

import pytest

from harness.gateway.policy import (
    BANNER,
    NONE,
    NOTIFICATION,
    PLAIN,
    Outcome,
    is_internal,
    is_valid_mailbox,
    normalize_definition,
    normalize_smtp_application,
    outcome,
)

APPS = ("outlook", "mac", "mpp", "portal")
DEFS = ("All", "External")


@pytest.mark.parametrize("app,definition,sender_internal", list(itertools.product(APPS, DEFS, (True, False))))
def test_external_recipient_always_notification_in_portal(app, definition, sender_internal):
    # T1 (stated: Notification); MPP none (external users have no MPP); in SM Portal: follows
    assert outcome(app, definition, sender_internal, False) == Outcome(NOTIFICATION, NONE, True)


@pytest.mark.parametrize("app,definition", list(itertools.product(("outlook", "mac"), DEFS)))
def test_desktop_to_internal_banner_not_in_portal(app, definition):
    # T3 rows 1-2 (Microsoft Office = outlook); mac is the reference's choice
    assert outcome(app, definition, True, True) == Outcome(BANNER, BANNER, False)


@pytest.mark.parametrize("app,sender_internal", list(itertools.product(("mpp", "portal"), (True, False))))
def test_portal_apps_to_internal(app, sender_internal):
    # T3 rows 3-6 and T2 (external repliers through the portal)
    assert outcome(app, "All", sender_internal, True) == Outcome(NOTIFICATION, NOTIFICATION, True)
    assert outcome(app, "External", sender_internal, True) == Outcome(BANNER, BANNER, True)


@pytest.mark.parametrize("app", APPS)
def test_not_secure_is_plain(app):
    assert outcome(app, None, True, True) == Outcome(PLAIN, PLAIN, False)
    assert outcome(app, None, True, False) == Outcome(PLAIN, NONE, False)


def test_bad_input_rejected():
    with pytest.raises(ValueError):
        outcome("web", "All", True, True)
    with pytest.raises(ValueError):
        outcome("mpp", "Internal", True, True)


def test_internal_is_exact_domain_match():
    domains = ["corp.example"]
    assert is_internal("a@corp.example", domains)
    assert is_internal("a@CORP.Example", domains)
    assert not is_internal("a@sub.corp.example", domains)
    assert not is_internal("a@corp.example.org", domains)
    assert not is_internal("a@ext.example", domains)


def test_names():
    assert normalize_definition("all") == "All"
    assert normalize_definition(" EXTERNAL ") == "External"
    assert normalize_definition("Internal") is None
    assert normalize_smtp_application(None) == "outlook"
    for name in ("outlook", "Mimecast for Outlook", "MICROSOFT OFFICE", "mac", "mimecast for mac"):
        assert normalize_smtp_application(name) in ("outlook", "mac")
    for name in ("mpp", "portal", "Mimecast Personal Portal", "Secure Messaging Portal", "thunderbird"):
        assert normalize_smtp_application(name) is None
    assert is_valid_mailbox("first.last+tag@corp.example")
    for bad in ("nodomain", "a@b", "a b@corp.example", "@corp.example", "a@@corp.example"):
        assert not is_valid_mailbox(bad)


# -- variants that live in the policy -------------------------------------------------
def test_variant_mpp_external_banner():
    assert outcome("mpp", "External", True, False, variant="mpp-external-banner").mailbox == BANNER
    assert outcome("mpp", "All", True, False, variant="mpp-external-banner").mailbox == NOTIFICATION


def test_variant_mpp_not_in_portal():
    for internal in (True, False):
        assert outcome("mpp", "All", True, internal, variant="mpp-not-in-portal").in_sm_portal is False
    assert outcome("outlook", "All", True, False, variant="mpp-not-in-portal").in_sm_portal is True


def test_variant_internal_as_external():
    assert outcome("outlook", "All", True, True, variant="internal-as-external") == Outcome(NOTIFICATION, NONE, True)


def test_variant_table2_swapped():
    v = "table2-swapped"
    assert outcome("portal", "All", False, True, variant=v).mailbox == BANNER
    assert outcome("portal", "External", False, True, variant=v).mailbox == NOTIFICATION
    # internal repliers (T3 rows 5-6) unchanged
    assert outcome("portal", "All", True, True, variant=v).mailbox == NOTIFICATION


def test_variant_office_internal_notification():
    for app in ("outlook", "mac"):
        assert outcome(app, "External", True, True, variant="office-internal-notification").mailbox == NOTIFICATION


def test_variant_unknown_definition_accepted():
    assert normalize_definition("Internal", variant="unknown-definition-accepted") == "All"


@pytest.mark.parametrize(
    "address, valid",
    [
        ('"anne van"@example.net', True),  # RFC 5321 Quoted-string local part
        ('"a\\"b"@example.net', True),  # quoted-pairSMTP
        ('""@example.net', True),
        ('"bad"x@example.net', False),  # a quoted string then more: neither form
        ('"unclosed@example.net', False),
        ("plain.dot.atom@example.net", True),
        ("two..dots@example.net", False),
    ],
)
def test_a_mailbox_is_rfc_5321s(address, valid):
    assert is_valid_mailbox(address) is valid
