"""One replication at a time per town, whatever the number of server processes: an
exclusive ``flock`` of ``<instance>/replication.lock`` (the kernel lets go of a dead
process's lock, so a crash never leaves it taken)."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class ReplicationBusy(Exception):
    """Another replication of this town is running."""


@contextmanager
def replication_lock(instance_path: str | Path) -> Iterator[None]:
    """Hold the town's replication lock for the block, or raise :class:`ReplicationBusy`."""
    path = Path(instance_path)
    path.mkdir(parents=True, exist_ok=True)
    fd = os.open(path / "replication.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ReplicationBusy("另一个同步正在进行") from None
        yield
    finally:
        os.close(fd)
