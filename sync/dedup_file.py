"""Reading a roster-format spreadsheet for ``fieldapp dedup check``.

Data shape: :func:`read_roster` returns :class:`RosterRows`: the records
(:class:`~sync.dedup.HouseholdRecord`, ``id`` = the row label) and the row
labels, in file order. A row label is the value of the optional ``id``
column, else the 1-based data row number (the header row not counted; blank
lines are skipped but keep their number, so row n is the sheet's line n + 1).

Files are CSV (UTF-8 with or without BOM, else GB18030) or XLSX (the first
sheet), with the roster columns of visit-form.md under their Chinese names or
English aliases. Nothing is refused for its content: a row with an invalid
ID number is matched on what it has, because finding such rows is the point.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from sync.dedup import HouseholdRecord

COLUMNS = {
    "户编号": "code", "乡镇": "town", "村": "village", "村民小组": "group", "湾": "hamlet",
    "户主姓名": "head_name", "户主身份证号": "head_id", "联系电话": "phone", "家庭人口数": "size",
    "户类型": "category", "监测对象类别": "monitor_type", "风险是否已消除": "risk_eliminated",
    "劳动力人数": "labor_count",
}
# Header spellings seen in the wild for the same columns.
_EXTRA = {"湾/自然村": "hamlet", "户主公民身份号码": "head_id", "身份证号": "head_id",
          "编号": "id", "行号": "id", "id": "id"}
REQUIRED = ("head_name", "head_id")


class RosterFileError(ValueError):
    """A file that cannot be read as a roster (message in Chinese)."""


@dataclass
class RosterRows:
    labels: list[str] = field(default_factory=list)
    records: list[HouseholdRecord] = field(default_factory=list)


def _header_key(raw: object) -> str | None:
    text = unicodedata.normalize("NFKC", str(raw or "")).strip().replace(" ", "")
    if text in COLUMNS:
        return COLUMNS[text]
    lowered = text.lower()
    if lowered in COLUMNS.values() or lowered == "id":
        return lowered
    return _EXTRA.get(text) or _EXTRA.get(lowered)


def _cell(value: object) -> str:
    """A cell as text; an integral float from a spreadsheet loses its ".0"."""
    if value is None:
        return ""
    if isinstance(value, float):
        # Excel keeps 15 significant digits: a long number is a mangled ID, kept visibly so.
        if abs(value) >= 1e14:
            return f"{value:E}"
        if value.is_integer():
            return str(int(value))
    return str(value).strip()


def _rows_csv(data: bytes) -> list[list[str]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise RosterFileError("无法识别文件编码：请保存为 UTF-8 或 GB18030 编码的 CSV")
    return [row for row in csv.reader(io.StringIO(text, newline=""))]


def _rows_xlsx(path: Path) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise RosterFileError(f"无法读取 Excel 文件：{exc}") from exc
    try:
        sheet = book.worksheets[0]
        return [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


def read_roster(path: Path) -> RosterRows:
    """The rows of a roster file as dedup records.

    :param path: a .csv or .xlsx file
    :raises RosterFileError: unreadable file, no header, or no name/ID column
    """
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        rows = _rows_xlsx(path)
    else:
        rows = _rows_csv(path.read_bytes())
    start = next((i for i, row in enumerate(rows) if any(c.strip() for c in row)), None)
    if start is None:
        raise RosterFileError("文件是空的：没有表头")
    rows = rows[start:]
    header = [_header_key(h) for h in rows[0]]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        labels = {v: k for k, v in COLUMNS.items()}
        raise RosterFileError("缺少列：" + "、".join(f"{labels[m]}（{m}）" for m in missing))
    index = {key: i for i, key in reversed(list(enumerate(header))) if key}
    towns: dict[str, int] = {}
    villages: dict[tuple[str, str], int] = {}
    out = RosterRows()
    for number, row in enumerate(rows[1:], 1):
        if not any(c.strip() for c in row):
            continue  # a blank line keeps its number, so labels match the sheet's lines
        def get(key: str, row: list[str] = row) -> str:
            i = index.get(key)
            return row[i].strip() if i is not None and i < len(row) else ""

        label = get("id") or str(number)
        town, village = get("town"), get("village")
        town_id = towns.setdefault(town, len(towns) + 1) if town else None
        village_id = villages.setdefault((town, village), len(villages) + 1) if village else None
        size_text = get("size")
        out.labels.append(label)
        out.records.append(HouseholdRecord(
            id=label, village_id=village_id, head_name=get("head_name"), head_id=get("head_id"),
            phone=get("phone") or None, group=get("group") or None, hamlet=get("hamlet") or None,
            size=int(size_text) if size_text.isdigit() else None, town_id=town_id,
        ))
    return out
