"""The audit log as people read it: one Chinese sentence per entry, the changed fields by
their labels (ID numbers and phones masked), instead of the stored JSON.

The names a sentence needs (users, households, campaigns, devices) are loaded once for a
page of entries (:func:`load_names`). An action this module does not know still gets a
sentence: its label (or code) and the object.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext
from sqlalchemy.orm import Session

from fieldapp import devices
from fieldapp.models import AuditLog, Campaign, Conflict, DeviceToken, Household, User, Visit
from fieldapp.reports.exports import FLAG_TITLES
from fieldapp.review import display
from sync.form import DEFAULT_VERSION


def _(text: str, **variables: Any) -> str:
    """gettext, typed."""
    return str(gettext(text, **variables))


def _l(text: str) -> str:
    """Marks text for extraction; it is translated when a sentence is built, in the request."""
    return text


FORM_VERSION = DEFAULT_VERSION  # household field labels: the same in every form version so far
ROLE_LABELS = {"worker": _l("网格员"), "supervisor": _l("审核员"), "admin": _l("管理员")}
FORMAT_LABELS = {"xlsx": "Excel", "csv": "CSV", "json": "JSON", "sqlite": "SQLite"}
# Keys of before/after images that are not form fields, by label.
KEY_LABELS = {
    "review_status": _l("审核状态"), "review_comment": _l("审核意见"), "display_name": _l("姓名"), "role": _l("角色"),
    "active": _l("启用"), "villages": _l("负责的村"), "status": _l("状态"),
    "name": _l("名称"), "start": _l("开始日期"), "end": _l("结束日期"), "monitoring_line": _l("监测范围（元）"),
    "form_version": _l("表单版本"), "closed": _l("已结束"), "username": _l("用户名"),
}
# Bookkeeping, and what the sentence already says (a reset password, a revoked token).
HIDDEN_KEYS = frozenset({"household_rev", "change_seq", "rev", "merged_into_id", "village_id", "password",
                         "revoked"})
CANDIDATE_STATUS = {"open": _l("待处理"), "dismissed": _l("已排除"), "merged": _l("已合并"), "superseded": _l("已失效")}


@dataclass(frozen=True)
class Change:
    label: str
    before: str
    after: str


@dataclass
class Line:
    sentence: str
    changes: list[Change] = field(default_factory=list)


@dataclass
class Names:
    """What the sentences of one page refer to, loaded in a few queries."""

    users: dict[int, User] = field(default_factory=dict)
    households: dict[str, Household] = field(default_factory=dict)
    visit_households: dict[str, str] = field(default_factory=dict)
    conflict_households: dict[int, str] = field(default_factory=dict)
    campaigns: dict[str, str] = field(default_factory=dict)
    tokens: dict[int, DeviceToken] = field(default_factory=dict)

    def user(self, user_id: object) -> str:
        user = self.users.get(int(str(user_id))) if str(user_id).isdigit() else None
        if user is None:
            return _("用户%(id)s", id=user_id)
        if user.display_name and user.display_name != user.username:
            return f"{user.display_name}（{user.username}）"
        return user.username

    def household(self, household_id: object, *, which: bool = False) -> str:
        found = self.households.get(str(household_id))
        if found is None:
            return _("一户")
        name = _("%(name)s户", name=found.head_name)
        if which:
            name += f"（{found.code}）" if found.code else _("（走访新增）")
        return name

    def campaign(self, campaign_id: object) -> str:
        return self.campaigns.get(str(campaign_id), str(campaign_id))


def _map(value: object) -> dict[str, Any]:
    """A stored before/after/details image as a dict (None and anything else: empty)."""
    return value if isinstance(value, dict) else {}


def _ints(values: Iterable[object]) -> list[int]:
    return sorted({int(str(v)) for v in values if v is not None and str(v).isdigit()})


def load_names(session: Session, entries: Sequence[AuditLog]) -> Names:
    names = Names()
    by_type: dict[str, list[str]] = {}
    for entry in entries:
        by_type.setdefault(entry.object_type, []).append(entry.object_id or "")
    details = [_map(entry.details) for entry in entries]
    visit_uuids = by_type.get("visit", [])
    if visit_uuids:
        names.visit_households = dict(session.execute(
            sa.select(Visit.uuid, Visit.household_id).where(Visit.uuid.in_(visit_uuids))).all())
    conflict_ids = _ints(by_type.get("conflict", []))
    if conflict_ids:
        names.conflict_households = dict(session.execute(
            sa.select(Conflict.id, Conflict.household_id).where(Conflict.id.in_(conflict_ids))).all())
    household_ids = {*by_type.get("household", []), *names.visit_households.values(),
                     *names.conflict_households.values()}
    for d in details:
        household_ids.update(str(d[k]) for k in ("household_id", "household_a_id", "household_b_id",
                                                  "survivor_id", "merged_id") if d.get(k))
    if household_ids:
        names.households = {h.id: h for h in session.scalars(
            sa.select(Household).where(Household.id.in_(sorted(household_ids))))}
    user_ids = _ints([*by_type.get("user", []), *(d.get("user_id") for d in details)])
    if user_ids:
        names.users = {u.id: u for u in session.scalars(sa.select(User).where(User.id.in_(user_ids)))}
    names.campaigns = dict(session.execute(sa.select(Campaign.id, Campaign.name)).all())
    token_ids = _ints(by_type.get("device_token", []))
    if token_ids:
        names.tokens = {t.id: t for t in session.scalars(sa.select(DeviceToken).where(DeviceToken.id.in_(token_ids)))}
    return names


# -- values and changes ----------------------------------------------------------


def _value(key: str, value: Any) -> str:
    if key in display.MASKED_KEYS and isinstance(value, str):
        return display.MASKED_KEYS[key](value)
    if key == "role" and isinstance(value, str):
        return _(ROLE_LABELS.get(value, value))
    if key == "review_status" and isinstance(value, str):
        return _(display.REVIEW_LABELS.get(value, value))
    if key == "status" and isinstance(value, str):
        return _(CANDIDATE_STATUS.get(value, value))
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(value, list):
        return "、".join(str(v) for v in value) or "—"
    if key in KEY_LABELS:
        return "—" if value in (None, "") else str(value)
    return display.field_value(FORM_VERSION, key, value)


def _label(key: str) -> str:
    return _(KEY_LABELS[key]) if key in KEY_LABELS else display.field_label(FORM_VERSION, key)


def changes(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> list[Change]:
    """The keys whose values differ, by label; bookkeeping keys (revisions, change numbers) left out."""
    before, after = before or {}, after or {}
    found = []
    for key in [*before, *(k for k in after if k not in before)]:
        if key in HIDDEN_KEYS or isinstance(before.get(key), dict) or isinstance(after.get(key), dict):
            continue
        if before.get(key) != after.get(key):
            found.append(Change(_label(key), _value(key, before.get(key)), _value(key, after.get(key))))
    return found


def _image_values(image: Any) -> dict[str, Any]:
    return dict(image.get("values") or {}) if isinstance(image, dict) else {}


# -- sentences ------------------------------------------------------------------

Describe = Callable[[AuditLog, Names], Line]


def _visit_household(entry: AuditLog, names: Names) -> str:
    household_id = _map(entry.details).get("household_id") or names.visit_households.get(entry.object_id or "")
    return names.household(household_id)


def _review(verb: str) -> Describe:
    def describe(entry: AuditLog, names: Names) -> Line:
        comment = _map(entry.after).get("review_comment")
        sentence = _("%(verb)s%(household)s的走访记录", verb=_(verb), household=_visit_household(entry, names))
        if comment:
            sentence += _("，意见：%(comment)s", comment=comment)
        if _map(entry.details).get("bulk"):
            sentence += _("（批量）")
        return Line(sentence)
    return describe


def _conflict(entry: AuditLog, names: Names) -> Line:
    household_id = names.conflict_households.get(int(entry.object_id or 0)) if (entry.object_id or "").isdigit() else None
    return Line(_("解决了%(household)s的冲突", household=names.household(household_id)),
                changes(_map(entry.before), _map(entry.after)))


def _merge(entry: AuditLog, names: Names) -> Line:
    d, before, after = _map(entry.details), _map(entry.before), _map(entry.after)
    survivor = names.household(d.get("survivor_id"), which=True)
    merged = names.household(d.get("merged_id"), which=True)
    if entry.action == "merge_undo":
        return Line(_("撤销了%(merged)s并入%(survivor)s的合并", merged=merged, survivor=survivor),
                    changes(_image_values(before.get("survivor")), _image_values(after.get("survivor"))))
    moved = len(after.get("moved_visits") or [])
    return Line(_("将%(merged)s并入%(survivor)s，转入走访记录%(n)d条", merged=merged, survivor=survivor, n=moved),
                changes(_image_values(before.get("survivor")), _image_values(after.get("survivor"))))


def _dismiss(entry: AuditLog, names: Names) -> Line:
    d = _map(entry.details)
    return Line(_("排除了疑似重复：%(a)s与%(b)s不是同一户", a=names.household(d.get("household_a_id"), which=True),
                  b=names.household(d.get("household_b_id"), which=True)))


def _user(text: str) -> Describe:
    """``text`` names the user as ``%(user)s``."""
    def describe(entry: AuditLog, names: Names) -> Line:
        return Line(_(text, user=names.user(entry.object_id)), changes(_map(entry.before), _map(entry.after)))
    return describe


def _user_create(entry: AuditLog, names: Names) -> Line:
    after = _map(entry.after)
    return Line(_("新建了用户%(user)s（%(role)s）", user=after.get("username") or names.user(entry.object_id),
                  role=_value("role", after.get("role"))))


def _device(entry: AuditLog, names: Names) -> str:
    d = _map(entry.details)
    token = names.tokens.get(int(entry.object_id or 0)) if (entry.object_id or "").isdigit() else None
    name = d.get("device_name") or (token.device_name if token else None)
    return devices.describe(name) if name or token else devices.describe(None)


def _token_issue(entry: AuditLog, names: Names) -> Line:
    return Line(_("在 %(device)s 上登录了手机端", device=_device(entry, names)))


def _token_revoke(entry: AuditLog, names: Names) -> Line:
    d = _map(entry.details)
    owner = _("（用户%(user)s）", user=names.user(d["user_id"])) if d.get("user_id") else ""
    return Line(_("吊销了 %(device)s 的登录", device=_device(entry, names)) + owner)


def _campaign(verb: str) -> Describe:
    def describe(entry: AuditLog, names: Names) -> Line:
        campaigns = [names.campaign(c) for c in (entry.object_id or "").split(",") if c]
        return Line(_("%(verb)s排查活动%(name)s", verb=_(verb), name="、".join(campaigns)),
                    changes(_map(entry.before), _map(entry.after)))
    return describe


def _export(entry: AuditLog, names: Names) -> Line:
    d, kind = _map(entry.details), entry.object_id or ""
    parts = []
    if kind.startswith("follow_up:"):
        title, flag = _("跟进名单"), kind.split(":", 1)[1]
        parts.append(_(FLAG_TITLES.get(flag, flag)))
    else:
        title = {"progress": _("进度统计表"), "sqlite": _("SQLite 分析数据")}.get(kind, kind)
    parts += [FORMAT_LABELS.get(str(d.get("format")), str(d.get("format") or "")), _("%(n)s行", n=d.get("rows", 0))]
    if d.get("full_values"):
        parts.append(_("含完整身份证号和电话"))
    return Line(_("导出了%(title)s（%(what)s）", title=title, what="，".join(p for p in parts if p)))


def _roster(entry: AuditLog, names: Names) -> Line:
    d = _map(entry.details)
    sentence = _("导入了花名册 %(file)s：共%(rows)s行，新增%(created)s户，更新%(updated)s户，未变化%(unchanged)s户",
                 file=entry.object_id, rows=d.get("rows", 0), created=d.get("created", 0),
                 updated=d.get("updated", 0), unchanged=d.get("unchanged", 0))
    if d.get("bad_rows"):
        sentence += _("，跳过有错误的%(n)d行", n=len(d["bad_rows"]))
    return Line(sentence)


def _dedup(entry: AuditLog, names: Names) -> Line:
    d = _map(entry.details)
    return Line(_("在%(campaign)s中批量查重：比对%(households)s户，发现疑似重复%(pairs)s对，新增%(created)s对",
                  campaign=names.campaign(entry.object_id), households=d.get("households", 0),
                  pairs=d.get("pairs", 0), created=d.get("created", 0)))


def _village_locate(entry: AuditLog, names: Names) -> Line:
    village = str(_map(entry.details).get("village") or entry.object_id)
    position = _map(entry.after).get("position")
    if not position:
        return Line(_("清除了%(village)s的村委会位置", village=village))
    return Line(_("设置了%(village)s的村委会位置（纬度 %(lat)s，经度 %(lon)s）", village=village,
                  lat=position[0], lon=position[1]))


def _purge(entry: AuditLog, names: Names) -> Line:
    d, before = _map(entry.details), _map(entry.before)
    day = str(d.get("received_before") or "")[:10]
    return Line(_("清除了排查活动%(campaign)s中%(day)s之前接收的走访记录%(n)s条",
                  campaign=names.campaign(entry.object_id), day=day, n=before.get("visits", 0)))


def _push(entry: AuditLog, names: Names) -> Line:
    d = _map(entry.details)
    counts = "，".join(f"{_(display.SYNC_LABELS.get(k, k))}{n}" for k, n in (d.get("counts") or {}).items() if n)
    sentence = _("上传了%(n)s条走访记录", n=d.get("records", 0))
    return Line(sentence + (f"（{counts}）" if counts else ""))


def _image(entry: AuditLog, names: Names) -> Line:
    label = display.field_label(FORM_VERSION, str(_map(entry.details).get("field", "")))
    return Line(_("查看了%(household)s走访记录的%(field)s", household=_visit_household(entry, names), field=label))


def _photo_upload(entry: AuditLog, names: Names) -> Line:
    return Line(_("上传了%(household)s走访记录的入户照片", household=_visit_household(entry, names)))


def _photo_view(entry: AuditLog, names: Names) -> Line:
    return Line(_("查看了%(household)s走访记录的入户照片", household=_visit_household(entry, names)))


def _reveal(entry: AuditLog, names: Names) -> Line:
    return Line(_("查看了%(household)s的完整身份证号和电话", household=names.household(entry.object_id)))


SENTENCES: dict[str, Describe] = {
    "visit_approve": _review(_l("审核通过了")), "visit_return": _review(_l("退回了")),
    "conflict_resolve": _conflict, "household_merge": _merge, "merge_undo": _merge,
    "candidate_dismiss": _dismiss,
    "login": lambda entry, names: Line(_("登录了网页")),
    "user_create": _user_create, "user_update": _user(_l("修改了用户%(user)s")),
    "user_villages": _user(_l("修改了用户%(user)s负责的村")),
    "password_reset": _user(_l("重置了用户%(user)s的密码")),
    "token_issue": _token_issue, "token_revoke": _token_revoke,
    "campaign_create": _campaign(_l("新建了")), "campaign_activate": _campaign(_l("启用了")),
    "campaign_deactivate": _campaign(_l("停用了")), "campaign_close": _campaign(_l("结束了")),
    "export": _export, "report_export": _export, "roster_import": _roster, "dedup_run": _dedup,
    "purge": _purge, "sync_push": _push, "image_view": _image, "household_reveal": _reveal,
    "photo_upload": _photo_upload, "photo_view": _photo_view, "village_locate": _village_locate,
}


def describe(entry: AuditLog, actor: str, names: Names) -> Line:
    """The entry's sentence, ``actor`` first."""
    known = SENTENCES.get(entry.action)
    if known is None:
        label = display.ACTION_LABELS.get(entry.action)
        what = " ".join(str(part) for part in (entry.object_type, entry.object_id) if part)
        line = Line(f"{_(label) if label else entry.action}：{what}", changes(_map(entry.before), _map(entry.after)))
    else:
        line = known(entry, names)
    line.sentence = f"{actor} {line.sentence}"
    return line
