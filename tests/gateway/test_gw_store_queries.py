"""Every query of the gateway's store (harness/gateway/store.py) on a real SQLite file: what a
message's acceptance writes, what the SM Portal, the MPP and the delivery worker read back, the
outbound queue's life (due, failed, delivered, bounced), retention and settings.

Each check reads the rows through the store's own methods or, where the store promises what is
committed, through a second connection: what another process would see after a crash.
"""

from __future__ import annotations

import sqlite3
import time

import pytest

from harness.gateway.store import Store

INLINE = b"Subject: inline\r\n\r\nbody\r\n"


def message(i: int, *, sender: str = "ines@corp.example", raw: bytes = INLINE) -> dict:
    return {
        "message_id": f"<m{i}@corp.example>",
        "sender": sender,
        "to_json": '["Erik@Ext.Example"]',
        "cc_json": "[]",
        "subject": f"subject {i}",
        "raw": raw,
        "definition": "External",
        "application": "mpp",
        "sent_at": f"2026-01-0{i}T00:00:00Z",
        "in_reply_to": f"<parent{i}@corp.example>",
    }


def recipient(address: str, token: str | None, *, internal=False, in_portal=True, mailbox="notification") -> dict:
    return {
        "recipient": address,
        "internal": internal,
        "token": token,
        "mailbox": mailbox,
        "mpp": "none" if not internal else mailbox,
        "in_portal": in_portal,
    }


def committed(path, sql: str, args: tuple = ()) -> list[tuple]:
    with sqlite3.connect(path) as c:
        return c.execute(sql, args).fetchall()


@pytest.fixture
def db(db_dir):
    return db_dir / "gateway.sqlite3"


@pytest.fixture
def store(db):
    s = Store(str(db), on_commit=lambda: s.woken.append(1))
    s.woken = []
    s.first_attempt = lambda now: now + 7.0  # the delay knob: first try 7 s after queueing
    yield s
    s.close()


def test_accept_writes_the_message_its_recipients_deliveries_and_mpp_items_at_once(store, db):
    before = time.time()
    pk = store.accept(
        message(1),
        [recipient("Erik@Ext.Example", "tok-erik"), recipient("Carl@Corp.Example", "tok-carl", internal=True)],
        [
            {"recipient": "Erik@Ext.Example", "mail_from": "ines@corp.example", "raw": b"notification bytes"},
            {"recipient": "Carl@Corp.Example", "mail_from": "ines@corp.example", "compose": "banner", "link": "L1"},
        ],
        [
            {
                "owner": "Carl@CORP.example",
                "kind": "email_with_banner",
                "received_at": "t1",
                "compose": "banner",
                "link": "L2",
                "portal_token": "tok-carl",
            },
            {"owner": "Ines@Corp.Example", "kind": "sent", "received_at": "t0", "raw": b"own copy"},
        ],
    )
    after = time.time()
    assert pk == 1
    assert store.woken == [1], "queued deliveries wake the worker once, after the commit"
    assert committed(
        db,
        "SELECT message_id, sender, to_json, cc_json, subject, raw, definition, application,"
        " sent_at, in_reply_to FROM messages",
    ) == [
        (
            "<m1@corp.example>",
            "ines@corp.example",
            '["Erik@Ext.Example"]',
            "[]",
            "subject 1",
            INLINE,
            "External",
            "mpp",
            "2026-01-01T00:00:00Z",
            "<parent1@corp.example>",
        )
    ]
    assert committed(
        db,
        "SELECT message_pk, recipient, recipient_lc, internal, token, mailbox, mpp, in_portal,"
        " deleted FROM recipients ORDER BY pk",
    ) == [
        (1, "Erik@Ext.Example", "erik@ext.example", 0, "tok-erik", "notification", "none", 1, 0),
        (1, "Carl@Corp.Example", "carl@corp.example", 1, "tok-carl", "notification", "notification", 1, 0),
    ]
    rows = committed(
        db,
        "SELECT message_pk, recipient, mail_from, raw, attempts, next_attempt_at, created_at,"
        " compose, link, delivered_at, bounced_at FROM outbound ORDER BY pk",
    )
    assert [r[:5] + r[7:] for r in rows] == [
        (1, "Erik@Ext.Example", "ines@corp.example", b"notification bytes", 0, None, None, None, None),
        (1, "Carl@Corp.Example", "ines@corp.example", b"", 0, "banner", "L1", None, None),
    ]
    for r in rows:
        created, next_at = r[6], r[5]
        assert before <= created <= after
        assert next_at == created + 7.0, "the first try is when the delay knob says, counted from the queueing"
    assert committed(
        db,
        "SELECT owner_lc, message_pk, kind, raw, received_at, portal_token, compose, link FROM mpp_items ORDER BY pk",
    ) == [
        ("carl@corp.example", 1, "email_with_banner", b"", "t1", "tok-carl", "banner", "L2"),
        ("ines@corp.example", 1, "sent", b"own copy", "t0", None, None, None),
    ]


