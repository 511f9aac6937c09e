"""SQLite WAL checkpoints in a background thread of each server process.

By default SQLite checkpoints the write-ahead log inside the commit that takes
it past 1,000 pages: that writer copies the pages into the database file and
syncs it while it still holds the write lock (and the writer gate), so every
other writer waits, about a tenth of a push's serial time. With
``SQLITE_CHECKPOINT = "background"`` (``fieldapp serve`` sets it) the app's
connections turn the automatic checkpoint off and this thread checkpoints
instead, shortly after write commits and at least every few seconds.

It runs PASSIVE checkpoints, which never wait for readers or writers: the
copying goes on beside the next write transaction. A checkpoint cannot pass a
reader's snapshot, so the log is only reset once none is left behind, as with
the automatic checkpoint. When the last connection closes SQLite checkpoints
and removes the log as usual.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time

log = logging.getLogger(__name__)

# After a nudge, wait this long for further commits: one checkpoint for several batches.
_GATHER_S = 0.05
# Checkpoint at least this often, for writes that did not nudge (deferred transactions).
_IDLE_S = 2.0


class Checkpointer:
    """One database file's checkpoint thread in this process."""

    def __init__(self, database_path: str) -> None:
        self.database_path = database_path
        self._wanted = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self.pid = os.getpid()
        self.checkpoints = 0

    def start(self) -> Checkpointer:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
            self._thread.start()
        return self

    @property
    def running(self) -> bool:
        return self._thread is not None and self.pid == os.getpid()

    def stop(self) -> None:
        self._stopped.set()
        self._wanted.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def nudge(self) -> None:
        """A write transaction committed: checkpoint soon."""
        self._wanted.set()

    def checkpoint(self, connection: sqlite3.Connection) -> tuple[int, int, int]:
        """One PASSIVE checkpoint: (busy, frames in the log, frames checkpointed)."""
        busy, frames, done = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        self.checkpoints += 1
        return int(busy), int(frames), int(done)

    def _run(self) -> None:
        connection = sqlite3.connect(self.database_path, timeout=0, check_same_thread=False,
                                     isolation_level=None)
        try:
            while not self._stopped.is_set():
                self._wanted.wait(_IDLE_S)
                if self._stopped.is_set():
                    break
                time.sleep(_GATHER_S)
                self._wanted.clear()
                try:
                    self.checkpoint(connection)
                except sqlite3.Error as exc:  # another process checkpointing, a locked file: next time
                    log.info("checkpoint of %s skipped: %s", self.database_path, exc)
        finally:
            connection.close()


_checkpointers: dict[str, Checkpointer] = {}
_checkpointers_lock = threading.Lock()


def checkpointer_for(database_path: str) -> Checkpointer:
    """The process's running checkpointer of a database file (started on first use)."""
    with _checkpointers_lock:
        found = _checkpointers.get(database_path)
        if found is None or not found.running:  # stopped, or this is a fork (threads do not survive one)
            found = _checkpointers[database_path] = Checkpointer(database_path).start()
        return found
