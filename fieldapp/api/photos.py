"""Photo uploads (thin): create, where an upload stands, chunks. See fieldapp/photos/uploads.py
and docs/sync-protocol.md#photos (a tus-like protocol: ``Upload-Offset`` in and out)."""

from __future__ import annotations

from flask import current_app, g, jsonify, request, url_for
from werkzeug.exceptions import ClientDisconnected
from werkzeug.wrappers import Response

from fieldapp.api import bp
from fieldapp.api.auth import token_required
from fieldapp.api.body import read_json
from fieldapp.photos import uploads

CREATE_MAX_BYTES = 4096
TUS_VERSION = "1.0.0"


def _answer(state: uploads.PhotoState, status: int = 200) -> Response:
    body = state.to_json()
    body["upload_url"] = url_for("api.photo_status", photo_id=state.id)
    response = jsonify(body)
    response.status_code = status
    response.headers["Upload-Offset"] = str(state.offset)
    response.headers["Upload-Length"] = str(state.length)
    response.headers["Tus-Resumable"] = TUS_VERSION
    response.headers["Cache-Control"] = "no-store"
    return response


def _read_body(limit: int) -> bytes:
    """Up to ``limit`` bytes of the body: a stream's ``read`` may return less than is coming.

    A body shorter than its ``Content-Length`` (the connection was cut) raises
    ``ClientDisconnected``: the chunk is dropped whole, never half written."""
    parts: list[bytes] = []
    got = 0
    while got < limit:
        part = request.stream.read(limit - got)
        if not part:
            break
        parts.append(part)
        got += len(part)
    declared = request.content_length
    if declared is not None and got < min(limit, declared):
        raise ClientDisconnected()
    return b"".join(parts)


@bp.post("/visits/<visit_uuid>/photos")
@token_required
def photo_create(visit_uuid: str) -> Response:
    """Start (or find again) the upload of a photo of the caller's visit."""
    state, created = uploads.create_upload(g.api_user, visit_uuid, read_json(CREATE_MAX_BYTES))
    response = _answer(state, 201 if created else 200)
    response.headers["Location"] = response.get_json()["upload_url"]
    response.headers["X-Photos-Per-Visit"] = str(current_app.config["PHOTOS_PER_VISIT"])
    return response


@bp.get("/photos/<photo_id>")
@token_required
def photo_status(photo_id: str) -> Response:
    """Where the upload stands (``HEAD`` gives the same headers): resume from ``offset``."""
    return _answer(uploads.upload_state(g.api_user, photo_id))


@bp.route("/photos/<photo_id>", methods=["PATCH", "POST"])
@token_required
def photo_chunk(photo_id: str) -> Response:
    """Bytes at ``Upload-Offset`` (``application/offset+octet-stream``), acknowledged with the
    new offset once they are on disk."""
    return _answer(uploads.append_chunk(g.api_user, photo_id, request.headers.get("Upload-Offset"),
                                        request.content_type, _read_body))