def test_accept_without_deliveries_does_not_wake_the_worker(store):
    store.accept(message(1), [recipient("carl@corp.example", None, in_portal=False)], [], [])
    assert store.woken == []


def test_the_sm_portal_reads_a_recipients_messages_by_their_one_identity(store):
    one = store.accept(message(1), [recipient("Erik@Ext.Example", "a")], [], [])
    store.accept(message(2), [recipient("erik@ext.example", "hidden", in_portal=False)], [], [])
    three = store.accept(message(3), [recipient("ERIK@ext.example", "c"), recipient("x@ext.example", "x")], [], [])
    items = store.portal_items("erik@EXT.example")
    assert [(r["token"], r["recipient"], r["pk"], r["subject"]) for r in items] == [
        ("a", "Erik@Ext.Example", one, "subject 1"),
        ("c", "ERIK@ext.example", three, "subject 3"),
    ]
    row = store.by_token("c")
    assert (row["token"], row["recipient"], row["internal"], row["pk"], row["message_id"]) == (
        "c",
        "ERIK@ext.example",
        0,
        three,
        "<m3@corp.example>",
    )
    assert row["rpk"] == 3, "the recipient row's own key: the third recipient row written"
    assert store.by_token("hidden") is None, "a recipient who is not in the SM Portal has no message there"
    assert store.by_token("nope") is None


def test_a_deleted_portal_message_is_gone_for_its_recipient_only(store):
    store.accept(message(1), [recipient("erik@ext.example", "e"), recipient("fay@ext.example", "f")], [], [])
    store.accept(message(2), [recipient("erik@ext.example", "nip", in_portal=False)], [], [])
    assert store.delete_token("e") is True
    assert store.delete_token("e") is False, "deleting twice: the second finds nothing"
    assert store.delete_token("nip") is False, "a message that is not in the SM Portal cannot be deleted there"
    assert store.delete_token("unknown") is False
    assert store.by_token("e") is None and store.portal_items("erik@ext.example") == []
    assert [r["token"] for r in store.portal_items("fay@ext.example")] == ["f"]


def test_mpp_sessions_and_items_by_owner(store):
    assert store.mpp_session("s1") is None
    store.create_mpp_session("s1", "Carl@Corp.Example", "2026-01-01T00:00:00Z")
    assert store.mpp_session("s1") == "Carl@Corp.Example"
    assert store.mpp_session("s2") is None
    store.accept(message(1), [], [], [{"owner": "carl@corp.example", "kind": "k1", "received_at": "t1"}])
    store.accept(message(2), [], [], [{"owner": "dora@corp.example", "kind": "k2", "received_at": "t2"}])
    store.accept(message(3), [], [], [{"owner": "CARL@corp.example", "kind": "k3", "received_at": "t3"}])
    items = store.mpp_items("Carl@CORP.Example")
    assert [(r["kind"], r["message_id"], r["received_at"]) for r in items] == [
        ("k1", "<m1@corp.example>", "t1"),
        ("k3", "<m3@corp.example>", "t3"),
    ]


def queue(store, n: int = 1) -> list[int]:
    """n deliveries of one message; their outbound keys."""
    store.accept(
        message(1, sender="Ines@Corp.Example"),
        [],
        [{"recipient": f"r{i}@ext.example", "mail_from": "ines@corp.example", "raw": b"x"} for i in range(n)],
        [],
    )
    return [pk for (pk,) in committed(store._path, "SELECT pk FROM outbound ORDER BY pk")]


