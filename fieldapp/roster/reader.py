"""Reading a roster file (CSV or XLSX) into raw rows keyed by column.

CSV: UTF-8 with or without BOM, or GB18030 (what Excel "CSV" saves on a
Chinese Windows). XLSX: the first worksheet, read with openpyxl in read-only
mode. The header row may sit below a title row (e.g. "保安镇农户花名册"):
the first of the top rows that names every required column is taken.

Row numbers are the ones a user sees in Excel: the header's row number plus
the row's offset, so "第12行" points at the right line of the sheet.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from flask_babel import gettext as _

from fieldapp.roster.columns import HeaderMatch, match_headers

HEADER_SEARCH_ROWS = 10


class RosterFileError(Exception):
    """The file as a whole cannot be read (format, encoding, missing columns)."""


@dataclass
class RawRow:
    number: int
    values: dict[str, object]


@dataclass
class RosterTable:
    rows: list[RawRow]
    header: HeaderMatch
    encoding: str
    ignored_headers: list[str] = field(default_factory=list)


def read_roster(path: str | Path, progress: Callable[[int, int], None] | None = None) -> RosterTable:
    """Read ``path``; raises :class:`RosterFileError` with a Chinese message.

    :param progress: ``progress(rows_read, rows_in_sheet)`` while an XLSX file is read
        (the slow case; a CSV file is parsed in a moment)
    """
    path = Path(path)
    if not path.is_file():
        raise RosterFileError(_("文件不存在：%(path)s", path=path))
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise RosterFileError(_("不支持旧版 Excel（.xls）文件，请在 Excel 中另存为 .xlsx 或 CSV（UTF-8）后再导入"))
    rows: Generator[Sequence[object], None, None]
    if suffix in {".xlsx", ".xlsm"} or zipfile.is_zipfile(path):
        rows, encoding = _xlsx_rows(path, progress), "xlsx"
    else:
        text, encoding = decode_csv(path.read_bytes())
        rows = _csv_rows(text)
    try:
        return _table(rows, encoding)
    finally:
        rows.close()  # closes the workbook even when the header is not found


def decode_csv(data: bytes) -> tuple[str, str]:
    """Decode CSV bytes: UTF-8 BOM, else UTF-8, else GB18030."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        raise RosterFileError(_("无法识别文件编码：请保存为 CSV（UTF-8）或 Excel（.xlsx）")) from exc


def _csv_rows(text: str) -> Generator[Sequence[object], None, None]:
    sample = text[:4096]
    delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def _xlsx_rows(path: Path, progress: Callable[[int, int], None] | None = None,
               ) -> Generator[Sequence[object], None, None]:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise RosterFileError(_("无法读取 Excel 文件：%(error)s", error=exc)) from exc
    try:
        sheet = workbook.worksheets[0]
        total = sheet.max_row or 0  # from the sheet's stored dimension; 0 when unknown
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            if progress and total and number % 2000 == 0:
                progress(min(number, total), total)
            yield row
        if progress and total:
            progress(total, total)
    finally:
        workbook.close()


def _is_blank(cells: Sequence[object]) -> bool:
    return all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells)


def _table(rows: Iterator[Sequence[object]], encoding: str) -> RosterTable:
    header: HeaderMatch | None = None
    header_number = 0
    best: HeaderMatch | None = None
    for number, cells in enumerate(rows, start=1):
        candidate = match_headers(cells)
        if best is None or candidate.score > best.score:
            best = candidate
        if candidate.score and not candidate.missing:
            header, header_number = candidate, number
            break
        if number >= HEADER_SEARCH_ROWS:
            break
    if header is None:
        if best is None or best.score == 0:
            raise RosterFileError(_("找不到表头：前10行中没有包含“户编号、乡镇、村、村民小组、户主姓名、"
                                    "户主身份证号、家庭人口数、户类型”等列名的行"))
        missing = "、".join(c.display for c in best.missing)
        raise RosterFileError(_("缺少必填列：%(columns)s", columns=missing))
    if header.repeated:
        raise RosterFileError(_("列重复：%(columns)s", columns="、".join(header.repeated)))
    positions = header.positions
    table: list[RawRow] = []
    for offset, cells in enumerate(rows, start=1):
        if _is_blank(cells):
            continue
        values = {key: (cells[index] if index < len(cells) else None) for key, index in positions.items()}
        table.append(RawRow(header_number + offset, values))
    return RosterTable(rows=table, header=header, encoding=encoding, ignored_headers=header.ignored)
