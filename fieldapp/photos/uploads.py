"""Resumable photo uploads (tus-like, docs/sync-protocol.md#photos): the use cases.

1. ``create_upload``: the phone names the photo's length, SHA-256 and type for one of
   its visits and gets an upload id. Creating the same photo (same bytes) again
   answers the same upload with its offset: a phone that lost the answer resumes.
2. ``append_chunk``: bytes at an offset. The offset must be where the upload stands
   (else ``409 offset_mismatch`` with the server's offset); the chunk is on disk
   before it is acknowledged with the new offset.
3. Once every byte is there the SHA-256 and the image's signature are checked: a
   mismatch drops the bytes (the upload starts over from 0), a match completes the
   photo (one write transaction, audited like the visit).

Only the visit's own worker uploads; any other visit is "not found" (404). How far an
upload got is the stored file's length, so a chunk costs no database write.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fieldapp import audit
from fieldapp.access import Scoped
from fieldapp.db import write_transaction
from fieldapp.db.changes import next_change
from fieldapp.extensions import db
from fieldapp.models import Visit, VisitPhoto, utcnow
from fieldapp.photos.storage import PhotoStorage, photo_storage
from sync.errors import SyncError

CONTENT_TYPES = ("image/jpeg", "image/png", "image/webp")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_CREATE_KEYS = frozenset({"length", "sha256", "content_type"})


@dataclass(frozen=True)
class PhotoState:
    """An upload as the API reports it."""

    id: str
    visit_uuid: str
    content_type: str
    length: int
    sha256: str
    offset: int
    complete: bool

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "visit_uuid": self.visit_uuid, "content_type": self.content_type,
                "length": self.length, "sha256": self.sha256, "offset": self.offset, "complete": self.complete}


def _state(photo: VisitPhoto, storage: PhotoStorage) -> PhotoState:
    complete = photo.completed_at is not None
    offset = photo.length if complete else min(storage.size(photo.storage_key), photo.length)
    return PhotoState(photo.id, photo.visit_uuid, photo.content_type, photo.length, photo.sha256, offset, complete)


def _own_visit(user: Scoped, visit_uuid: str) -> Visit:
    if user.role != "worker":
        raise SyncError("photo_workers_only")
    visit = db.session.get(Visit, visit_uuid)
    if visit is None or visit.worker_id != user.id:
        raise SyncError("not_found")
    return visit


def _own_photo(user: Scoped, photo_id: str) -> tuple[VisitPhoto, Visit]:
    if user.role != "worker":
        raise SyncError("photo_workers_only")
    row = db.session.execute(sa.select(VisitPhoto, Visit).join(Visit, Visit.uuid == VisitPhoto.visit_uuid)
                             .where(VisitPhoto.id == photo_id)).first()
    if row is None or row.Visit.worker_id != user.id:
        raise SyncError("not_found")
    return row.VisitPhoto, row.Visit


def _checked_body(body: Any) -> tuple[int, str, str]:
    if not isinstance(body, dict):
        raise SyncError("invalid_photo", {"fields": {"$": ["expected an object"]}})
    errors: dict[str, list[str]] = {key: ["unknown field"] for key in sorted(set(body) - _CREATE_KEYS, key=str)}
    length, sha, kind = body.get("length"), body.get("sha256"), body.get("content_type")
    if isinstance(length, bool) or not isinstance(length, int) or length < 1:
        errors["length"] = ["expected a positive integer"]
    if not isinstance(sha, str) or not _SHA256.match(sha):
        errors["sha256"] = ["expected 64 lowercase hex digits"]
    if not isinstance(kind, str):
        errors["content_type"] = ["expected a string"]
    if errors:
        raise SyncError("invalid_photo", {"fields": errors})
    if kind not in CONTENT_TYPES:
        raise SyncError("unsupported_photo_type", {"content_type": str(kind)[:60], "accepted": list(CONTENT_TYPES)})
    size = int(str(length))
    limit = int(current_app.config["PHOTO_MAX_BYTES"])
    if size > limit:
        raise SyncError("photo_too_large", {"max_bytes": limit, "bytes": size}, max_bytes=limit)
    return size, str(sha), str(kind)


def create_upload(user: Scoped, visit_uuid: str, body: Any) -> tuple[PhotoState, bool]:
    """The upload of a photo of the user's visit, created or (same bytes) found again.

    :returns: the upload's state and whether it was created now
    :raises SyncError: 403 photo_workers_only, 404 not_found, 422 invalid_photo,
        415 unsupported_photo_type, 413 photo_too_large, 409 too_many_photos
    """
    length, sha, kind = _checked_body(body)
    try:
        return _create(user, visit_uuid, length, sha, kind)
    except IntegrityError:
        # The same photo created at the same moment by a retry (PostgreSQL): it is there now.
        db.session.rollback()
        return _create(user, visit_uuid, length, sha, kind)


def _create(user: Scoped, visit_uuid: str, length: int, sha: str, kind: str) -> tuple[PhotoState, bool]:
    storage = photo_storage()
    with write_transaction(db.session) as session:
        visit = _own_visit(user, visit_uuid)
        photos = list(session.scalars(sa.select(VisitPhoto).where(VisitPhoto.visit_uuid == visit.uuid)))
        for photo in photos:
            if photo.sha256 == sha:
                if (photo.length, photo.content_type) != (length, kind):
                    raise SyncError("invalid_photo", {"fields": {"length": ["another length or type for these bytes"]}})
                return _state(photo, storage), False
        limit = int(current_app.config["PHOTOS_PER_VISIT"])
        if len(photos) >= limit:
            raise SyncError("too_many_photos", {"max_photos": limit}, max_photos=limit)
        photo_id = str(uuid.uuid4())
        photo = VisitPhoto(id=photo_id, visit_uuid=visit.uuid, worker_id=user.id, content_type=kind,
                           length=length, sha256=sha, storage_key=f"{visit.uuid}/{photo_id}")
        session.add(photo)
        session.flush()
        state = _state(photo, storage)
    return state, True


def upload_state(user: Scoped, photo_id: str) -> PhotoState:
    """Where the upload stands (``HEAD``/``GET``): the offset to resume from."""
    photo, _visit = _own_photo(user, photo_id)
    state = _state(photo, photo_storage())
    db.session.rollback()
    return state


_SIGNATURES = {"image/jpeg": lambda b: b[:3] == b"\xff\xd8\xff",
               "image/png": lambda b: b[:8] == b"\x89PNG\r\n\x1a\n",
               "image/webp": lambda b: b[:4] == b"RIFF" and b[8:12] == b"WEBP"}


CHUNK_TYPE = "application/offset+octet-stream"


def append_chunk(user: Scoped, photo_id: str, offset_header: str | None, content_type: str | None,
                 read: Callable[[int], bytes]) -> PhotoState:
    """Append the request's bytes at ``Upload-Offset``; complete the photo when its last
    byte arrived. ``read(n)`` reads at most ``n`` bytes of the body; it is called only once
    the upload is known to be the caller's and the offset right.

    An empty chunk at the end completes a photo whose bytes are all stored (the server
    stopped between writing the last chunk and completing it).

    :raises SyncError: 404 not_found, 400 bad_upload_offset, 415 not_octets, 409
        offset_mismatch (``details.offset``), 413 chunk_too_large, 422 checksum_mismatch
        or 415 not_an_image (the upload then restarts at 0)
    """
    photo, visit = _own_photo(user, photo_id)
    db.session.expunge_all()  # plain objects from here on:
    db.session.rollback()  # no snapshot held while the bytes are written
    if not offset_header or not offset_header.isdigit() or len(offset_header) > 12:
        raise SyncError("bad_upload_offset")
    if (content_type or "").split(";")[0].strip().lower() != CHUNK_TYPE:
        raise SyncError("not_octets", {"content_type": (content_type or "")[:80]})
    offset = int(offset_header)
    storage = photo_storage()
    if photo.completed_at is not None:
        if offset == photo.length and not read(1):
            return _state(photo, storage)
        raise SyncError("offset_mismatch", {"offset": photo.length, "complete": True})
    chunk_max = int(current_app.config["PHOTO_CHUNK_MAX_BYTES"])
    with storage.appending(photo.storage_key) as upload:
        if offset != upload.length:
            raise SyncError("offset_mismatch", {"offset": upload.length})
        room = photo.length - upload.length
        data = read(min(room, chunk_max) + 1)
        if len(data) > room or len(data) > chunk_max:
            raise SyncError("chunk_too_large", {"offset": upload.length, "length": photo.length,
                                                "max_chunk_bytes": chunk_max})
        if data:
            upload.append(data)
        if upload.length == photo.length:
            _finish(user, photo, visit, storage, upload)
    state = _state(db.session.get(VisitPhoto, photo.id) or photo, storage)
    db.session.rollback()
    return state


def _finish(user: Scoped, photo: VisitPhoto, visit: Visit, storage: PhotoStorage, upload: Any) -> None:
    """Check the whole photo; complete it, or drop its bytes so that it is sent again."""
    actual = storage.sha256(photo.storage_key)
    if actual != photo.sha256:
        upload.reset()
        raise SyncError("checksum_mismatch", {"offset": 0, "expected": photo.sha256, "actual": actual})
    if not _SIGNATURES[photo.content_type](storage.head(photo.storage_key, 12)):
        upload.reset()
        raise SyncError("not_an_image", {"offset": 0, "content_type": photo.content_type})
    with write_transaction(db.session) as session:
        row = session.get(VisitPhoto, photo.id, populate_existing=True)
        if row is None or row.completed_at is not None:
            return
        row.completed_at = utcnow()
        row.change_seq = next_change(session, 1)  # central replicates it from here
        audit.record(session, user, "photo_upload", "visit", visit.uuid, village_id=visit.village_id,
                     details={"photo_id": photo.id, "household_id": visit.household_id, "bytes": photo.length,
                              "sha256": photo.sha256})


# -- what the review pages and the admin read ---------------------------------------


@dataclass(frozen=True)
class VisitPhotos:
    """A visit's photos: the completed ones, and how many the phone announced."""

    done: list[VisitPhoto]
    uploading: int
    expected: int

    @property
    def complete(self) -> bool:
        return len(self.done) >= self.expected

    @property
    def shown_total(self) -> int:
        return max(self.expected, len(self.done) + self.uploading)


