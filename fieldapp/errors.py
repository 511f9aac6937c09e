"""Error responses: the JSON shape under /api/, friendly Chinese pages elsewhere."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import get_locale
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from fieldapp.extensions import db
from sync.errors import BY_STATUS, KINDS, SyncError

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
# Messages of driver errors that mean "try again later", not "bug": SQLite's
# lock (busy timeout ran out) and PostgreSQL/psycopg's lost or refused connections.
_UNAVAILABLE = (
    "database is locked", "database table is locked", "connection refused", "could not connect",
    "connection failed", "server closed the connection", "terminating connection",
    "connection is closed", "the connection is lost", "connection timeout", "timeout expired",
    "consuming input failed", "ssl syscall error",
)


def database_unavailable(error: BaseException) -> bool:
    """True when a database error means the store is locked or unreachable right now."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    text = str(getattr(error, "orig", None) or error).lower()
    return any(marker in text for marker in _UNAVAILABLE)


def rejected_characters(error: BaseException) -> bool:
    """True when PostgreSQL refused a NUL character (text or JSONB): bad input, not a bug."""
    text = str(getattr(error, "orig", None) or error).lower()
    return "cannot contain nul" in text or "\\u0000 cannot be converted" in text


def wants_english() -> bool:
    best = request.accept_languages.best_match(["zh", "en"], default="zh")
    return best == "en"


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def page_message(error: SyncError) -> str:
    """The error's message in the page's language (the session's, ``fieldapp/i18n.py``)."""
    locale = get_locale()
    return error.message_en if locale is not None and locale.language == "en" else error.message


def error_response(error: SyncError, headers: dict[str, str] | None = None) -> Response:
    """The JSON error shape of docs/sync-protocol.md, in the language the client asks for."""
    message = error.message_en if wants_english() else error.message
    response = jsonify({"error": {"code": error.code, "message": message, "details": error.details}})
    response.status_code = error.status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    if error.status == 503:
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def json_error(kind: str, headers: dict[str, str] | None = None, details: dict[str, Any] | None = None) -> Response:
    """The JSON error of a catalogue kind (``sync.errors.KINDS``)."""
    return error_response(SyncError(kind, details), headers)


def http_error_json(status: int, headers: dict[str, str] | None = None) -> Response:
    """The JSON error of an HTTP status that no domain error explains."""
    return json_error(BY_STATUS.get(status, "internal_error"), headers)


def _render_page(status: int) -> tuple[str, int]:
    template = f"errors/{status}.html" if status in (403, 404, 500) else "errors/generic.html"
    kind = BY_STATUS.get(status)
    return render_template(template, status=status, message=KINDS[kind].zh if kind else "出错了"), status


def init_app(app: Flask) -> None:
    @app.errorhandler(SyncError)
    def _sync_error(error: SyncError) -> Response:
        return error_response(error)

    @app.errorhandler(DBAPIError)
    def _database_error(error: DBAPIError) -> Any:
        """A locked or unreachable database is a 503 with Retry-After, not a 500."""
        if not database_unavailable(error):
            if rejected_characters(error):
                db.session.rollback()
                if is_api_request():
                    return json_error("invalid_characters")
                return _render_page(422)
            return _unexpected(error)
        try:
            db.session.rollback()
        except DBAPIError as again:  # the connection may be gone too; it is discarded either way
            log.warning("rollback after an unavailable database failed too: %s", type(again).__name__)
        log.warning("database unavailable on %s %s: %s", request.method, request.path,
                    str(error.orig).splitlines()[0] if error.orig else type(error).__name__)
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        if is_api_request():
            return http_error_json(503, headers=headers)
        body, status = _render_page(503)
        return body, status, headers

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Any:
        status = error.code or 500
        if is_api_request():
            headers = {}
            if status == 405 and error.get_response().headers.get("Allow"):
                headers["Allow"] = error.get_response().headers["Allow"]
            return http_error_json(status, headers=headers)
        if status == 401:
            return error
        return _render_page(status)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Any:
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        if is_api_request():
            return http_error_json(500)
        return _render_page(500)
