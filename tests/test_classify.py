"""Classification rules: pure logic, no network."""

from __future__ import annotations

import pytest

from harness.spec.classify import AMBIGUOUS, BANNER, NOTIFICATION, PLAIN, Rules, classify

RULES = Rules()
LINK = "http://127.0.0.1:8080/sm-portal/m/" + "A" * 32
PRIVATE = {"Sensitivity": ["Private"]}


def test_notification_needs_subject_link_and_private_marker():
    found = classify("Secure message from a@corp.example: hi", f"Read it: {LINK}", "", PRIVATE, RULES)
    assert found.kind == NOTIFICATION and found.portal_links == [LINK]
    assert "Sensitivity: Private" in found.rule


def test_without_the_private_marker_it_is_not_a_notification_and_says_why():
    found = classify("Secure message from a@corp.example: hi", f"Read it: {LINK}", "", {}, RULES)
    assert found.kind == PLAIN and "private marker" in found.notes[0]


def test_a_notification_carrying_the_original_body_is_not_a_notification():
    found = classify("Secure message from x", f"{LINK}\nsecret smlite-abc", "", PRIVATE, RULES, "smlite-abc")
    assert found.kind == PLAIN and "original" in found.notes[0]


def test_banner_at_the_top_of_the_text_part():
    found = classify("Hello", f"{RULES.banner_text}\n\nBody", "", {}, RULES)
    assert found.kind == BANNER and "text/plain" in found.rule


def test_banner_far_down_the_body_does_not_count():
    found = classify("Hello", "x" * 1000 + RULES.banner_text, "", {}, RULES)
    assert found.kind == PLAIN


def test_banner_in_html_only_message():
    found = classify("Hello", "", f"<html><body><div>{RULES.banner_text}</div><p>Hi</p></body></html>", {}, RULES)
    assert found.kind == BANNER and "text/html" in found.rule


def test_both_rules_matching_is_ambiguous():
    found = classify("Secure message from x", f"{RULES.banner_text}\n{LINK}", "", PRIVATE, RULES)
    assert found.kind == AMBIGUOUS


def test_rules_come_from_a_profile_and_are_validated():
    rules = Rules.from_mapping({"banner_text": "[SECURE]", "notification_subject": "^Encrypted:"})
    assert classify("Encrypted: x", LINK, "", PRIVATE, rules).kind == NOTIFICATION
    with pytest.raises(ValueError, match="regular expression"):
        Rules.from_mapping({"portal_link": "("})
    with pytest.raises(ValueError, match="unknown"):
        Rules.from_mapping({"banner": "x"})
