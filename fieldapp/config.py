"""Configuration: defaults here, overrides from ``FIELDAPP_*`` environment variables.

Nothing is read at import time; :func:`load_config` runs inside ``create_app``.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from fieldapp.db import json_columns


class Config:
    # hide_parameters: database errors (and so tracebacks in the log) never carry the
    # statement's values, which may be ID numbers and phones. JSON columns go through
    # orjson: serialising each visit's answers was a fifth of a push's write time.
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {
        "pool_pre_ping": True, "hide_parameters": True,
        "json_serializer": json_columns.dumps, "json_deserializer": json_columns.loads,
    }
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    WTF_CSRF_TIME_LIMIT = None
    BABEL_DEFAULT_LOCALE = "zh"
    # The town's time zone: pages show times in it (fieldapp/clock.py); everything is stored in UTC.
    TIMEZONE = "Asia/Shanghai"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = ("zh", "en")
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    # A web session unused this long ends (fieldapp/auth/idle.py): office PCs are shared.
    SESSION_IDLE_HOURS = 12
    MAX_CONTENT_LENGTH = 64 * 1024 * 1024
    TOKEN_TTL_DAYS = 90
    PUSH_MAX_RECORDS = 500
    PUSH_MAX_BYTES = 5 * 1024 * 1024
    SQLITE_BUSY_TIMEOUT_MS = 30_000
    # "commit": SQLite checkpoints its log inside the commit that fills it (under the
    # write lock); "background": a thread of each process does (fieldapp/db/checkpointer.py).
    SQLITE_CHECKPOINT = "commit"
    # Roster files (fieldapp/roster, sync/roster_file.py): data rows, an XLSX file's parts
    # uncompressed, bad rows listed (all are counted), and the upload size from which the
    # import runs outside the request with its progress on the page.
    ROSTER_MAX_ROWS = 100_000
    ROSTER_MAX_UNPACKED_MB = 128
    ROSTER_MAX_ERRORS = 200
    ROSTER_BACKGROUND_BYTES = 1024 * 1024
    # Photos of a visit (fieldapp/photos, docs/sync-protocol.md#photos): how many, how large,
    # the largest chunk, and where they are kept ("local": PHOTO_FOLDER, else the instance's photos/).
    PHOTOS_PER_VISIT = 3
    PHOTO_MAX_BYTES = 5 * 1024 * 1024
    PHOTO_CHUNK_MAX_BYTES = 1024 * 1024
    PHOTO_STORAGE = "local"
    PHOTO_FOLDER = ""
    # A visit recorded farther than this from the household's previous visit is flagged on review;
    # a household's first positioned visit, farther than the other from its village's 村委会
    # (fieldapp/review/place.py; the village's position is set by an admin, fieldapp/villages.py).
    LOCATION_FAR_METERS = 2000
    LOCATION_VILLAGE_FAR_METERS = 5000
    LOGIN_MAX_FAILURES = 5
    LOGIN_WINDOW_SECONDS = 300
    # Reverse proxies whose X-Forwarded-For/-Proto are believed (fieldapp/proxies.py):
    # addresses or networks, a JSON list or comma-separated; none by default.
    TRUSTED_PROXIES: list[str] = []
    JSON_AS_ASCII = False
    # The central tier (docs/replication.md): set both on a town to replicate to central.
    UPSTREAM_URL = ""
    UPSTREAM_TOKEN = ""
    UPSTREAM_INTERVAL = 60  # seconds between rounds (and soon after phones push)
    UPSTREAM_TIMEOUT = 60  # seconds for one call to central
    REPLICATION_MAX_BYTES = 32 * 1024 * 1024  # a page from a town, after inflating
    REPLICATION_PAGE_RECORDS = 2000  # rows per page a town sends (about 2 MB of JSON at most)


def _secret_key(instance_path: Path) -> str:
    """The secret key: from the environment, else generated once into the instance folder."""
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    key = secrets.token_hex(32)
    instance_path.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key)
    return key


def load_config(app: Any, overrides: dict[str, Any] | None) -> None:
    """Apply defaults, then ``FIELDAPP_*`` variables, then the test mapping."""
    app.config.from_object(Config)
    app.config.from_prefixed_env("FIELDAPP", loads=_loads)
    if overrides:
        app.config.update(overrides)
    instance = Path(app.instance_path)
    url = app.config.get("DATABASE_URL") or app.config.get("SQLALCHEMY_DATABASE_URI")
    if not url:
        instance.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{instance / 'fieldapp.db'}"
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(instance)


def _loads(value: str) -> Any:
    """Environment values: JSON when they parse as such, else the plain string."""
    import json

    try:
        return json.loads(value)
    except ValueError:
        return value
