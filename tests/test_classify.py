"""Classification rules: pure logic, no network. The kinds rest on the source's words; the
contract's recognition signals (subject, private marker, link pattern) are reported apart."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from harness.observation.recognition import (
    AMBIGUOUS,
    BANNER,
    NOTIFICATION,
    PARTIAL_BANNER,
    PLAIN,
    Rules,
    classify,
    parts_of,
)

RULES = Rules()
LINK = "http://127.0.0.1:8080/sm-portal/m/" + "A" * 32
PRIVATE = {"Sensitivity": ["Private"]}
MARK = "smlite-abc123"


def raw(text: str, html: str | None = None, attachment: str | None = None) -> bytes:
    message = EmailMessage()
    message["Subject"], message["From"], message["To"] = "s", "a@corp.example", "b@x.example"
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    if attachment is not None:
        message.add_attachment(attachment.encode(), maintype="text", subtype="plain", filename="a.txt")
    return message.as_bytes()


def test_a_notification_is_a_portal_link_without_the_original_content():
    found = classify("Secure message from a@corp.example: hi", f"Read it: {LINK}", "", PRIVATE, RULES, MARK)
    assert found.kind == NOTIFICATION and found.portal_links == [LINK] and found.contract == []


def test_missing_recognition_signals_are_contract_differences_not_another_kind():
    found = classify("You have a secure message", f"Read it: {LINK}", "", {}, RULES, MARK)
    assert found.kind == NOTIFICATION
    assert any("private marker" in c for c in found.contract) and any("subject" in c for c in found.contract)


def test_a_link_to_the_target_is_a_pointer_even_when_the_pattern_differs():
    link = "http://127.0.0.1:8080/secure/read?t=xyz"
    found = classify("s", f"open {link}", "", PRIVATE, RULES, MARK, origins=["http://127.0.0.1:8080"])
    assert found.kind == NOTIFICATION and found.portal_links == [link]
    assert any("pattern" in c for c in found.contract)
    assert (
        classify(
            "s", "open http://elsewhere.example/x", "", PRIVATE, RULES, MARK, origins=["http://127.0.0.1:8080"]
        ).kind
        == PLAIN
    )


def test_a_notification_carrying_the_original_in_any_part_is_not_a_notification():
    parts = parts_of(raw(f"Read it: {LINK}", f"<p>{LINK}</p><p>{MARK}</p>"))
    found = classify("Secure message from x", "", "", PRIVATE, RULES, MARK, parts=parts)
    assert found.kind == PLAIN and "original" in found.notes[0]
    parts = parts_of(raw(f"Read it: {LINK}", attachment=f"secret {MARK}"))
    assert classify("Secure message from x", "", "", PRIVATE, RULES, MARK, parts=parts).kind == PLAIN


def test_the_banner_must_open_every_body_part():
    both = parts_of(
        raw(
            f"{RULES.banner_text}\n\nBody {MARK}",
            f"<html><body><div>{RULES.banner_text}</div><p>Body {MARK}</p></body></html>",
        )
    )
    assert classify("Hello", "", "", {}, RULES, MARK, parts=both).kind == BANNER
    text_only = parts_of(raw(f"{RULES.banner_text}\n\nBody {MARK}", f"<html><body><p>Body {MARK}</p></body></html>"))
    found = classify("Hello", "", "", {}, RULES, MARK, parts=text_only)
    assert found.kind == PARTIAL_BANNER and "text/html" in found.rule


def test_an_attachment_is_not_a_body_part_the_banner_must_open():
    parts = parts_of(raw(f"{RULES.banner_text}\n\nBody {MARK}", attachment="data"))
    assert classify("Hello", "", "", {}, RULES, MARK, parts=parts).kind == BANNER


def test_banner_far_down_the_body_does_not_count():
    assert classify("Hello", "x" * 1000 + RULES.banner_text + MARK, "", {}, RULES, MARK).kind == PLAIN


def test_banner_without_the_original_content_is_not_the_email_with_banner():
    found = classify("Hello", f"{RULES.banner_text}\n\n(content removed)", "", {}, RULES, MARK)
    assert found.kind == PLAIN and "original" in found.notes[0]


def test_banner_in_html_only_message():
    found = classify(
        "Hello", "", f"<html><body><div>{RULES.banner_text}</div><p>Hi {MARK}</p></body></html>", {}, RULES, MARK
    )
    assert found.kind == BANNER and "text/html" in found.rule


def test_a_secure_copy_asking_for_a_read_receipt_fails_a_derived_check():
    found = classify(
        "Hello", f"{RULES.banner_text}\n\n{MARK}", "", {"Disposition-Notification-To": ["a@b"]}, RULES, MARK
    )
    assert found.kind == BANNER and "read receipt" in found.derived[0]


def test_an_mpp_items_declared_kind_is_a_note_never_what_it_shows():
    item_text = f"A secure message for you: {LINK}"
    assert classify("New secure message", item_text, "", {}, RULES, MARK, declared="notification").kind == NOTIFICATION
    said_banner = classify("Hi", f"Body {MARK}", "", {}, RULES, MARK, declared="email_with_banner")
    assert said_banner.kind == PLAIN and any("says it is the email with banner" in n for n in said_banner.notes)
    shown = classify("Hi", f"{RULES.banner_text}\nBody {MARK}", "", {}, RULES, MARK, declared="email_with_banner")
    assert shown.kind == BANNER
    assert classify("Hi", "Body", "", {}, RULES, MARK, declared="email_with_banner").kind == PLAIN


def test_without_an_original_marker_link_and_banner_together_are_ambiguous():
    found = classify("Secure message from x", f"{RULES.banner_text}\n{LINK}", "", PRIVATE, RULES)
    assert found.kind == AMBIGUOUS


def test_rules_come_from_a_profile_and_are_validated():
    rules = Rules.from_mapping({"banner_text": "[SECURE]", "notification_subject": "^Encrypted:"})
    assert classify("Encrypted: x", LINK, "", PRIVATE, rules, MARK).contract == []
    assert Rules.from_mapping({"private_marker": "", "notification_subject": ""}).private_marker == ""
    with pytest.raises(ValueError, match="regular expression"):
        Rules.from_mapping({"portal_link": "("})
    with pytest.raises(ValueError, match="unknown"):
        Rules.from_mapping({"banner": "x"})
    with pytest.raises(ValueError, match="banner_text"):
        Rules.from_mapping({"banner_text": " "})
