"""The delivery worker's dispatch, on a real SQLite store (lanes not started: nothing is sent).

Rows of one recipient always go to the same lane, in queue order, whatever else is queued; rows a
lane holds are not handed out twice.
"""

from __future__ import annotations

from harness.gateway.delivery import DeliveryWorker
from harness.gateway.store import Store


def _lanes(worker: DeliveryWorker) -> list[list]:
    out = []
    for lane in worker._lanes:
        rows = []
        while not lane.rows.empty():
            rows.append(lane.rows.get_nowait())
        out.append(rows)
    return out


def test_one_recipients_rows_share_a_lane_in_queue_order(tmp_path):
    store = Store(str(tmp_path / "gateway.sqlite3"))
    recipients = [f"r{k}@ext.example" for k in range(9)] + ["R0@EXT.example"]  # case: the same mailbox
    for i in range(40):
        store.enqueue(recipients[i % len(recipients)], "ines@corp.example", f"m{i}".encode())
    worker = DeliveryWorker(store, "127.0.0.1", 9, connections=4)
    worker._dispatch()
    lanes = _lanes(worker)
    assert sum(len(rows) for rows in lanes) == 40
    assert sum(1 for rows in lanes if rows) > 1, "the rows should be spread over several lanes"
    for rows in lanes:
        for rcpt in {r["recipient"].lower() for r in rows}:
            pks = [r["pk"] for r in rows if r["recipient"].lower() == rcpt]
            assert pks == sorted(pks)
    where = {r["recipient"].lower(): i for i, rows in enumerate(lanes) for r in rows}
    for i, rows in enumerate(lanes):
        assert all(where[r["recipient"].lower()] == i for r in rows), "a recipient's rows in two lanes"
    worker._dispatch()
    assert _lanes(worker) == [[], [], [], []], "rows a lane holds are handed out again"
    store.close()
