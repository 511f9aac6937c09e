"""Showing form values to a supervisor: labels instead of codes, masked identifiers."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from rapidfuzz import fuzz

from fieldapp.models import Household
from sync.form import Field, FormDefinition, load_form
from sync.form_types import png_payload
from sync.idnumber import mask_id, mask_phone, normalize_id
from sync.normalize import normalize_group

MASKED_TYPES = {"id18": mask_id, "phone": mask_phone}
MASKED_KEYS = {"head_id": mask_id, "phone": mask_phone}
FLAG_IDS = ("below_monitoring_line", "below_10k", "guarantee_gap", "needs_attention")
SYNC_LABELS = {"accepted": "已接收", "conflict": "有冲突", "duplicate_suspected": "疑似重复",
               "already_received": "重复上传", "rejected": "被拒绝"}
REVIEW_LABELS = {"pending": "待审核", "approved": "已通过", "returned": "已退回", "superseded": "已更正"}
ACTION_LABELS = {
    "visit_approve": "审核通过", "visit_return": "退回", "conflict_resolve": "解决冲突",
    "household_merge": "合并户", "merge_undo": "撤销合并", "candidate_dismiss": "排除重复",
    "login": "登录", "export": "导出", "report_export": "导出报表",
    "user_create": "新建用户", "user_update": "修改用户", "user_villages": "分配村",
    "password_reset": "重置密码", "token_issue": "设备登录", "token_revoke": "设备退出",
    "campaign_create": "新建排查活动", "campaign_activate": "启用排查活动",
    "campaign_deactivate": "停用排查活动", "campaign_close": "关闭排查活动",
    "roster_import": "导入花名册", "dedup_run": "批量查重", "purge": "清除数据", "sync_push": "上传",
    "sync_pull": "下载农户", "village_locate": "设置村委会位置",
    "image_view": "查看签字图片", "household_reveal": "查看完整身份证号和电话",
}


def form_for(version: str) -> FormDefinition:
    try:
        return load_form(version)
    except KeyError:
        return load_form()


def format_value(f: Field | None, value: Any, *, mask: bool = True) -> str:
    """One answer as the supervisor reads it: labels, 是/否, masked ID and phone."""
    if value is None or value == [] or value == "":
        return "—"
    if f is None:
        return str(value)
    if f.type == "yesno":
        return _("是") if value else _("否")
    if f.type == "choice":
        return f.choice_label(value)
    if f.type == "multi":
        return "、".join(f.choice_label(v) for v in value)
    if f.type == "image":
        return _("已签字")
    if f.type == "repeat":
        return str(_("%(n)s人", n=len(value))) if isinstance(value, list) else "—"
    if mask and f.type in MASKED_TYPES:
        return MASKED_TYPES[f.type](str(value))
    if f.type in ("money", "computed") and isinstance(value, int | float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return str(value)


def field_value(version: str, field_id: str, value: Any, *, mask: bool = True) -> str:
    return format_value(form_for(version).by_id.get(field_id), value, mask=mask)


def field_label(version: str, field_id: str) -> str:
    f = form_for(version).by_id.get(field_id)
    return f.label if f else field_id


@dataclass
class Table:
    """A repeat's records (the household members): one row per record."""

    headers: list[str]
    rows: list[list[str]]


@dataclass
class Row:
    label: str
    value: str
    image: str | None = None  # the field id of an image answer (served by review.visit_image)
    table: Table | None = None  # a repeat's records, shown as a table


def repeat_table(f: Field, records: Any, *, mask: bool = True) -> Table:
    """The records of repeat ``f`` as labels and values (ID numbers masked unless ``mask`` is false)."""
    rows = []
    for record in records if isinstance(records, list) else []:
        if isinstance(record, Mapping):
            rows.append([format_value(sub, record.get(sub.id), mask=mask) for sub in f.fields])
    return Table([sub.label for sub in f.fields], rows)


@dataclass
class Section:
    label: str
    rows: list[Row]


def household_members(household_id: str, *, mask: bool = True) -> Table | None:
    """A household's stored members (roster, last visit) as a table; None when it has none."""
    from fieldapp.extensions import db
    from fieldapp.households import MEMBERS_FORM, load_members

    records = load_members(db.session, [household_id]).get(household_id)
    if not records:
        return None
    return repeat_table(load_form(MEMBERS_FORM).by_id["members"], records, mask=mask)


