"""The roster template offered on the upload page: the Chinese headers (required ones
marked ``*``, which header matching ignores), one example row that imports as it is, and,
in the XLSX, a second sheet 填写说明 with each column's rule and a third, 家庭成员 (the
optional members sheet, one example member). The text columns are
formatted as text, so that an ID number typed into Excel keeps its 18 digits.

The columns themselves are ``sync.roster_file.COLUMNS``; :data:`RULES` says in Chinese
what each must hold (docs/visit-form.md, "Roster import columns"), for the page and the
template's rules sheet, and :data:`EXAMPLES` fills the example row.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from fieldapp.roster.writer import NUMERIC
from sync.roster_file import COLUMNS, MEMBER_COLUMNS, Column


def _l(text: str) -> str:
    """Marks a rule for translation extraction (the upload page shows it translated; the
    template file stays in Chinese)."""
    return text


RULES: dict[str, str] = {
    "code": _l("最多40个字符，同一乡镇内不能重复；纯数字的编号请把该列设为文本"),
    "town": _l("最多50个字符"),
    "village": _l("最多50个字符；系统中还没有的村会自动新建"),
    "group": _l("如“3组”，只写数字“3”也可以；最多20个字符"),
    "hamlet": _l("最多30个字符"),
    "head_name": _l("2到20个字，只能是汉字、英文字母和“·”"),
    "head_id": _l("18位，校验位正确，文件内不能重复；请把该列设为文本，否则 Excel 会改成科学计数法或把末位变成0"),
    "phone": _l("11位手机号，或带区号的固定电话（如 0714-1234567）"),
    "size": _l("1到20的整数"),
    "labor_count": _l("0到20的整数，不超过家庭人口数"),
    "category": _l("一般农户 或 脱贫户"),
    "monitor_type": _l("不是监测对象的留空或填“非监测对象”；否则填 脱贫不稳定户（仅脱贫户）、边缘易致贫户（仅一般农户）"
                       "或 突发严重困难户"),
    "risk_eliminated": _l("监测对象必填“是”或“否”；其他户留空"),
}
EXAMPLES: dict[str, str | int] = {
    "code": "示例-0001", "town": "保安镇", "village": "沼山村", "group": "3组", "hamlet": "王祖湾",
    "head_name": "王建国", "head_id": "420281196803150219", "phone": "13907140001", "size": 4,
    "labor_count": 2, "category": "一般农户", "monitor_type": "非监测对象", "risk_eliminated": "",
}


# The members sheet (optional, XLSX template only): one example member, the example
# household's head, that imports as it is (docs/visit-form.md, "The members sheet").
MEMBER_EXAMPLE: dict[str, str | int] = {
    "code": "示例-0001", "name": "王建国", "id_number": "420281196803150219", "relation": "本人",
    "health": "健康", "disability_type": "", "disability_grade": "", "skill": "普通劳动力",
    "work": "未务工", "work_months": "", "school": "非在校生", "medical_insured": "是",
    "pension_insured": "是", "dibao": "否",
}


@dataclass(frozen=True)
class ColumnRule:
    """One column as the upload page lists it."""

    column: Column
    rule: str
    example: str | int

    @property
    def label(self) -> str:
        return self.column.label

    @property
    def required(self) -> bool:
        return self.column.required

    @property
    def names(self) -> list[str]:
        """The other names a header may use: the alias, then the synonyms."""
        return [self.column.key, *self.column.synonyms]


def column_rules() -> list[ColumnRule]:
    return [ColumnRule(c, RULES[c.key], EXAMPLES[c.key]) for c in COLUMNS]


CSV_MIMETYPE = "text/csv; charset=utf-8"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FILENAME = "花名册模板"


def headers() -> list[str]:
    return [c.label + ("*" if c.required else "") for c in COLUMNS]


def example_row() -> list[str | int]:
    return [EXAMPLES[c.key] for c in COLUMNS]


def template_csv() -> bytes:
    """UTF-8 with a BOM, so that Excel opens the Chinese headers correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers())
    writer.writerow(example_row())
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _fill_sheet(sheet: Any, columns: Sequence[Column], header: list[str], example: list[Any], *,
                wide: tuple[str, ...]) -> None:
    """A header row in bold and one example row; text columns formatted as text (so that
    Excel keeps an ID number's digits), the header frozen."""
    sheet.append(header)
    sheet.append(example)
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = 22 if column.key in wide else 14
        sheet.cell(row=1, column=index).font = Font(bold=True)
        if column.key not in NUMERIC:
            sheet.column_dimensions[letter].number_format = "@"
            sheet.cell(row=2, column=index).number_format = "@"
    sheet.freeze_panes = "A2"


def template_xlsx() -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook has its first sheet
    sheet.title = "花名册"
    _fill_sheet(sheet, COLUMNS, headers(), example_row(), wide=("head_id", "code"))
    rules = book.create_sheet("填写说明")
    rules.append(["列名", "必填", "填写要求", "示例"])
    for item in column_rules():
        rules.append([item.label, "是" if item.required else "否", item.rule, str(item.example)])
    for letter, width in (("A", 16), ("B", 8), ("C", 80), ("D", 22)):
        rules.column_dimensions[letter].width = width
    _fill_sheet(book.create_sheet("家庭成员"), MEMBER_COLUMNS,
                [c.label + ("*" if c.required else "") for c in MEMBER_COLUMNS],
                [MEMBER_EXAMPLE[c.key] for c in MEMBER_COLUMNS], wide=("id_number", "code"))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
