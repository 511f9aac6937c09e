"""A file handed out as a download (exports, the roster template)."""

from __future__ import annotations

from urllib.parse import quote

from flask import Response


def attachment(content: bytes, mimetype: str, filename: str) -> Response:
    """``content`` as an attachment named ``filename`` (UTF-8, RFC 5987), never cached."""
    response = Response(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    response.headers["Cache-Control"] = "no-store"
    return response