def answer_sections(version: str, data: Mapping[str, Any], *, mask: bool = True) -> list[Section]:
    """Every answer of a visit, by section, by label; fields not shown on the form are left out."""
    form = form_for(version)
    sections = []
    for section in form.sections:
        rows = [Row(f.label, format_value(f, data.get(f.id), mask=mask),
                    f.id if f.type == "image" and png_payload(data.get(f.id)) is not None else None,
                    repeat_table(f, data.get(f.id), mask=mask) if f.type == "repeat" else None)
                for f in form.fields if f.section == section["id"]
                and (f.id in data and data.get(f.id) not in (None, []) or f.required is True)]
        if rows:
            sections.append(Section(section["label"], rows))
    return sections


def image_answer(version: str, data: Mapping[str, Any], field_id: str) -> bytes | None:
    """The PNG of an image answer (the drawn signature), or None if the field is no image
    of the form or holds none."""
    f = form_for(version).by_id.get(field_id)
    return png_payload(data.get(field_id)) if f is not None and f.type == "image" else None


def flag_labels(version: str, visit: Any) -> list[str]:
    """Labels of the computed flags that are set on a visit."""
    labels = {flag["id"]: flag["label"] for flag in form_for(version).flags}
    return [labels.get(name, name) for name in FLAG_IDS if getattr(visit, name, False)]


def mask_json(value: Any) -> Any:
    """A copy of an audit before/after with ID numbers and phones masked."""
    if isinstance(value, dict):
        return {k: (MASKED_KEYS[k](v) if k in MASKED_KEYS and isinstance(v, str) else mask_json(v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [mask_json(v) for v in value]
    return value


@dataclass
class Evidence:
    label: str
    value: str
    strong: bool


def pair_evidence(a: Household, b: Household) -> list[Evidence]:
    """Why two households may be one: the facts a supervisor weighs, computed fresh."""
    same_id = bool(a.head_id) and normalize_id(a.head_id) == normalize_id(b.head_id)
    similarity = fuzz.ratio(a.head_pinyin or "", b.head_pinyin or "") if (a.head_pinyin and b.head_pinyin) else 0
    same_group = normalize_group(a.group) == normalize_group(b.group)
    same_phone = bool(a.phone) and a.phone == b.phone
    return [
        Evidence(_("身份证号"), _("完全相同") if same_id else _("不同"), same_id),
        Evidence(_("姓名拼音相似度"), f"{similarity:.0f}%（{a.head_pinyin} / {b.head_pinyin}）",
                 similarity >= 85),
        Evidence(_("村"), _("同村") if a.village_id == b.village_id else _("不同村"),
                 a.village_id == b.village_id),
        Evidence(_("村民小组"), _("相同") if same_group else f"{a.group} / {b.group}", same_group),
        Evidence(_("联系电话"), _("相同") if same_phone else _("不同"), same_phone),
        Evidence(_("家庭人口数"), f"{a.size} / {b.size}", a.size == b.size),
    ]


def pretty(value: Any) -> str:
    """An audit before/after as readable, masked JSON (Chinese kept as is)."""
    if value is None:
        return "—"
    return json.dumps(mask_json(value), ensure_ascii=False, indent=1, sort_keys=True, default=str)


# Decision conflicts (central and the town decided differently): what each side decided.
DECISION_KINDS = {
    "visit_review": "走访审核", "conflict_resolve": "冲突处理", "candidate_dismiss": "排除疑似重复户",
    "household_merge": "合并疑似重复户", "merge_undo": "撤销合并", "household_merge_away": "跨镇合并",
    "household_absorb": "跨镇合并", "household_unmerge_away": "撤销跨镇合并", "household_unabsorb": "撤销跨镇合并",
}
_CANDIDATE_STATUS = {"open": "待处理", "merged": "已合并", "dismissed": "已排除", "superseded": "已失效"}


def decision_text(decision: Mapping[str, Any]) -> str:
    """One side of a decision conflict in words (the kinds' payloads of replication/downstream.py)."""
    parts: list[str] = []
    if "review_status" in decision:
        parts.append(_(REVIEW_LABELS.get(decision["review_status"], decision["review_status"])))
        if decision.get("review_comment"):
            parts.append(_("意见：%(text)s", text=decision["review_comment"]))
    if "value" in decision:
        value, mask = decision["value"], MASKED_KEYS.get(str(decision.get("field")))
        value = "—" if value in (None, "") else (mask(str(value)) if mask else value)
        parts.append(_("取值：%(value)s", value=value))
    if "status" in decision:
        parts.append(_(_CANDIDATE_STATUS.get(decision["status"], decision["status"])))
    if decision.get("merged_into_id") or decision.get("survivor_id"):
        parts.append(_("并入户 %(id)s", id=decision.get("merged_into_id") or decision.get("survivor_id")))
    text = "，".join(parts)
    if decision.get("by"):
        text += _("（%(name)s）", name=decision["by"])
    return text
