"""The reference gateway with proposed fixes applied from outside, for A/B runs.

``python bench/whatif_gateway.py --config FILE`` runs ``harness.gateway``
with the fixes named in ``SMLITE_BENCH_WHATIF`` (comma list) patched in, so
the bench can measure a proposal before anyone edits the gateway:

* ``oneconn``: the store writes on its one long-lived connection, as it did
  before ``Store._tx`` began opening (and closing) a fresh connection, with
  its PRAGMAs, for every write transaction.
* ``nosync``: the store runs SQLite with ``PRAGMA synchronous=NORMAL``
  (WAL mode: a commit survives a crash of the gateway, not of the machine)
  instead of ``FULL`` (an fsync per commit: one per accepted message and one
  per delivery, all behind the store's single lock).

Used by ``python -m bench --what-if ...``; the fixes belong in the gateway
(docs/bench.md says where).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.gateway import __main__ as gateway  # noqa: E402
from harness.gateway.store import Store  # noqa: E402

FIXES = {f.strip() for f in os.environ.get("SMLITE_BENCH_WHATIF", "").split(",") if f.strip()}

if "nosync" in FIXES:
    _connect = Store._connect  # every connection the store opens, also after a reconnect

    def _connect_normal(self):
        connection = _connect(self)
        connection.execute("PRAGMA synchronous=NORMAL")
        return connection

    Store._connect = _connect_normal

if "oneconn" in FIXES:
    _store_init = Store.__init__

    def _init_one_connection(self, *args, **kwargs) -> None:
        _store_init(self, *args, **kwargs)
        self._memory = True  # Store._tx then writes on self._conn instead of a fresh connection

    Store.__init__ = _init_one_connection

if __name__ == "__main__":
    sys.exit(gateway.main())
