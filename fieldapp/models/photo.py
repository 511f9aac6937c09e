"""Photos of a visit (入户照片): uploaded after the visit, in chunks, resumable.

The bytes live in the photo storage (``fieldapp/photos/storage.py``, a folder of the
instance by default); the row says what is expected (length, SHA-256, type) and
whether the upload is complete. How far an unfinished upload got is the stored
file's length: nothing is written to the database per chunk.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from fieldapp.models.base import Base, UtcDateTime, utcnow


class VisitPhoto(Base):
    __tablename__ = "visit_photos"
    __table_args__ = (
        # A photo is known by its bytes: creating it again resumes the same upload.
        sa.UniqueConstraint("visit_uuid", "sha256", name="uq_visit_photos_visit_uuid"),
        sa.Index("ix_visit_photos_change_seq", "change_seq"),
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    visit_uuid: Mapped[str] = mapped_column(sa.ForeignKey("visits.uuid"), index=True)
    worker_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    content_type: Mapped[str] = mapped_column(sa.String(20))
    length: Mapped[int] = mapped_column(sa.Integer)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    storage_key: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    # Taken when the photo completes: central's replication feed sends complete photos
    # (their bytes with them) at this place, after their visit (docs/replication.md).
    change_seq: Mapped[int] = mapped_column(sa.BigInteger, default=0)
