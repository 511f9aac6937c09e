"""Exports: the progress table and the follow-up lists as CSV (UTF-8 with BOM) and XLSX.

Every text cell that a spreadsheet could read as a formula (it begins with
``= + - @``, a tab or a carriage return) is prefixed with ``'``, so that a name
such as ``=HYPERLINK(...)`` typed on a phone stays text on the official's PC.
ID numbers and phones are masked unless the caller asks for full values (an
admin, audited: see :func:`record_export`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy.orm import Session

from fieldapp import audit, clock
from fieldapp.db import write_transaction
from fieldapp.models import User, utcnow
from fieldapp.reports.queries import FollowUp, Progress, ProgressRow
from sync.form import load_form
from sync.idnumber import mask_id, mask_phone

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CSV_MIMETYPE = "text/csv; charset=utf-8"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _l(text: str) -> str:
    """Marks a header for translation extraction; exports themselves stay in Chinese."""
    return text


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    numeric: bool = True


PROGRESS_COLUMNS: tuple[Column, ...] = (
    Column("village", _l("村（社区）"), numeric=False),
    Column("households", _l("应排查户数")),
    Column("new_households", _l("新发现户数")),
    Column("visited", _l("已排查户数")),
    Column("visited_people", _l("已排查人数")),
    Column("completion", _l("完成率（%）")),
    Column("approved", _l("审核通过户数")),
    Column("general", _l("一般农户（户）")),
    Column("general_people", _l("一般农户（人）")),
    Column("lifted", _l("脱贫户（户）")),
    Column("lifted_people", _l("脱贫户（人）")),
    Column("monitored", _l("监测对象（户）")),
    Column("monitored_people", _l("监测对象（人）")),
    Column("monitored_lifted", _l("监测对象中脱贫户（户）")),
    Column("monitored_eliminated", _l("监测对象中已消除风险（户）")),
    Column("below_monitoring_line", _l("低于监测范围（户）")),
    Column("below_10k", _l("人均纯收入低于1万元（户）")),
    Column("guarantee_gap", _l("三保障或饮水存在问题（户）")),
    Column("needs_attention", _l("建议关注（户）")),
    Column("suggest_monitor", _l("建议纳入监测（户）")),
    Column("suggest_monitor_people", _l("建议纳入监测（人）")),
    Column("suggest_eliminate", _l("建议风险消除（户）")),
    Column("suggest_eliminate_people", _l("建议风险消除（人）")),
)

# At central the tables begin with the town: village names repeat across towns.
TOWN_COLUMN = Column("town", _l("乡镇"), numeric=False)

FLAG_TITLES: dict[str, str] = {
    "below_monitoring_line": _l("低于监测范围"),
    "below_10k": _l("人均纯收入低于1万元"),
    "guarantee_gap": _l("三保障或饮水存在问题"),
    "needs_attention": _l("建议关注"),
    "suggest_monitor": _l("建议纳入监测"),
    "suggest_eliminate": _l("建议风险消除"),
}

FOLLOW_UP_HEADERS = (
    _l("村（社区）"), _l("村民小组"), _l("户编号"), _l("户主姓名"), _l("户主公民身份号码"), _l("联系电话"),
    _l("家庭人口数"), _l("户类型"), _l("监测对象类别"), _l("走访日期"), _l("网格员"), _l("人均纯收入"),
    _l("监测参考收入"), _l("排查结论"),
)


class Money(float):
    """Yuan: written with two decimals (CSV, pages) or in a 0.00 format (XLSX)."""


class Percent(float):
    """A percentage as shown (71.4): an XLSX cell holds 0.714 in a 0.0% format."""


def money(value: float | None) -> Money | None:
    return None if value is None else Money(round(value, 2))


def cell_text(value: Any) -> str:
    """A cell as text on a page or in a CSV: money with two decimals, none as empty."""
    if value is None:
        return ""
    if isinstance(value, Money):
        return f"{value:.2f}"
    return str(value)


def neutralise(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula gets a leading ``'``; numbers pass."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def progress_columns(by_town: bool) -> tuple[Column, ...]:
    """The progress table's columns: with the town first at central."""
    return (TOWN_COLUMN, *PROGRESS_COLUMNS) if by_town else PROGRESS_COLUMNS


