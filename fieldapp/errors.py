"""Error responses: the JSON shape under /api/, friendly Chinese pages elsewhere."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from fieldapp.extensions import db
from sync.errors import SyncError

log = logging.getLogger(__name__)

# code, Chinese message, English message per status for HTTP errors without a domain code.
HTTP_ERRORS: dict[int, tuple[str, str, str]] = {
    400: ("bad_request", "请求格式错误", "Bad request"),
    401: ("unauthenticated", "请先登录", "Authentication required"),
    403: ("forbidden", "没有权限", "Forbidden"),
    404: ("not_found", "未找到", "Not found"),
    405: ("method_not_allowed", "不支持该请求方法", "Method not allowed"),
    409: ("conflict", "与当前状态冲突", "Conflict"),
    413: ("too_large", "请求内容过大", "Request too large"),
    415: ("unsupported_media_type", "请求内容须为 JSON", "Content must be JSON"),
    422: ("invalid", "数据无效", "Invalid data"),
    429: ("too_many_attempts", "尝试次数过多，请稍后再试", "Too many attempts, try again later"),
    500: ("internal_error", "服务器内部错误，请稍后再试", "Internal server error"),
    503: ("unavailable", "服务暂时不可用，请稍后再试", "Service temporarily unavailable"),
}


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


def json_error(status: int, code: str, message: str, details: dict[str, Any] | None = None,
               headers: dict[str, str] | None = None) -> Response:
    response = jsonify({"error": {"code": code, "message": message, "details": details or {}}})
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def http_error_json(status: int, details: dict[str, Any] | None = None,
                    code: str | None = None, headers: dict[str, str] | None = None) -> Response:
    default_code, zh, en = HTTP_ERRORS.get(status, HTTP_ERRORS[500])
    return json_error(status, code or default_code, en if wants_english() else zh, details, headers)


def _render_page(status: int) -> tuple[str, int]:
    template = f"errors/{status}.html" if status in (403, 404, 500) else "errors/generic.html"
    _code, zh, _en = HTTP_ERRORS.get(status, ("error", "出错了", "Error"))
    return render_template(template, status=status, message=zh), status


def init_app(app: Flask) -> None:
    @app.errorhandler(SyncError)
    def _sync_error(error: SyncError) -> Response:
        message = error.message_en if wants_english() else error.message
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if error.status == 503 else None
        return json_error(error.status, error.code, message, error.details, headers)

    @app.errorhandler(DBAPIError)
    def _database_error(error: DBAPIError) -> Any:
        """A locked or unreachable database is a 503 with Retry-After, not a 500."""
        if not database_unavailable(error):
            if rejected_characters(error):
                db.session.rollback()
                if is_api_request():
                    return json_error(422, "invalid_characters",
                                      "Request contains characters that cannot be stored (NUL)"
                                      if wants_english() else "请求中含有无法保存的字符（NUL）")
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
