"""Controls on an SM Portal page: pure logic on real-looking pages."""

import pytest

from harness.observation.page import expiry_announced, offers

PAGE = """<html><body><table><tr><th>Print</th><td>not allowed</td></tr></table>
<form method="post" action="/sm-portal/m/t/reply"><textarea name="text"></textarea>
<button type="submit">Send reply</button></form></body></html>"""


def test_a_permissions_table_that_says_print_is_not_a_print_control():
    assert offers(PAGE, "print") == []
    assert offers(PAGE, "reply")


def test_print_controls_in_any_form_are_found():
    for markup in (
        '<button onclick="window.print()">Save</button>',
        '<a href="/m/t/print">P</a>',
        '<input type="button" value="Print">',
        "<button>🖨 Print</button>",
        "<script>document.querySelector('x').onclick = () => window.print()</script>",
    ):
        assert offers(f"<html><body>{markup}</body></html>", "print"), markup


@pytest.mark.parametrize(
    "html",
    [
        "<p>This message expires in 30 days.</p>",
        "<div>Expiry date: 2027-01-01</div>",
        "<p>Available until 1 March 2027</p>",
        "<span>It will be deleted after you read it.</span>",
        "<p>Messages are deleted after 90 days</p>",
        "<p>12 days left</p>",
        '<p title="Expires on 2027-02-02">x</p>',
        "<p>Expires: 2027-01-01</p>",
        "<p>This secure message will expire soon</p>",
    ],
)
def test_an_announced_expiry_is_found(html):
    assert expiry_announced(html)


@pytest.mark.parametrize(
    "html",
    [
        "<p>This message never expires.</p>",
        "<p>It does not expire</p>",
        "<p>No expiry</p>",
        "<p>will not be deleted</p>",
        "<script>var expires in 30</script><p>Hello</p>",
        "<p>Reply</p><p>Print</p>",
        "<p>The meeting expired last week</p>",
        "<p>Expire Secure Messages for External Recipients After: Never Expire</p>",
    ],
)
def test_no_expiry_or_a_negated_one_is_not(html):
    assert expiry_announced(html) == []


def test_the_messages_own_words_are_not_the_pages():
    text = "The offer will be removed from the catalogue in 3 days.\nRegards"
    assert expiry_announced("<p>The offer will be removed from the catalogue in 3 days.</p><p>Regards</p>", text) == []
    assert expiry_announced("<p>Expires in 3 days</p><p>Regards</p>", text)
