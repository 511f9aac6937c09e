"""The admin's disk usage: the database, the photos and the roster uploads, in bytes."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from fieldapp.extensions import db
from fieldapp.photos.storage import folder_usage
from fieldapp.photos.uploads import storage_usage


@dataclass(frozen=True)
class Usage:
    key: str  # database | photos | uploads
    bytes: int
    files: int


def _database() -> int:
    engine = db.engine
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            return int(conn.scalar(sa.text("SELECT pg_database_size(current_database())")) or 0)
    name = engine.url.database
    if not name or name == ":memory:":
        return 0
    return sum(os.path.getsize(name + suffix) for suffix in ("", "-wal") if os.path.exists(name + suffix))


def disk_usage() -> list[Usage]:
    photos = storage_usage()
    uploads = folder_usage(Path(current_app.instance_path) / "uploads")
    return [Usage("database", _database(), 1), Usage("photos", *photos), Usage("uploads", *uploads)]