def visit_photos(session: Session, visit: Visit) -> VisitPhotos:
    rows = list(session.scalars(sa.select(VisitPhoto).where(VisitPhoto.visit_uuid == visit.uuid)
                                .order_by(VisitPhoto.created_at, VisitPhoto.id)))
    done = [p for p in rows if p.completed_at is not None]
    return VisitPhotos(done, len(rows) - len(done), max(visit.photos_expected or 0, 0))


def completed_counts(session: Session, visit_uuids: list[str]) -> dict[str, int]:
    """How many complete photos each visit has (a batch page's visits, in one query)."""
    if not visit_uuids:
        return {}
    rows = session.execute(sa.select(VisitPhoto.visit_uuid, sa.func.count())
                           .where(VisitPhoto.visit_uuid.in_(visit_uuids), VisitPhoto.completed_at.is_not(None))
                           .group_by(VisitPhoto.visit_uuid))
    return {uuid: int(n) for uuid, n in rows}


def completed_photo(session: Session, visit_uuid: str, photo_id: str) -> tuple[VisitPhoto, bytes] | None:
    """A completed photo of the visit and its bytes (None: no such photo, or not complete)."""
    photo = session.get(VisitPhoto, photo_id)
    if photo is None or photo.visit_uuid != visit_uuid or photo.completed_at is None:
        return None
    try:
        return photo, photo_storage().read(photo.storage_key)
    except FileNotFoundError:
        return None


def storage_usage() -> tuple[int, int]:
    """(bytes, files) of the photo storage, for the admin's disk usage."""
    return photo_storage().usage()


def delete_files(keys: list[str]) -> None:
    """Delete photo bytes after their rows went (retention)."""
    storage = photo_storage()
    for key in keys:
        storage.delete(key)
