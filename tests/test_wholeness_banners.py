"""How many banners: one on what is shown first is the contract; one on each later text part of the
message's own body is a contract difference (the source does not say how many, and the contract before
issue 22 asked for it); a banner inside an enclosed message changes that message: level derived."""

from __future__ import annotations

from harness.observation.wholeness import Original, banner_problems

BANNER = "This message was sent securely."


def _mixed(first: str, second: str, enclosed: str = "") -> bytes:
    parts = [
        f"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{first}\r\n",
        f"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{second}\r\n",
    ]
    if enclosed:
        parts.append(
            "--b\r\nContent-Type: message/rfc822\r\n\r\nFrom: a@b.example\r\nSubject: inner\r\n"
            f"Content-Type: text/plain\r\n\r\n{enclosed}\r\n"
        )
    head = "From: ines@corp.example\r\nTo: ida@corp.example\r\nSubject: s\r\nMIME-Version: 1.0\r\n"
    return (head + 'Content-Type: multipart/mixed; boundary="b"\r\n\r\n' + "".join(parts) + "--b--\r\n").encode()


def test_a_banner_on_a_later_text_part_too_is_a_contract_difference():
    original = Original.from_raw(_mixed("Hello.", "Later words."))
    contract: list[str] = []
    delivered = _mixed(f"{BANNER}\r\n\r\nHello.", f"{BANNER}\r\n\r\nLater words.")
    assert banner_problems(original, delivered, BANNER, contract) == []
    assert len(contract) == 1 and "part 2" in contract[0], contract
    one: list[str] = []
    assert banner_problems(original, _mixed(f"{BANNER}\r\n\r\nHello.", "Later words."), BANNER, one) == []
    assert one == []


def test_a_banner_inside_an_enclosed_message_changes_it():
    original = Original.from_raw(_mixed("Hello.", "Later words.", enclosed="Inner words."))
    contract: list[str] = []
    delivered = _mixed(f"{BANNER}\r\n\r\nHello.", "Later words.", enclosed=f"{BANNER}\r\n\r\nInner words.")
    problems = banner_problems(original, delivered, BANNER, contract)
    assert problems and "a banner inside it" in problems[0], problems


def test_a_later_text_part_changed_otherwise_is_still_a_problem():
    original = Original.from_raw(_mixed("Hello.", "Later words."))
    problems = banner_problems(original, _mixed(f"{BANNER}\r\n\r\nHello.", "Other words."), BANNER, [])
    assert problems and "was changed" in problems[0], problems
