"""Group commit for the gateway's SQLite: one transaction and one fsync for every writer waiting.

Owns ``GroupCommit`` (the base of ``Store``): the read connection, the kept write connection
(revalidated before every batch: a replaced file is reopened, an unwritable one fails at once), and
``_write(fn)`` — writers that arrive while a transaction is committing wait, and the next of them
commits everything queued meanwhile in one transaction (each unit in its own SAVEPOINT, so one unit's
constraint error fails only that unit). Nothing is acknowledged before its commit; a failed BEGIN or
COMMIT fails every unit of the batch with ``StorageError``. ``on_commit`` is called after every
commit that adds outbound rows. Hand-written: neither sqlite3 nor a library on the index offers
group commit for a synchronous caller.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable
from typing import TypeVar, cast

from .store_schema import SCHEMA, migrate

T = TypeVar("T")


class StorageError(Exception):
    """The database cannot take a write now (read-only, full, I/O error); nothing was committed."""


class _Unit:
    """One caller's write: ``fn(conn)`` run inside the batch's transaction, its outcome after COMMIT."""

    __slots__ = ("done", "durable", "error", "fn", "notify", "value")

    def __init__(self, fn: Callable[[sqlite3.Connection], object], notify: bool, durable: bool) -> None:
        self.fn = fn
        self.notify = notify
        self.durable = durable
        self.done = False
        self.value: object = None
        self.error: BaseException | None = None

    def outcome(self) -> object:
        if self.error is not None:
            raise self.error
        return self.value


class GroupCommit:
    def __init__(self, path: str, on_commit: Callable[[], None] | None = None) -> None:
        self._lock = threading.RLock()  # the read connection
        self._path = path
        self._memory = path == ":memory:" or path.startswith("file::memory:")
        self._conn = self._connect()
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.executescript(SCHEMA)
        with self._lock:
            migrate(self._conn)
        self.on_commit = on_commit
        self._writes = threading.Condition()
        self._queued: list[_Unit] = []
        self._committing = False
        self._writer: sqlite3.Connection | None = None
        self._writer_file: tuple[int, int] | None = None
        self._writer_sync = "FULL"  # what _connect sets
        self.batches = 0  # transactions committed, for tests and the bench
        self.units = 0  # units committed in them

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None, timeout=30)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        # after a checkpoint the WAL file is cut back to this: one large message does not leave a
        # second copy of itself on disk for as long as the gateway runs
        conn.execute("PRAGMA journal_size_limit=1048576")
        return conn

    def close(self) -> None:
        with self._writes:
            self._drop_writer()
        with self._lock:
            self._conn.close()

    # -- writing: group commit -----------------------------------------------
    def _write(self, fn: Callable[[sqlite3.Connection], T], notify: bool = False, durable: bool = True) -> T:
        """Run ``fn(conn)`` in a write transaction; return its value once committed (or raise).
        ``notify``: the unit adds outbound rows, call ``on_commit`` after its commit. ``durable=False``:
        the commit may skip the fsync when no unit of its batch needs one (see ``mark_delivered_many``)."""
        unit = _Unit(fn, notify, durable)
        with self._writes:
            self._queued.append(unit)
            while self._committing and not unit.done:
                self._writes.wait()
            if unit.done:
                return cast(T, self._finish(unit))
            self._committing = True
            batch, self._queued = self._queued, []
        try:
            if self._memory:  # one connection for reads and writes
                with self._lock:
                    self._commit(batch)
            else:
                self._commit(batch)
        finally:
            with self._writes:
                self._committing = False
                self._writes.notify_all()
        return cast(T, self._finish(unit))

    def _finish(self, unit: _Unit) -> object:
        if unit.notify and unit.error is None:
            self._notify()
        return unit.outcome()

    def _commit(self, batch: list[_Unit]) -> None:
        """One transaction for ``batch``; every unit ends done, with a value or an error."""
        try:
            try:
                conn = self._writable()
                sync = "FULL" if any(u.durable for u in batch) else "NORMAL"
                if sync != self._writer_sync:
                    conn.execute(f"PRAGMA synchronous={sync}")
                    self._writer_sync = sync
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                self._drop_writer()
                raise StorageError(f"cannot start a write transaction: {exc}") from exc
            for _i, unit in enumerate(batch):
                conn.execute("SAVEPOINT unit")
                try:
                    unit.value = unit.fn(conn)
                except BaseException as exc:
                    unit.error = exc
                    if isinstance(exc, sqlite3.Error):
                        unit.error = StorageError(f"write failed: {exc}")
                        unit.error.__cause__ = exc
                    if not conn.in_transaction:  # SQLite gave up the whole transaction (I/O error, disk full)
                        raise StorageError(f"write failed: {exc}") from exc
                    conn.execute("ROLLBACK TO unit")
                conn.execute("RELEASE unit")
            try:
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise StorageError(f"commit failed: {exc}") from exc
            self.batches += 1
            self.units += sum(u.error is None for u in batch)
        except BaseException as exc:
            writer = self._conn if self._memory else self._writer
            if writer is not None and writer.in_transaction:
                try:
                    writer.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
            self._drop_writer()
            failure = exc if isinstance(exc, StorageError) else StorageError(f"write failed: {exc}")
            for unit in batch:  # nothing of this batch is in the database
                unit.value, unit.error = None, failure
        finally:
            for unit in batch:
                unit.done = True

    def _writable(self) -> sqlite3.Connection:
        """The kept write connection, reopened if the file was replaced; StorageError if it cannot be written."""
        if self._memory:
            return self._conn
        try:
            st = os.stat(self._path)
        except OSError as exc:
            self._drop_writer()
            raise StorageError(f"database file unavailable: {exc}") from exc
        folder = os.path.dirname(os.path.abspath(self._path))
        if not (os.access(self._path, os.W_OK) and os.access(folder, os.W_OK)):
            self._drop_writer()
            raise StorageError(f"database {self._path} or its folder is not writable")
        if self._writer is None or self._writer_file != (st.st_dev, st.st_ino):
            self._drop_writer()
            self._writer = self._connect()
            self._writer_file = (st.st_dev, st.st_ino)
        return self._writer

    def _drop_writer(self) -> None:
        if self._writer is not None and self._writer is not self._conn:
            try:
                self._writer.close()
            except sqlite3.Error:
                pass
        self._writer, self._writer_file, self._writer_sync = None, None, "FULL"

    def _notify(self) -> None:
        if self.on_commit is not None:
            self.on_commit()