def test_due_deliveries_in_the_order_they_fall_due(store):
    store.first_attempt = lambda now: 100.0
    queue(store, 3)
    store.first_attempt = lambda now: 50.0
    store.enqueue("late@ext.example", "MAILER-DAEMON@corp.example", b"dsn")
    assert store.due_outbound(49.9) == []
    assert [r["recipient"] for r in store.due_outbound(50.0)] == ["late@ext.example"]
    due = store.due_outbound(100.0)
    assert [(r["pk"], r["recipient"]) for r in due] == [
        (4, "late@ext.example"),
        (1, "r0@ext.example"),
        (2, "r1@ext.example"),
        (3, "r2@ext.example"),
    ]
    first = due[1]
    assert (first["mail_from"], bytes(first["raw"]), first["attempts"], first["message_pk"], first["sender"]) == (
        "ines@corp.example",
        b"x",
        0,
        1,
        "Ines@Corp.Example",
    )
    assert (first["compose"], first["link"]) == (None, None)
    assert due[0]["sender"] is None and due[0]["message_pk"] is None, "a row of no message: a bounce, say"
    assert [r["pk"] for r in store.due_outbound(100.0, limit=2)] == [4, 1]
    assert store.next_attempt_time() == 50.0
    assert store.pending_count() == 4


def test_messages_take_turns_so_a_fan_out_never_holds_back_a_later_message(store):
    store.first_attempt = lambda now: 10.0
    queue(store, 4)  # one message to four recipients: pks 1-4
    store.accept(
        message(2, sender="Ida@corp.example"),
        [],
        [{"recipient": f"s{i}@ext.example", "mail_from": "ida@corp.example", "raw": b"y"} for i in range(2)],
        [],
    )  # a later message to two: pks 5-6
    store.enqueue("bounce@corp.example", "MAILER-DAEMON@corp.example", b"dsn")  # no message: pk 7
    assert [r["pk"] for r in store.due_outbound(10.0)] == [1, 5, 7, 2, 6, 3, 4]
    assert [r["pk"] for r in store.due_outbound(10.0, limit=3)] == [1, 5, 7]


def test_enqueue_wakes_the_worker_and_keeps_the_message_it_belongs_to(store, db):
    before = time.time()
    store.enqueue("r@ext.example", "ines@corp.example", b"raw", message_pk=None)
    assert store.woken == [1]
    ((_, mpk, rcpt, frm, raw, next_at, created),) = committed(
        db, "SELECT pk, message_pk, recipient, mail_from, raw, next_attempt_at, created_at FROM outbound"
    )
    assert (mpk, rcpt, frm, raw) == (None, "r@ext.example", "ines@corp.example", b"raw")
    assert before <= created <= time.time() and next_at == pytest.approx(created + 7.0, abs=0.5)


def test_a_failed_delivery_waits_for_its_next_attempt(store, db):
    (pk,) = queue(store)
    store.mark_failed(pk, 1e12, "451 try later " + "x" * 600)
    assert store.due_outbound(1e12 - 1) == []
    (row,) = store.due_outbound(1e12)
    assert row["attempts"] == 1
    assert store.next_attempt_time() == 1e12
    ((error,),) = committed(db, "SELECT last_error FROM outbound")
    assert error == ("451 try later " + "x" * 600)[:500], "the error is kept, cut to 500 characters"
    store.mark_failed(pk, 5.0, "again")
    assert committed(db, "SELECT attempts, next_attempt_at, last_error FROM outbound") == [(2, 5.0, "again")]


def test_delivered_rows_leave_the_queue(store, db):
    a, b, c = queue(store, 3)
    store.mark_delivered(a, 1000.0)
    store.mark_delivered_many({b: 1001.0})
    assert [r["pk"] for r in store.due_outbound(1e12)] == [c]
    assert store.pending_count() == 1
    assert committed(db, "SELECT pk, delivered_at, attempts FROM outbound ORDER BY pk") == [
        (a, 1000.0, 1),
        (b, 1001.0, 1),
        (c, None, 0),
    ]
    store.mark_delivered_many({c: 1002.0})
    assert store.pending_count() == 0 and store.next_attempt_time() is None and store.due_outbound(1e12) == []


def test_a_bounced_row_leaves_the_queue_and_its_bounce_is_queued_in_the_same_unit(store, db):
    a, b = queue(store, 2)
    store.woken.clear()
    store.mark_bounced(a, 2000.0, "550 no such user " + "y" * 600, {"recipient": "ines@corp.example", "raw": b"DSN"})
    assert store.woken == [1], "the bounce is a new delivery: the worker wakes"
    assert committed(db, "SELECT attempts, bounced_at, last_error FROM outbound WHERE pk = ?", (a,)) == [
        (1, 2000.0, ("550 no such user " + "y" * 600)[:500])
    ]
    assert committed(
        db, "SELECT message_pk, recipient, mail_from, raw, next_attempt_at, created_at FROM outbound WHERE pk > ?", (b,)
    ) == [(None, "ines@corp.example", "", b"DSN", 2007.0, 2000.0)]
    assert sorted(r["pk"] for r in store.due_outbound(1e12)) == [b, b + 1]
    store.woken.clear()
    store.mark_bounced(b, 2001.0, "attempts used up", None)  # a bounce is never bounced
    assert store.woken == []
    assert committed(db, "SELECT COUNT(*) FROM outbound") == [(3,)]
    assert store.pending_count() == 1


