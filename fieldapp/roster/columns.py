"""The roster's columns (docs/visit-form.md, "Roster import columns") and header matching.

A header matches a column by its Chinese name, its English alias (the form's
field id) or one of a few spellings seen in real exports. Matching ignores
spaces, full-width forms, case and the ``*`` that templates put on required
columns.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field


def _l(text: str) -> str:
    """Marks a rule for translation extraction (the upload page shows it translated; the
    template file stays in Chinese)."""
    return text


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    required: bool
    synonyms: tuple[str, ...] = ()
    rule: str = ""  # what a cell must hold, in Chinese (the upload page, the template's 填写说明)
    example: str | int = ""  # the template's example row (it imports as it is)

    @property
    def display(self) -> str:
        """How error messages name the column: 户主身份证号（head_id）."""
        return f"{self.label}（{self.key}）"


COLUMNS: tuple[Column, ...] = (
    Column("code", "户编号", True, ("户码", "户编码"),
           _l("最多40个字符，同一乡镇内不能重复；纯数字的编号请把该列设为文本"), "示例-0001"),
    Column("town", "乡镇", True, ("镇", "乡", "乡镇（街道）", "乡（镇）"), _l("最多50个字符"), "保安镇"),
    Column("village", "村", True, ("行政村", "村（社区）", "村社区", "村名"),
           _l("最多50个字符；系统中还没有的村会自动新建"), "沼山村"),
    Column("group", "村民小组", True, ("组", "小组", "村民组"),
           _l("如“3组”，只写数字“3”也可以；最多20个字符"), "3组"),
    Column("hamlet", "湾", False, ("湾/自然村", "自然村", "自然村/湾"), _l("最多30个字符"), "王祖湾"),
    Column("head_name", "户主姓名", True, ("户主",),
           _l("2到20个字，只能是汉字、英文字母和“·”"), "王建国"),
    Column("head_id", "户主身份证号", True, ("户主身份证号码", "户主公民身份号码", "户主证件号码"),
           _l("18位，校验位正确，文件内不能重复；请把该列设为文本，否则 Excel 会改成科学计数法或把末位变成0"),
           "420281196803150219"),
    Column("phone", "联系电话", False, ("户联系电话", "电话", "手机号"),
           _l("11位手机号，或带区号的固定电话（如 0714-1234567）"), "13907140001"),
    Column("size", "家庭人口数", True, ("人口数", "家庭人口"), _l("1到20的整数"), 4),
    Column("labor_count", "劳动力人数", False, ("劳动力",), _l("0到20的整数，不超过家庭人口数"), 2),
    Column("category", "户类型", True, (), _l("一般农户 或 脱贫户"), "一般农户"),
    Column("monitor_type", "监测对象类别", False, ("监测类型", "监测对象类型"),
           _l("不是监测对象的留空或填“非监测对象”；否则填 脱贫不稳定户（仅脱贫户）、边缘易致贫户（仅一般农户）"
              "或 突发严重困难户"), "非监测对象"),
    Column("risk_eliminated", "风险是否已消除", False, ("是否风险消除", "风险已消除"),
           _l("监测对象必填“是”或“否”；其他户留空"), ""),
)
BY_KEY: dict[str, Column] = {c.key: c for c in COLUMNS}


def header_key(text: object) -> str:
    """The comparable form of a header cell."""
    if text is None:
        return ""
    cleaned = unicodedata.normalize("NFKC", str(text))
    cleaned = re.sub(r"[\s*＊]", "", cleaned)
    return cleaned.lower()


_LOOKUP: dict[str, str] = {}
for _column in COLUMNS:
    for _name in (_column.label, _column.key, *_column.synonyms):
        _LOOKUP[header_key(_name)] = _column.key


@dataclass
class HeaderMatch:
    """Which cell of a header row holds which column."""

    positions: dict[str, int] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    repeated: list[str] = field(default_factory=list)

    @property
    def missing(self) -> list[Column]:
        return [c for c in COLUMNS if c.required and c.key not in self.positions]

    @property
    def score(self) -> int:
        return len(self.positions)


def match_headers(cells: Sequence[object]) -> HeaderMatch:
    """Map each recognised header cell to its column key; a repeated column is reported."""
    match = HeaderMatch()
    for index, cell in enumerate(cells):
        text = header_key(cell)
        if not text:
            continue
        key = _LOOKUP.get(text)
        if key is None:
            match.ignored.append(str(cell).strip())
        elif key in match.positions:
            match.repeated.append(BY_KEY[key].display)
        else:
            match.positions[key] = index
    return match
