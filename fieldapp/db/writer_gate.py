"""A queue for SQLite writers that wakes the next one as soon as the lock is free.

SQLite lets one writer in at a time; the others wait in its busy handler,
which sleeps 1, 2, 5, 10, ... up to 100 ms between tries and does not notice
when the lock is released. Under a steady stream of pushes that leaves the
write lock idle much of the time: two worker processes together wrote no
faster than one.

The gate is taken just before ``BEGIN IMMEDIATE`` and given back when the
transaction ends (commit, rollback, or the connection closing). Inside a
process the writers queue on a ``threading.Lock``, which hands over at once;
between processes on an exclusive ``flock`` of ``<database>.lock``, polled
every fraction of a millisecond. The kernel drops a dead process's flock, so
a crash never leaves the gate shut. A writer that cannot get through the gate
within the busy timeout goes on to ``BEGIN IMMEDIATE`` regardless, so the
outcome is what SQLite alone would give (the documented 503 when the database
stays locked); other programs writing to the file without the gate are simply
waited for by SQLite as before.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

_FIRST_POLL_S = 0.0002
_LONGEST_POLL_S = 0.002


class WriterGate:
    """One database file's gate, shared by every connection of this process."""

    def __init__(self, database_path: str) -> None:
        self.database_path = database_path
        self.lock_path = f"{database_path}.lock"
        self._threads = threading.Lock()
        self._file: int | None = None
        self._file_pid = 0

    def acquire(self, timeout_s: float) -> bool:
        """Wait for the gate; False if the timeout passed first (the caller goes on without it)."""
        deadline = time.monotonic() + timeout_s
        if not self._threads.acquire(timeout=max(0.0, timeout_s)):
            return False
        try:
            if self._lock_file(deadline):
                return True
        except OSError:
            self._threads.release()
            raise
        self._threads.release()
        return False

    def release(self) -> None:
        try:
            if self._file is not None:
                fcntl.flock(self._file, fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def _lock_file(self, deadline: float) -> bool:
        descriptor = self._descriptor()
        pause = _FIRST_POLL_S
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    log.warning("writer gate %s: still shut after the busy timeout", self.lock_path)
                    return False
                time.sleep(pause)
                pause = min(pause * 2, _LONGEST_POLL_S)

    def _descriptor(self) -> int:
        # A flock belongs to an open file description, which a fork shares: each
        # process opens its own, or parent and child would hold the gate together.
        if self._file is None or self._file_pid != os.getpid():
            self._file = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._file_pid = os.getpid()
        return self._file


class GatedConnection(sqlite3.Connection):
    """A pysqlite connection that gives the gate back when its transaction ends,
    and tells the background checkpointer (if any) when a write committed."""

    gate: WriterGate | None = None
    holding = False
    after_write: Callable[[], None] | None = None

    def enter(self, timeout_s: float) -> None:
        """Take the gate before ``BEGIN IMMEDIATE`` (no-op without a gate)."""
        if self.gate is not None and not self.holding:
            self.holding = self.gate.acquire(timeout_s)

    def leave(self) -> None:
        if self.holding and self.gate is not None:
            self.holding = False
            self.gate.release()

    def commit(self) -> None:
        wrote = self.holding
        try:
            super().commit()
        finally:
            self.leave()
        if wrote and self.after_write is not None:
            self.after_write()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.leave()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.leave()


_gates: dict[str, WriterGate] = {}
_gates_lock = threading.Lock()


def gate_for(database: Any) -> WriterGate | None:
    """The process-wide gate of a database file; None for in-memory databases."""
    if not database or database == ":memory:" or str(database).startswith("file:"):
        return None
    path = os.path.abspath(str(database))
    with _gates_lock:
        gate = _gates.get(path)
        if gate is None:
            gate = _gates[path] = WriterGate(path)
        return gate