def progress_table(progress: Progress, *, by_town: bool = False) -> tuple[list[str], list[list[Any]]]:
    """Headers and rows (the villages, then the totals row) of the progress table; ``by_town``
    (central): a 乡镇 column, and after each town's villages its 小计 row."""
    columns = progress_columns(by_town)

    def cells(row: ProgressRow) -> list[Any]:
        data = row.to_dict()
        return [Percent(data[c.key]) if c.key == "completion" else data[c.key] for c in columns]
    if not by_town:
        return [c.header for c in columns], [cells(r) for r in progress.rows] + [cells(progress.totals)]
    rows = [cells(row) for subtotal, villages in progress.by_town() for row in (*villages, subtotal)]
    return [c.header for c in columns], rows + [cells(progress.totals)]


def follow_up_table(items: Iterable[FollowUp], form_version: str, full: bool,
                    *, by_town: bool = False) -> tuple[list[str], list[list[Any]]]:
    """Headers and rows of a follow-up list; IDs and phones masked unless ``full``; with
    the town first when ``by_town`` (central)."""
    items = list(items)
    form = load_form(form_version)
    label = {name: form.by_id[name].choice_label for name in ("category", "monitor_type", "conclusion")}
    rows = [
        [i.village, i.group, i.code or "", i.head_name, i.head_id if full else mask_id(i.head_id),
         (i.phone or "") if full else mask_phone(i.phone), i.size, label["category"](i.category),
         label["monitor_type"](i.monitor_type), i.visited_on.isoformat() if i.visited_on else "",
         i.worker, money(i.per_capita_income), money(i.monitoring_income), label["conclusion"](i.conclusion)]
        for i in items
    ]
    if by_town:
        return [TOWN_COLUMN.header, *FOLLOW_UP_HEADERS], [[i.town, *row] for i, row in zip(items, rows, strict=True)]
    return list(FOLLOW_UP_HEADERS), rows


def to_csv(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """UTF-8 with a BOM (Excel then reads the Chinese correctly), CRLF line ends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in headers])
    for row in rows:
        writer.writerow([cell_text(neutralise(v)) for v in row])
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]], *,
            totals_last: bool = False, heading: str | None = None,
            exported_at: dt.datetime | None = None) -> bytes:
    """One sheet: ``heading`` and the export time (town time) above the table if given, then a
    bold frozen header (and first column), widths fitted to the text, money in a 0.00 format,
    percentages in a 0.0% one."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook has its first sheet
    sheet.title = title[:31]
    top = 0
    if heading:
        sheet.append([neutralise(heading)])
        sheet["A1"].font = Font(bold=True, size=14)
        sheet.append([f"导出时间：{clock.local_time(exported_at or utcnow())}"])
        sheet["A2"].font = Font(color="666666")
        top = 2
    sheet.append([neutralise(h) for h in headers])
    for row in rows:
        sheet.append([v / 100 if isinstance(v, Percent) else neutralise(v) for v in row])
        for cell, value in zip(sheet[sheet.max_row], row, strict=True):
            if isinstance(value, Money):
                cell.number_format = "0.00"
            elif isinstance(value, Percent):
                cell.number_format = "0.0%"
    bold = Font(bold=True)
    for cell in sheet[top + 1]:
        cell.font = bold
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        cell.fill = PatternFill("solid", fgColor="F2F2F2")
    if totals_last and rows:
        for cell in sheet[sheet.max_row]:
            cell.font = bold
    sheet.freeze_panes = f"B{top + 2}"
    for index, header in enumerate(headers, start=1):
        values = [header] + [cell_text(row[index - 1]) for row in rows]
        width = max(_display_width(v) for v in values)
        sheet.column_dimensions[get_column_letter(index)].width = min(max(width + 2, 8), 40)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _display_width(value: Any) -> int:
    """Columns in Excel units: a CJK character is about two Latin ones."""
    text = "" if value is None else str(value)
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def record_export(session: Session, user: User | None, kind: str, *, campaign_id: str,
                  export_format: str, rows: int, full: bool = False,
                  village_ids: Sequence[int] | None = None, via: str = "web",
                  extra: dict[str, Any] | None = None) -> None:
    """Write the export to the audit log in its own write transaction, and commit.

    Called after the file is built and before it is handed out: an export that
    cannot be audited is not handed out (the error propagates).
    """
    details = {"campaign": campaign_id, "format": export_format, "rows": rows, "full_values": full,
               "villages": None if village_ids is None else list(village_ids), "via": via,
               **(extra or {})}
    with write_transaction(session):
        audit.record(session, user, "export", "report", kind, details=details)
