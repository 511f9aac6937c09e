"""Where photo bytes are kept: a folder of the instance today, an object store later.

The upload service (:mod:`fieldapp.photos.uploads`) needs few operations: the length
of what is stored under a key (how far an upload got), appending a chunk at that
length, reading the bytes back, deleting them, and the total for the admin's disk
usage. ``PHOTO_STORAGE`` names the implementation; only ``local`` exists. An object
store would keep unfinished uploads as its multipart parts and answer the same calls.

Appending takes an exclusive ``flock`` on the file, so two requests for the same
upload (a phone retrying while its first request is still being read) never write
at the same offset, across the server's processes.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Protocol

from flask import current_app


class PhotoStorage(Protocol):
    def size(self, key: str) -> int: ...

    def appending(self, key: str) -> AbstractContextManager[Upload]: ...

    def sha256(self, key: str) -> str: ...

    def head(self, key: str, n: int) -> bytes: ...

    def read(self, key: str) -> bytes: ...

    def put(self, key: str, data: bytes) -> None: ...

    def delete(self, key: str) -> None: ...

    def usage(self) -> tuple[int, int]: ...


class Upload(Protocol):
    """An upload held exclusively: its stored length, appending to it, starting it over."""

    length: int

    def append(self, data: bytes) -> int: ...

    def reset(self) -> None: ...


class _LockedFile:
    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.length = os.fstat(fd).st_size

    def append(self, data: bytes) -> int:
        """Write ``data`` at the end, flushed to disk; the new length."""
        os.lseek(self.fd, 0, os.SEEK_END)
        view = memoryview(data)
        while view:
            written = os.write(self.fd, view)
            view = view[written:]
        os.fsync(self.fd)
        self.length = os.fstat(self.fd).st_size
        return self.length

    def reset(self) -> None:
        """Drop the bytes (a failed checksum): the upload starts again from 0."""
        os.ftruncate(self.fd, 0)
        os.fsync(self.fd)
        self.length = 0


class LocalStorage:
    """Files under ``root``: ``<key>`` (``<visit uuid>/<photo id>``), written in place."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError("photo key outside the storage folder")
        return path

    def size(self, key: str) -> int:
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError:
            return 0

    @contextmanager
    def appending(self, key: str) -> Iterator[Upload]:
        """The upload's file, locked exclusively until the block ends."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield _LockedFile(fd)
        finally:
            os.close(fd)  # releases the lock

    def sha256(self, key: str) -> str:
        digest = hashlib.sha256()
        with self._path(key).open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 16), b""):
                digest.update(block)
        return digest.hexdigest()

    def head(self, key: str, n: int) -> bytes:
        with self._path(key).open("rb") as handle:
            return handle.read(n)

    def read(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def put(self, key: str, data: bytes) -> None:
        """Store a whole photo (a replicated one) at once: written aside, then renamed."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_name(path.name + ".tmp")
        with part.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(part, path)

    def delete(self, key: str) -> None:
        path = self._path(key)
        path.unlink(missing_ok=True)
        try:
            path.parent.rmdir()  # the visit's folder, once empty
        except OSError:
            pass

    def usage(self) -> tuple[int, int]:
        """(bytes, files) stored."""
        return folder_usage(self.root)


def folder_usage(root: Path) -> tuple[int, int]:
    """(bytes, files) under ``root`` (0, 0 when it does not exist)."""
    total = count = 0
    if root.exists():
        for path in root.rglob("*"):
            if path.is_file():
                total += path.stat().st_size
                count += 1
    return total, count


def photo_storage() -> PhotoStorage:
    """The configured storage (``FIELDAPP_PHOTO_STORAGE``, ``FIELDAPP_PHOTO_FOLDER``)."""
    config = current_app.config
    kind = str(config.get("PHOTO_STORAGE") or "local")
    if kind != "local":
        raise RuntimeError(f"unknown PHOTO_STORAGE {kind!r} (only 'local' exists)")
    folder = str(config.get("PHOTO_FOLDER") or "") or os.path.join(current_app.instance_path, "photos")
    return LocalStorage(Path(folder))
