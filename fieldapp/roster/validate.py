"""Checking roster rows: one :class:`RowError` per bad row, naming every problem.

Each problem names the column, the value as read and why it is wrong, in
Chinese. The rules are those of the visit form's household fields
(docs/visit-form.md), applied with the same helpers (``sync.idnumber``,
``sync.normalize``); values that Excel turned into numbers are reported as
such instead of being imported corrupted.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from flask_babel import gettext as _

from fieldapp.roster.reader import RawRow
from sync.idnumber import validate_id
from sync.normalize import (
    normalize_group,
    normalize_name,
    normalize_phone,
    normalize_text,
    phone_error,
)
from sync.roster_file import BY_KEY

_group = lru_cache(maxsize=4096)(normalize_group)

_NAME = re.compile(r"^[\u3400-\u9fffA-Za-z·]+$")
_SCIENTIFIC = re.compile(r"^\d+(\.\d+)?[eE][+-]?\d+$")

CATEGORIES = {"一般农户": "general", "一般户": "general", "general": "general",
              "脱贫户": "lifted", "lifted": "lifted"}
MONITOR_TYPES = {"": "none", "非监测对象": "none", "无": "none", "否": "none", "none": "none",
                 "脱贫不稳定户": "unstable", "unstable": "unstable",
                 "边缘易致贫户": "marginal", "marginal": "marginal",
                 "突发严重困难户": "hardship", "hardship": "hardship"}
YES_NO = {"是": True, "否": False, "true": True, "false": False, "yes": True, "no": False,
          "y": True, "n": False, "1": True, "0": False}
MONITOR_NEEDS = {"unstable": "lifted", "marginal": "general"}


def excel_id_message() -> str:
    return _("身份证号被 Excel 转成了数字（科学计数法或末位变 0），请把该列设为文本后重新填写")


def excel_code_message() -> str:
    return _("户编号被 Excel 转成了数字（科学计数法），请把该列设为文本后重新导出")


def _monitor_mismatch(monitor: str) -> str:
    if monitor == "unstable":
        return _("只有脱贫户可以是脱贫不稳定户")
    return _("只有一般农户可以是边缘易致贫户")


@dataclass(slots=True)
class RosterRecord:
    """One valid roster row, normalised to the household's column values."""

    number: int
    code: str
    town: str
    village: str
    group: str
    hamlet: str | None
    head_name: str
    head_id: str
    phone: str | None
    size: int
    labor_count: int | None
    category: str
    monitor_type: str
    risk_eliminated: bool | None

    def household_values(self) -> dict[str, Any]:
        """The form's household fields (HOUSEHOLD_FIELDS), as stored."""
        return {"head_name": self.head_name, "head_id": self.head_id, "phone": self.phone,
                "group": self.group, "hamlet": self.hamlet, "size": self.size,
                "labor_count": self.labor_count, "category": self.category,
                "monitor_type": self.monitor_type, "risk_eliminated": self.risk_eliminated}


@dataclass
class Problem:
    column: str
    value: object
    reason: str

    def describe(self) -> str:
        return f"{BY_KEY[self.column].display}“{show_value(self.value)}”：{self.reason}"


@dataclass
class RowError:
    """Everything wrong with one row; ``message`` is the one line shown to the user."""

    number: int
    code: str | None
    problems: list[Problem] = field(default_factory=list)

    @property
    def message(self) -> str:
        if self.code:
            where = _("第%(row)s行（户编号 %(code)s）", row=self.number, code=self.code)
        else:
            where = _("第%(row)s行", row=self.number)
        return f"{where}：" + "；".join(p.describe() for p in self.problems)


def show_value(value: object) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        return _("（空）")
    if isinstance(value, float):
        return f"{value:.6G}" if abs(value) >= 1e15 else repr(value)
    text = str(value).strip()
    return text if len(text) <= 40 else text[:40] + "…"


def _text(raw: object) -> str:
    """A cell as text: integers without ".0", strings stripped."""
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return "是" if raw else "否"
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw).strip()


@lru_cache(maxsize=1 << 16, typed=True)
def _clean(raw: object) -> str:
    """``normalize_text`` of a cell; cached, since towns, villages, groups and labels repeat."""
    return normalize_text(_text(raw))


def _integer(raw: object) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        return int(raw) if raw.is_integer() else None
    text = _clean(raw)
    if re.fullmatch(r"\d+(\.0+)?", text):
        return int(float(text))
    return None


