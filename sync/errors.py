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
    # -- review decisions (fieldapp/review: the review pages, and central's commands a town applies)
    ("visit_not_found", "not_found", 404, "未找到走访记录", "Visit record not found"),
    ("conflict_not_found", "not_found", 404, "未找到该冲突", "Conflict not found"),
    ("decision_conflict_not_found", "not_found", 404, "未找到该决定冲突", "Decision conflict not found"),
    ("candidate_not_found", "not_found", 404, "未找到该疑似重复记录", "Possible duplicate not found"),
    ("merge_not_found", "not_found", 404, "未找到该合并记录", "Merge record not found"),
    ("candidate_decided", "already_decided", 409, "该疑似重复已由{name}处理",
     "This possible duplicate was already handled by {name}"),
    ("candidate_decided_as", "already_decided", 409, "该疑似重复已由{name}处理（{status}）",
     "This possible duplicate has already been handled by {name} ({status})"),
    ("conflict_settled", "already_decided", 409, "该冲突已由{name}处理，无需重复处理",
     "This conflict has already been resolved by {name}"),
    ("merge_undone", "already_decided", 409, "该合并已由{name}撤销", "This merge has already been undone by {name}"),
    ("decision_conflict_settled", "already_decided", 409, "该决定冲突已由{name}处理",
     "This decision conflict was already settled by {name}"),
    ("decision_waiting", "already_decided", 409, "已有发往{town}的决定在等待同步，请同步后再处理",
     "A decision sent to {town} is still waiting for replication; decide again after it arrives"),
    ("no_visit_chosen", "invalid", 422, "请至少选择一条走访记录", "Select at least one visit record"),
    ("return_comment_missing", "invalid", 422, "退回时请填写退回意见", "Enter a comment when returning"),
    ("return_kind_unknown", "invalid", 422, "退回类型无效", "Unknown kind of return"),
    ("conflict_pick_missing", "invalid", 422, "请为每个字段选择保留的值", "Choose the value to keep for every field"),
    ("resolved_breaks_rules", "invalid", 422, "所填的值不符合表单规则", "The values entered do not satisfy the form rules"),
    ("survivor_missing", "invalid", 422, "请选择保留哪一户", "Choose the household to keep"),
    ("merge_choice_invalid", "invalid", 422, "字段选择无效", "Invalid field choice"),
    ("already_merged", "invalid", 422, "其中一户已被合并，不能再次合并",
     "One of the households has already been merged and cannot be merged again"),
    ("merged_breaks_rules", "invalid", 422, "合并后的户信息不符合表单规则",
     "The merged household information does not satisfy the form rules"),
    ("changed_since_merge", "invalid", 422, "合并后该户又有修改（现为第{rev}版），不能自动撤销",
     "The household has been changed since the merge (now revision {rev}); the merge cannot be undone automatically"),
    ("town_not_connected", "invalid", 422, "该户所属乡镇未接入县级中心，不能跨镇合并",
     "The household's town is not connected to the county server; it cannot be merged across towns"),
    ("town_not_connected_undo", "invalid", 422, "该户所属乡镇未接入县级中心，不能撤销跨镇合并",
     "The household's town is not connected to the county server; the merge across towns cannot be undone"),
    ("decision_side_missing", "invalid", 422, "请选择保留哪一方的决定", "Choose whose decision stands"),
    ("decision_by_hand", "invalid", 422, "这类冲突请在相应页面手工处理后，选择保留本镇的决定",
     "Settle this kind of conflict by hand on its page, then keep the town's decision"),
    # why central's decision could not be applied (a visit's reason, already in the page's language)
    ("county_decision_skipped", "invalid", 422, "{reason}", "{reason}"),
    ("sent_to_town", "sent_to_town", 202, "已发送至{town}，该镇下次同步后生效",
     "Sent to {town}; it applies after the town's next replication"),
    # -- admin pages (fieldapp/admin/services.py) -------------------------------------------
    ("user_not_found", "not_found", 404, "用户不存在", "No such user"),
    ("villages_not_found", "invalid", 422, "所选的村不存在", "A chosen village does not exist"),
    ("own_account", "forbidden", 403, "不能停用自己的账号或更改自己的角色",
     "You cannot deactivate your own account or change your own role"),
    ("last_admin", "conflict", 409, "至少要保留一个启用的管理员", "At least one active admin must remain"),
    ("worker_needs_village_first", "invalid", 422, "网格员至少要分配一个村，请先分配村",
     "A grid worker needs at least one village: assign one first"),
    ("worker_needs_village", "invalid", 422, "网格员至少要分配一个村", "A grid worker needs at least one village"),
    ("token_not_found", "not_found", 404, "设备令牌不存在", "No such device token"),
    ("token_already_revoked", "conflict", 409, "该设备令牌已被吊销", "This device token is already revoked"),
    ("campaign_not_found", "not_found", 404, "排查活动不存在", "No such campaign"),
    ("campaign_already_active", "conflict", 409, "该排查活动已是启用状态", "This campaign is already the active one"),
    ("campaign_already_closed", "conflict", 409, "该排查活动已结束", "This campaign is already closed"),
    # a refusal of the use case the page calls (fieldapp/users.py, campaigns.py), in Chinese as it came
    ("admin_refused", "invalid", 422, "{reason}", "{reason}"),
    # -- roster files (sync/roster_file.py: roster import, the upload page, dedup check) ------
    ("roster_file_missing", "invalid", 422, "文件不存在：{path}", "File not found: {path}"),
    ("roster_old_excel", "invalid", 422, "不支持旧版 Excel（.xls）文件，请在 Excel 中另存为 .xlsx 或 CSV（UTF-8）后再导入",
     "Old Excel (.xls) files are not supported; save the file in Excel as .xlsx or CSV (UTF-8) and import it again"),
    ("roster_unknown_encoding", "invalid", 422, "无法识别文件编码：请保存为 CSV（UTF-8）或 Excel（.xlsx）",
     "Cannot detect the file encoding: save it as CSV (UTF-8) or Excel (.xlsx)"),
    ("roster_bad_excel", "invalid", 422, "无法读取 Excel 文件：{error}", "Cannot read the Excel file: {error}"),
    ("roster_bad_csv", "invalid", 422, "无法读取 CSV 文件：{error}", "Cannot read the CSV file: {error}"),
    ("roster_too_unpacked", "invalid", 422, "Excel 文件解压后有 {mb} MB，超过上限 {max} MB：请分批导入",
     "The Excel file unpacks to {mb} MB, over the limit of {max} MB: import it in parts"),
    ("roster_zip_ratio", "invalid", 422, "Excel 文件的 {part} 压缩比异常（{ratio} 倍），不像正常的表格，未导入",
     "The Excel file's {part} is compressed abnormally ({ratio} times); it does not look like a normal "
     "spreadsheet and was not imported"),
    ("roster_no_header", "invalid", 422,
     "找不到表头：前10行中没有包含“户编号、乡镇、村、村民小组、户主姓名、户主身份证号、家庭人口数、户类型”等列名的行",
     'Header row not found: none of the first 10 rows contains column names such as "户编号", "乡镇", "村", '
     '"村民小组", "户主姓名", "户主身份证号", "家庭人口数", "户类型" (household code, town, village, village group, '
     "head of household, head's ID number, household size, household type)"),
    ("roster_columns_missing", "invalid", 422, "缺少必填列：{columns}", "Missing required columns: {columns}"),
    ("roster_match_columns_missing", "invalid", 422, "缺少列：{columns}", "Missing columns: {columns}"),
    ("roster_member_columns_missing", "invalid", 422, "家庭成员表缺少必填列：{columns}",
     "The members sheet lacks required columns: {columns}"),
    ("roster_columns_repeated", "invalid", 422, "列重复：{columns}", "Duplicate columns: {columns}"),
    ("roster_too_many_rows", "invalid", 422, "花名册超过 {max} 行：请分批导入（上限见 FIELDAPP_ROSTER_MAX_ROWS）",
     "The roster has more than {max} rows: import it in parts (the limit is FIELDAPP_ROSTER_MAX_ROWS)"),
    # -- nodes of the central tier (fieldapp node ...) --------------------------------------
    ("node_name_invalid", "invalid", 422, "节点名称只能用小写字母、数字、- 和 _（最多40个字符），例如 baoan",
     "A node name takes lower-case letters, digits, - and _ (at most 40 characters), e.g. baoan"),
    ("node_town_missing", "invalid", 422, "请用 --town 指定该节点所属的乡镇", "Name the node's town with --town"),
    ("node_exists", "conflict", 409, "节点已存在：{name}", "The node already exists: {name}"),
    ("town_has_node", "conflict", 409, "乡镇 {town} 已有节点", "The town {town} already has a node"),
    ("node_not_found", "not_found", 404, "节点不存在：{name}", "No such node: {name}"),
    # -- villages' 村委会 positions (fieldapp/villages.py: fieldapp village locate, /admin/villages)
    ("village_not_found", "not_found", 404, "村不存在：{name}", "No such village: {name}"),
    ("village_ambiguous", "invalid", 422, "多个乡镇都有{name}，请写成 乡镇/村，例如 {town}/{name}",
     "Several towns have a village {name}; write it TOWN/VILLAGE, e.g. {town}/{name}"),
    ("position_incomplete", "invalid", 422, "请同时填写纬度和经度", "Enter both the latitude and the longitude"),
    ("latitude_out_of_range", "invalid", 422, "纬度应在 -90 到 90 之间（收到 {value}）",
     "The latitude must be between -90 and 90 (got {value})"),
    ("latitude_looks_swapped", "invalid", 422,
     "纬度应在 -90 到 90 之间（收到 {value}）：是否把纬度和经度写反了？中国境内纬度约 4 到 54，经度约 73 到 135",
     "The latitude must be between -90 and 90 (got {value}): are the latitude and the longitude swapped? "
     "In China the latitude is about 4 to 54, the longitude about 73 to 135"),
    ("longitude_out_of_range", "invalid", 422, "经度应在 -180 到 180 之间（收到 {value}）",
     "The longitude must be between -180 and 180 (got {value})"),
    # -- dedup (fieldapp dedup run) ---------------------------------------------------------
    ("dedup_campaign_not_found", "not_found", 404, "排查活动不存在：{campaign_id}", "No such campaign: {campaign_id}"),
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
