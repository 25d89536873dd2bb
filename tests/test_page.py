"""Controls on an SM Portal page: pure logic on real-looking pages."""

from harness.conformance.page import offers

PAGE = """<html><body><table><tr><th>Print</th><td>not allowed</td></tr></table>
<form method="post" action="/sm-portal/m/t/reply"><textarea name="text"></textarea>
<button type="submit">Send reply</button></form></body></html>"""


def test_a_permissions_table_that_says_print_is_not_a_print_control():
    assert offers(PAGE, "print") == []
    assert offers(PAGE, "reply")


def test_print_controls_in_any_form_are_found():
    for markup in ('<button onclick="window.print()">Save</button>', '<a href="/m/t/print">P</a>',
                   '<input type="button" value="Print">', "<button>🖨 Print</button>",
                   "<script>document.querySelector('x').onclick = () => window.print()</script>"):
        assert offers(f"<html><body>{markup}</body></html>", "print"), markup