def test_queue_stats_count_pending_oldest_and_bounced(store):
    assert store.queue_stats(1000.0) == {"pending": 0, "oldest_pending_age_s": 0.0, "bounced": 0}
    a, b, c = queue(store, 3)
    created = store._query("SELECT MIN(created_at) AS t FROM outbound")[0]["t"]
    store.mark_bounced(a, 1.0, "gone", None)
    store.mark_delivered(b, 2.0)
    stats = store.queue_stats(created + 30.0)
    assert stats == {"pending": 1, "oldest_pending_age_s": pytest.approx(30.0), "bounced": 1}
    assert store.queue_stats(created - 5.0)["oldest_pending_age_s"] == 0.0, "never a negative age"
    store.mark_delivered(c, 3.0)
    assert store.queue_stats(created + 30.0) == {"pending": 0, "oldest_pending_age_s": 0.0, "bounced": 1}


def test_a_message_is_read_back_by_its_key(store):
    pk = store.accept(message(1, raw=b"the original"), [], [], [])
    assert store.message_raw(pk) == b"the original"
    assert isinstance(store.message_raw(pk), bytes)
    assert store.message_raw(pk + 1) == b""


def test_prune_forgets_what_was_delivered_or_bounced_before_the_retention_and_unreferenced_bytes(store, db):
    def accepted(i, outbound, items=(), portal=False):
        rcpts = [recipient(f"p{i}@ext.example", f"tok{i}", in_portal=portal)]
        return store.accept(
            message(i, raw=f"raw {i}".encode()),
            rcpts,
            [{"recipient": "r@ext.example", "mail_from": "i@corp.example"} for _ in range(outbound)],
            list(items),
        )

    old_delivered = accepted(1, 1)
    old_bounced = accepted(2, 1)
    recent = accepted(3, 1)
    pending = accepted(4, 1)
    in_mpp = accepted(5, 0, [{"owner": "c@corp.example", "kind": "k", "received_at": "t"}])
    in_portal = accepted(6, 0, portal=True)
    deleted_portal = accepted(7, 0, portal=True)
    store.delete_token("tok7")
    rows = dict(committed(db, "SELECT message_pk, pk FROM outbound"))
    store.mark_delivered(rows[old_delivered], 100.0)
    store.mark_bounced(rows[old_bounced], 100.0, "gone", None)
    store.mark_delivered(rows[recent], 300.0)
    store.mark_failed(rows[pending], 0.0, "still trying")
    assert store.prune(before=200.0) == (2, 3)
    assert sorted(pk for (pk,) in committed(db, "SELECT message_pk FROM outbound")) == [recent, pending]
    raws = dict(committed(db, "SELECT pk, raw FROM messages"))
    assert raws[old_delivered] == raws[old_bounced] == raws[deleted_portal] == b""
    assert (raws[recent], raws[pending], raws[in_mpp], raws[in_portal]) == (b"raw 3", b"raw 4", b"raw 5", b"raw 6")
    assert store.prune(before=200.0) == (0, 0), "nothing left to forget: a second prune changes nothing"
    store.mark_delivered(rows[recent], 200.0)
    assert store.prune(before=200.0) == (0, 0), "delivered exactly at the limit: kept"
    assert store.prune(before=200.5) == (1, 1)


def test_settings_are_kept_and_replaced(store, db):
    assert store.get_setting("clock_offset") is None
    store.set_setting("clock_offset", "10")
    store.set_setting("clock_offset", "20")
    store.set_setting("other", "x")
    assert store.get_setting("clock_offset") == "20" and store.get_setting("other") == "x"
    assert committed(db, "SELECT value FROM settings WHERE key = 'clock_offset'") == [("20",)]


def test_the_worker_takes_at_most_50_due_deliveries_at_a_time(store):
    store.first_attempt = lambda now: 0.0
    queue(store, 51)
    assert len(store.due_outbound(1.0)) == 50
    assert store.pending_count() == 51