class _RowChecker:
    """Checks one row, collecting problems instead of stopping at the first."""

    def __init__(self, raw: RawRow, today: dt.date) -> None:
        self.raw = raw
        self.values = raw.values
        self.today = today
        self.problems: list[Problem] = []

    def fail(self, key: str, reason: str) -> None:
        self.problems.append(Problem(key, self.values.get(key), reason))

    def required_text(self, key: str, max_len: int) -> str:
        text = _clean(self.values.get(key))
        if not text:
            self.fail(key, _("必填，不能为空"))
        elif len(text) > max_len:
            self.fail(key, _("不能超过%(n)s个字", n=max_len))
        return text

    def code(self) -> str:
        raw = self.values.get("code")
        if isinstance(raw, float) and (not raw.is_integer() or abs(raw) >= 1e15):
            self.fail("code", excel_code_message())
            return ""
        if isinstance(raw, str) and _SCIENTIFIC.match(raw.strip()):
            self.fail("code", excel_code_message())
            return ""
        return self.required_text("code", 40)

    def head_name(self) -> str:
        name = normalize_name(_text(self.values.get("head_name")))
        if not name:
            self.fail("head_name", _("必填，不能为空"))
        elif not (2 <= len(name) <= 20 and _NAME.match(name)):
            self.fail("head_name", _("只能包含汉字、“·”或字母，2–20个字"))
        return name

    def head_id(self) -> str:
        raw = self.values.get("head_id")
        check = validate_id(raw, self.today)
        if check.error is None:
            return check.value
        excel_tail = check.value.isdigit() and len(check.value) == 18 and check.value.endswith("000")
        self.fail("head_id", excel_id_message() if excel_tail else _(check.error))
        return check.value

    def phone(self) -> str | None:
        raw = self.values.get("phone")
        text = _text(raw)
        if not text:
            return None
        phone = normalize_phone(text)
        error = phone_error(phone)
        if error:
            self.fail("phone", _(error))
        return phone

    def group(self) -> str:
        raw = self.values.get("group")
        text = _text(raw)
        label = _group(f"{text}组" if text.isdigit() else text)
        if not label:
            self.fail("group", _("必填，不能为空"))
        elif len(label) > 20:
            self.fail("group", _("不能超过%(n)s个字", n=20))
        return label

    def hamlet(self) -> str | None:
        hamlet = _clean(self.values.get("hamlet"))
        if len(hamlet) > 30:
            self.fail("hamlet", _("不能超过%(n)s个字", n=30))
        return hamlet or None

    def integer(self, key: str, low: int, high: int, required: bool) -> int | None:
        raw = self.values.get(key)
        if not _text(raw):
            if required:
                self.fail(key, _("必填，不能为空"))
            return None
        number = _integer(raw)
        if number is None:
            self.fail(key, _("应为整数"))
        elif not low <= number <= high:
            self.fail(key, _("应在%(low)s–%(high)s之间", low=low, high=high))
            return None
        return number

    def choice(self, key: str, table: dict[str, Any], allowed: str) -> Any:
        text = _clean(self.values.get(key))
        value = table.get(text, table.get(text.lower()))
        if value is None:
            self.fail(key, _("应为%(allowed)s", allowed=allowed))
        return value


def check_row(raw: RawRow, today: dt.date | None = None) -> RosterRecord | RowError:
    """Validate one row; a :class:`RowError` lists every problem of that row."""
    c = _RowChecker(raw, today or dt.date.today())
    code = c.code()
    town = c.required_text("town", 50)
    village = c.required_text("village", 50)
    group = c.group()
    hamlet = c.hamlet()
    head_name = c.head_name()
    head_id = c.head_id()
    phone = c.phone()
    size = c.integer("size", 1, 20, required=True)
    labor = c.integer("labor_count", 0, 20, required=False)
    if labor is not None and size is not None and labor > size:
        c.fail("labor_count", _("不能大于家庭人口数（%(size)s）", size=size))
    category = c.choice("category", CATEGORIES, _("“一般农户”或“脱贫户”"))
    monitor = c.choice("monitor_type", MONITOR_TYPES,
                       _("空、“脱贫不稳定户”“边缘易致贫户”或“突发严重困难户”"))
    if monitor in MONITOR_NEEDS and category and MONITOR_NEEDS[monitor] != category:
        c.fail("monitor_type", _monitor_mismatch(monitor))
    eliminated: bool | None = None
    eliminated_text = _clean(c.values.get("risk_eliminated"))
    if monitor not in (None, "none"):
        if not eliminated_text:
            c.fail("risk_eliminated", _("监测对象须填写“是”或“否”"))
        else:
            eliminated = c.choice("risk_eliminated", YES_NO, _("“是”或“否”"))
    elif eliminated_text and YES_NO.get(eliminated_text.lower()) is not False:
        c.fail("risk_eliminated", _("非监测对象此列应为空"))
    if c.problems:
        return RowError(raw.number, code or None, c.problems)
    assert size is not None  # noqa: S101 - required, so set when there are no problems
    return RosterRecord(raw.number, code, town, village, group, hamlet, head_name, head_id, phone,
                        size, labor, category, monitor, eliminated)


def check_rows(rows: Sequence[RawRow], today: dt.date | None = None,
               progress: Callable[[int, int], None] | None = None,
               ) -> tuple[list[RosterRecord], list[RowError]]:
    """Validate every row, then the rules across rows (户编号 and 身份证号 unique).

    :param progress: called as ``progress(done, total)`` every 2,000 rows and at the end
    """
    today = today or dt.date.today()
    total = len(rows)
    records: list[RosterRecord] = []
    errors: list[RowError] = []
    codes: dict[tuple[str, str], int] = {}
    ids: dict[str, int] = {}
    for done, raw in enumerate(rows, start=1):
        if progress and done % 2000 == 0:
            progress(done, total)
        result = check_row(raw, today)
        if isinstance(result, RowError):
            errors.append(result)
            continue
        problems: list[Problem] = []
        first = codes.setdefault((result.town, result.code), result.number)
        if first != result.number:
            problems.append(Problem("code", result.code, _("与第%(row)s行重复（户编号在乡镇内应唯一）", row=first)))
        first = ids.setdefault(result.head_id, result.number)
        if first != result.number:
            problems.append(Problem("head_id", result.head_id, _("与第%(row)s行的户主身份证号重复", row=first)))
        if problems:
            errors.append(RowError(result.number, result.code, problems))
        else:
            records.append(result)
    if progress:
        progress(total, total)
    return records, errors
