"""The one catalogue of errors the API answers with, and the error type that carries them.

Shapes: an :class:`ErrorKind` is ``(code, HTTP status, Chinese message, English
message)``; the messages may hold ``{placeholders}`` filled by the raiser. Several
kinds may share a code when the situation differs but the client's reaction is the
same (``malformed_json`` for a broken JSON body and for broken gzip around it).
``fieldapp/errors.py`` turns a :class:`SyncError` into the JSON error shape of
docs/sync-protocol.md, ``{"error": {"code", "message", "details"}}``, in the language
the client asks for; docs/sync-protocol.md lists every code (a docs test checks it
against :data:`KINDS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ErrorKind:
    code: str
    status: int
    zh: str
    en: str


def _kinds(*kinds: tuple[str, str, int, str, str]) -> dict[str, ErrorKind]:
    return {name: ErrorKind(code, status, zh, en) for name, code, status, zh, en in kinds}


KINDS: dict[str, ErrorKind] = _kinds(
    # name, code, status, Chinese, English
    # -- generic, by HTTP status (errors with no domain code) ---------------------------
    ("bad_request", "bad_request", 400, "请求格式错误", "Bad request"),
    ("unauthenticated", "unauthenticated", 401, "请先登录", "Authentication required"),
    ("forbidden", "forbidden", 403, "没有权限", "Forbidden"),
    ("not_found", "not_found", 404, "未找到", "Not found"),
    ("method_not_allowed", "method_not_allowed", 405, "不支持该请求方法", "Method not allowed"),
    ("conflict", "conflict", 409, "与当前状态冲突", "Conflict"),
    ("too_large", "too_large", 413, "请求内容过大", "Request too large"),
    ("unsupported_media_type", "unsupported_media_type", 415, "请求内容须为 JSON", "Content must be JSON"),
    ("invalid", "invalid", 422, "数据无效", "Invalid data"),
    ("too_many_attempts", "too_many_attempts", 429, "尝试次数过多，请稍后再试", "Too many attempts, try again later"),
    ("internal_error", "internal_error", 500, "服务器内部错误，请稍后再试", "Internal server error"),
    ("unavailable", "unavailable", 503, "服务暂时不可用，请稍后再试", "Service temporarily unavailable"),
    # -- request bodies --------------------------------------------------------------------
    ("not_json", "unsupported_media_type", 415, "请求内容须为 JSON（Content-Type: application/json）",
     "The body must be JSON (Content-Type: application/json)"),
    ("bad_encoding", "unsupported_media_type", 415, "不支持的内容编码（只接受 gzip）",
     "Unsupported Content-Encoding (only gzip is accepted)"),
    ("malformed_json", "malformed_json", 400, "请求内容不是有效的 JSON", "The body is not valid JSON"),
    ("malformed_gzip", "malformed_json", 400, "请求内容不是有效的 gzip 数据", "The body is not valid gzip data"),
    ("truncated_gzip", "malformed_json", 400, "请求内容不是完整的 gzip 数据", "The gzip body is truncated"),
    ("body_too_large", "too_large", 413, "请求内容过大（最多{max_bytes}字节）",
     "The body is too large (at most {max_bytes} bytes)"),
    ("push_too_large", "too_large", 413, "一次最多上传{max_records}条记录、{mib} MiB，请分批上传",
     "At most {max_records} records and {mib} MiB per push; split the upload"),
    ("invalid_characters", "invalid_characters", 422, "请求中含有无法保存的字符（NUL）",
     "Request contains characters that cannot be stored (NUL)"),
    ("invalid_request", "invalid_request", 422, "请求内容不符合接口要求", "The request does not match the API"),
    ("invalid_push", "invalid_request", 422, "请求内容不符合同步协议", "The request does not follow the sync protocol"),
    ("invalid_limit", "invalid_request", 422, "limit 应为1到{max_limit}之间的整数",
     "limit must be an integer between 1 and {max_limit}"),
    # -- logins and tokens ---------------------------------------------------------------
    ("invalid_credentials", "invalid_credentials", 401, "用户名或密码错误", "Wrong user name or password"),
    ("login_throttled", "too_many_attempts", 429, "登录失败次数过多，请5分钟后再试",
     "Too many failed logins; try again in 5 minutes"),
    ("token_missing", "unauthenticated", 401, "缺少有效的访问令牌，请重新登录",
     "A valid bearer token is required; log in again"),
    ("token_expired", "token_expired", 401, "登录已过期，请重新登录", "The token has expired; log in again"),
    ("token_revoked", "token_revoked", 401, "登录已失效（令牌已撤销），请重新登录",
     "The token was revoked; log in again"),
    ("web_not_logged_in", "unauthenticated", 401, "网页未登录，请输入用户名和密码",
     "No web login; log in with your password"),
    ("not_a_worker", "not_a_worker", 403, "网页登录的不是网格员账号，请输入用户名和密码",
     "The web login is not a grid worker's"),
    ("csrf_failed", "csrf_failed", 400, "请求已失效，请刷新后重试", "The CSRF token is missing or invalid"),
    ("node_missing", "unauthenticated", 401, "缺少有效的节点令牌", "A valid node token is required"),
    ("node_revoked", "node_revoked", 401, "节点令牌已被撤销，请向县级管理员申请新令牌",
     "The node token was revoked; ask central for a new one"),
    # -- sync ----------------------------------------------------------------------------
    ("bad_cursor", "bad_cursor", 400, "同步游标无效，请重新完整下载",
     "Unknown or malformed cursor; pull again from the start"),
    ("no_active_campaign", "no_active_campaign", 404, "当前没有进行中的排查活动", "There is no active campaign"),
    ("batch_id_conflict", "batch_id_conflict", 409, "该批次编号已被其他用户使用",
     "This batch_id was already used by another user"),
    ("batch_conflict", "batch_conflict", 409, "该批次编号已用于另一组记录，请用新的批次编号重新上传",
     "This batch_id was already used for other records; send them again under a new batch_id"),
    ("busy", "busy", 503, "服务器繁忙，请稍后重试", "The server is busy; retry later"),
    # -- photos (resumable uploads, docs/sync-protocol.md#photos) -------------------------
    ("photo_workers_only", "forbidden", 403, "只有网格员可以上传照片", "Only grid workers upload photos"),
    ("invalid_photo", "invalid_request", 422, "照片信息不符合接口要求", "The photo's description does not match the API"),
    ("unsupported_photo_type", "unsupported_photo_type", 415, "照片须为 JPEG、PNG 或 WebP 格式",
     "Photos must be JPEG, PNG or WebP"),
    ("photo_too_large", "too_large", 413, "照片过大（每张最多{max_bytes}字节）",
     "The photo is too large (at most {max_bytes} bytes)"),
    ("too_many_photos", "too_many_photos", 409, "每条走访记录最多{max_photos}张照片",
     "At most {max_photos} photos per visit"),
    ("bad_upload_offset", "bad_request", 400, "缺少或无效的 Upload-Offset", "Missing or invalid Upload-Offset header"),
    ("not_octets", "unsupported_media_type", 415, "照片分块须为 application/offset+octet-stream",
     "A chunk must be sent as application/offset+octet-stream"),
    ("offset_mismatch", "offset_mismatch", 409, "上传位置不一致，请从服务器的位置继续",
     "The chunk does not start where the upload stands; resume from the server's offset"),
    ("chunk_too_large", "too_large", 413, "分块过大或超出照片长度", "The chunk is too large or runs past the photo's length"),
    ("checksum_mismatch", "checksum_mismatch", 422, "照片校验失败（SHA-256 不符），请重新上传",
     "The photo's SHA-256 does not match; upload it again from the start"),
    ("not_an_image", "unsupported_photo_type", 415, "上传的内容不是所声明格式的图片，请重新上传",
     "The bytes are not an image of the declared type; upload it again"),
    # -- replication -----------------------------------------------------------------------
    ("bad_replication_cursor", "bad_cursor", 400, "同步位置无效", "Unknown replication cursor"),
    ("cursor_mismatch", "cursor_mismatch", 409, "同步位置不一致，请从中心的位置继续",
     "The page does not start where central is; resume from its cursor"),
    ("invalid_page", "invalid_request", 422, "同步数据格式不正确", "The replication page does not match the protocol"),
)

# The kind (its name) each HTTP status answers with when no domain error was raised.
BY_STATUS: dict[int, str] = {KINDS[name].status: name for name in (
    "bad_request", "unauthenticated", "forbidden", "not_found", "method_not_allowed", "conflict", "too_large",
    "unsupported_media_type", "invalid", "too_many_attempts", "internal_error", "unavailable")}


class SyncError(Exception):
    """An error the API reports as ``{"error": {"code", "message", "details"}}``.

    :param kind: a name of :data:`KINDS` (its code, status and messages)
    :param details: structured details (field errors, limits, where to resume)
    :param values: what the messages' placeholders take
    """

    def __init__(self, kind: str, details: dict[str, Any] | None = None, **values: Any) -> None:
        entry = KINDS[kind]
        self.kind = kind
        self.code = entry.code
        self.status = entry.status
        self.message = entry.zh.format(**values)
        self.message_en = entry.en.format(**values)
        self.details = details or {}
        super().__init__(self.message)
