"""Reading a JSON request body with the protocol's limits and error codes."""

from __future__ import annotations

import json
from typing import Any

from flask import request

from sync.errors import SyncError
from sync.protocol import too_large


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def read_json(max_bytes: int, max_records: int | None = None) -> Any:
    """The decoded body, or a SyncError: 415 not JSON, 413 too large, 400 malformed.

    The size is checked on the bytes actually read as well as on the declared
    length, so a chunked upload without Content-Length cannot get past it.
    """
    mimetype = request.mimetype or ""
    if mimetype != "application/json" and not (mimetype.startswith("application/") and mimetype.endswith("+json")):
        raise SyncError("unsupported_media_type", "请求内容须为 JSON（Content-Type: application/json）", 415,
                        {"content_type": request.content_type or ""},
                        message_en="The body must be JSON (Content-Type: application/json)")
    declared = request.content_length
    if declared is not None and declared > max_bytes:
        raise too_large(size=declared, max_records=max_records, max_bytes=max_bytes)
    raw = request.stream.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise too_large(size=len(raw), max_records=max_records, max_bytes=max_bytes)
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
        # "\ud800"-style escapes decode to lone surrogates, which no database stores.
        text = json.dumps(value, ensure_ascii=False)
        text.encode("utf-8")
        # PostgreSQL's jsonb cannot hold U+0000 anywhere (keys included).
        if "\\u0000" in text or "\x00" in text:
            raise ValueError("U+0000 is not accepted")
        return value
    except (UnicodeError, ValueError, RecursionError) as exc:
        raise SyncError("malformed_json", "请求内容不是有效的 JSON", 400,
                        {"reason": str(exc)[:200]}, message_en="The body is not valid JSON") from exc
