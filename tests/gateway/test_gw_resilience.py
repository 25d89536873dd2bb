"""Durability: the relay down, the gateway restarted, the clock kept."""

from datetime import UTC, datetime, timedelta

import pytest
from gwtest import Mailpit, make_message, notification_for, portal_token, uniq, wait_until

pytestmark = pytest.mark.sandbox

ALICE = "alice@corp.example"


@pytest.fixture
def down_mailpit(mailpit_binary, tmp_path):
    """A Mailpit with reserved ports, not started yet; stopped at the end in any case."""
    (tmp_path / "mp").mkdir()
    mp = Mailpit(mailpit_binary, tmp_path / "mp")
    yield mp
    mp.stop()


def test_relay_down_then_up(start_gateway, down_mailpit):
    gw = start_gateway("relay-down", relay_port=down_mailpit.smtp_port)
    tag = uniq()
    rcpt = f"{tag}@ext.example"
    code, _ = gw.send(make_message(frm=ALICE, to=[rcpt], subject=f"Waiting {tag}"), ALICE, [rcpt])
    assert code == 250
    wait_until(lambda: gw.log_text().count("failed (attempt") >= 2, 10, what="failed delivery attempts")
    down_mailpit.start()
    [m] = down_mailpit.wait(tag, 1, timeout=10)
    assert m["To"] == rcpt and m["Sensitivity"] == "Private"


def test_pending_deliveries_resume_after_restart(start_gateway, down_mailpit):
    gw = start_gateway("resume", relay_port=down_mailpit.smtp_port)
    tag = uniq()
    rcpt = f"{tag}@corp.example"
    assert (
        gw.send(make_message(frm=ALICE, to=[rcpt], subject=f"Resume {tag}", definition=None), ALICE, [rcpt])[0] == 250
    )
    wait_until(lambda: "failed (attempt" in gw.log_text(), 10, what="a failed delivery attempt")
    assert gw.stop() == 0
    down_mailpit.start()
    gw.start()
    [m] = down_mailpit.wait(tag, 1, timeout=10)
    assert m["To"] == rcpt
    assert "1 pending deliveries" in gw.log_text()


def test_restart_keeps_portal_messages_and_clock(start_gateway, mailpit):
    gw = start_gateway("restart")
    tag = uniq()
    rcpt = f"{tag}@ext.example"
    assert (
        gw.send(make_message(frm=ALICE, to=[rcpt], subject=f"Keep {tag}", text="kept body\n"), ALICE, [rcpt])[0] == 250
    )
    token = portal_token(notification_for(mailpit, tag, rcpt))
    assert gw.admin("POST", "/admin/api/clock", json={"advance_days": 3}).status_code == 200
    assert gw.stop() == 0  # SIGTERM: clean exit
    gw.cfg["test_clock"] = False
    gw.start()
    r = gw.get(f"/sm-portal/api/messages/{token}")
    assert r.status_code == 200 and r.json()["text"] == "kept body\n"
    clock = gw.admin("GET", "/admin/api/clock").json()
    assert clock["controllable"] is False
    now = datetime.fromisoformat(clock["now"].replace("Z", "+00:00"))
    assert now - datetime.now(UTC) > timedelta(days=2.9)
    r = gw.admin("POST", "/admin/api/clock", json={"advance_days": 1})
    assert r.status_code == 404 and r.json()["error"] == "clock_control_disabled"


def test_the_kept_relay_connection_survives_a_relay_restart(start_gateway, down_mailpit):
    """The worker keeps its relay connection between messages; when the relay was restarted
    meanwhile, the next message goes out at once on a new connection, once, with no failed attempt."""
    down_mailpit.start()
    gw = start_gateway("kept-relay", relay_port=down_mailpit.smtp_port)
    first, second = uniq(), uniq()
    rcpt = f"{first}@corp.example"  # one recipient: both rows take the same lane, so the same connection
    assert (
        gw.send(make_message(frm=ALICE, to=[rcpt], subject=f"Kept {first}", definition=None), ALICE, [rcpt])[0] == 250
    )
    down_mailpit.wait(first, 1, timeout=10)
    down_mailpit.stop()
    down_mailpit.start()  # same ports; the gateway's connection to the old process is dead
    assert (
        gw.send(make_message(frm=ALICE, to=[rcpt], subject=f"Kept {second}", definition=None), ALICE, [rcpt])[0] == 250
    )
    down_mailpit.wait(second, 1, timeout=10)
    log = gw.log_text()
    assert "reconnecting" in log, "the second message should have found the kept connection closed"
    assert "failed (attempt" not in log, "a closed idle connection is not a failed delivery"
    assert down_mailpit.count(second) == 1


def test_one_recipients_copies_reach_the_relay_in_the_order_they_were_accepted(gateway, mailpit):
    """Deliveries run on several relay connections at once; one recipient's rows share one, in order.
    Between two messages to the shared recipient, one to three others: its rows are spread among theirs."""
    tag = uniq("order")
    shared = f"{tag}@corp.example"
    n = 30
    for i in range(n):
        raw = make_message(frm=ALICE, to=[shared], subject=f"{tag} #{i:02d}", definition=None)
        assert gateway.send(raw, ALICE, [shared])[0] == 250
        others = [f"{tag}-{i}-{k}@corp.example" for k in range(1 + i % 3)]
        raw = make_message(frm=ALICE, to=others, subject=f"{tag} other {i}", definition=None)
        assert gateway.send(raw, ALICE, others)[0] == 250
    total = n + sum(1 + i % 3 for i in range(n))
    wait_until(lambda: mailpit.count(tag) >= total, 20, what=f"{total} copies in Mailpit")
    # the relay's order for the shared recipient: the gateway logs each row once the relay said 250
    # (Mailpit's own timestamps have a millisecond's resolution: two copies can tie)
    pks = [
        int(line.split("delivered ", 1)[1].split()[0])
        for line in gateway.log_text().splitlines()
        if f" to {shared} via " in line
    ]
    assert len(pks) == n and pks == sorted(pks), pks
    to_shared = [m for m in mailpit.search(f"subject:{tag}") if "#" in m["Subject"]]
    created = [datetime.fromisoformat(m["Created"]) for m in sorted(to_shared, key=lambda m: m["Subject"])]
    assert created == sorted(created), "Mailpit received a later copy before an earlier one"
