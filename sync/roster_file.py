"""Reading a roster file (CSV or XLSX) into raw rows keyed by column: the one reader
behind ``fieldapp roster import`` and ``fieldapp dedup check``.

Files: CSV in UTF-8 (with or without BOM), UTF-16 (with its BOM) or GB18030
(what Excel "CSV" saves on a Chinese Windows), comma- or tab-separated (tab
when the first lines hold more tabs than commas: Excel's "Unicode text" is
UTF-16 and tab-separated); XLSX, the first worksheet, read with openpyxl in
read-only mode. An old .xls file is refused with advice.

Headers: a cell names a column by its Chinese name, its English alias (the
form's field id) or one of the spellings seen in real exports
(:data:`COLUMNS`, :data:`EXTRA_COLUMNS`); matching ignores spaces, full-width
forms, case and the ``*`` that templates put on required columns. The header
row may sit below a title row ("保安镇农户花名册"): the first of the top
:data:`HEADER_SEARCH_ROWS` rows that names every column the caller needs
(:class:`Needs`) is taken. A column named twice is refused.

Row numbers are the ones a user sees in Excel: the header's row number plus
the row's offset, so "第12行" points at the right line of the sheet; blank
lines are skipped but keep their number. Cells keep the type the file gave
them (text from CSV; numbers, dates, text from XLSX): each use decides.

Errors are :class:`RosterFileError`, a kind of the error catalogue
(``sync/errors.py`` KINDS) with its Chinese and English message; the web layer
shows the one of the user's language.

Limits (:class:`ReadLimits`): an upload is hostile until read. An XLSX file's
parts are checked before any is opened (their uncompressed sizes together, and
the compression ratio of each: a "zip bomb" that expands one cell to 100 MB is
refused at 100 KB); rows are counted as they stream (read-only openpyxl, never
the whole workbook in memory); a CSV field over 128 KiB is refused.
"""

from __future__ import annotations

import codecs
import csv
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree.ElementTree import ParseError

from sync.errors import SyncError

HEADER_SEARCH_ROWS = 10

ReadProgress = Callable[[int, int], None]
"""``progress(rows_read, rows_in_sheet)`` while an XLSX file is read (a CSV file is parsed in a moment)."""


class RosterFileError(SyncError, ValueError):
    """The file as a whole cannot be read (format, encoding, header, columns): a kind of
    the error catalogue; ``str(error)`` is its Chinese message (``message_en``: English)."""


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    required: bool
    synonyms: tuple[str, ...] = ()

    @property
    def display(self) -> str:
        """How error messages name the column: 户主身份证号（head_id）."""
        return f"{self.label}（{self.key}）"


COLUMNS: tuple[Column, ...] = (
    Column("code", "户编号", True, ("户码", "户编码")),
    Column("town", "乡镇", True, ("镇", "乡", "乡镇（街道）", "乡（镇）")),
    Column("village", "村", True, ("行政村", "村（社区）", "村社区", "村名")),
    Column("group", "村民小组", True, ("组", "小组", "村民组")),
    Column("hamlet", "湾", False, ("湾/自然村", "自然村", "自然村/湾")),
    Column("head_name", "户主姓名", True, ("户主",)),
    Column("head_id", "户主身份证号", True,
           ("户主身份证号码", "户主公民身份号码", "户主证件号码", "身份证号")),
    Column("phone", "联系电话", False, ("户联系电话", "电话", "手机号")),
    Column("size", "家庭人口数", True, ("人口数", "家庭人口")),
    Column("labor_count", "劳动力人数", False, ("劳动力",)),
    Column("category", "户类型", True, ()),
    Column("monitor_type", "监测对象类别", False, ("监测类型", "监测对象类型")),
    Column("risk_eliminated", "风险是否已消除", False, ("是否风险消除", "风险已消除")),
)
"""The roster's columns (visit-form.md, "Roster import columns"), in template order;
``required`` is what the import needs."""

EXTRA_COLUMNS: tuple[Column, ...] = (
    Column("id", "编号", False, ("行号",)),
)
"""Columns a roster may carry beyond the form's: ``id`` labels the rows of ``dedup check``'s output."""

BY_KEY: dict[str, Column] = {c.key: c for c in (*COLUMNS, *EXTRA_COLUMNS)}


@dataclass(frozen=True)
class Needs:
    """What one use of a roster file needs: its columns, and how a missing one is reported
    (``missing_kind``: a kind of the error catalogue with a ``{columns}`` placeholder)."""

    columns: tuple[str, ...]
    missing_kind: str


IMPORT_NEEDS = Needs(tuple(c.key for c in COLUMNS if c.required), "roster_columns_missing")
MATCHING_NEEDS = Needs(("head_name", "head_id"), "roster_match_columns_missing")


def header_key(text: object) -> str:
    """The comparable form of a header cell."""
    if text is None:
        return ""
    cleaned = unicodedata.normalize("NFKC", str(text))
    cleaned = re.sub(r"[\s*＊]", "", cleaned)
    return cleaned.lower()


_LOOKUP: dict[str, str] = {
    header_key(name): column.key
    for column in BY_KEY.values() for name in (column.label, column.key, *column.synonyms)
}


@dataclass
class HeaderMatch:
    """Which cell of a header row holds which column."""

    positions: dict[str, int] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    repeated: list[str] = field(default_factory=list)

    def missing(self, needs: Needs) -> list[Column]:
        return [BY_KEY[key] for key in needs.columns if key not in self.positions]

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
    header_row: int = 1


@dataclass(frozen=True)
class ReadLimits:
    """What one file may expand to (an upload is hostile until read).

    :param max_rows: data rows; more refuse the file (counted as it is read)
    :param max_unpacked_bytes: an XLSX file's parts together, uncompressed (their sizes
        are declared in the zip, and the zip reader never yields more than declared)
    :param max_ratio: uncompressed / compressed size of one XLSX part over 1 MiB: real
        sheets stay under about 20, a "zip bomb" reaches 1,000
    """

    max_rows: int | None = None
    max_unpacked_bytes: int | None = None
    max_ratio: float = 100.0


NO_LIMITS = ReadLimits()
_RATIO_FROM_BYTES = 1024 * 1024


@dataclass
class RosterSource:
    """An open roster file past its header row; ``lines`` reads the non-blank data lines,
    ``(sheet line number, cells)``, as they are iterated (a million-row file is never
    held whole)."""

    header: HeaderMatch
    header_row: int
    encoding: str
    lines: Iterator[tuple[int, Sequence[object]]]


def read_table(path: str | Path, needs: Needs, progress: ReadProgress | None = None,
               limits: ReadLimits = NO_LIMITS) -> RosterTable:
    """Read ``path`` into raw rows keyed by column.

    :param needs: the columns the caller cannot do without
    :param progress: ``progress(rows_read, rows_in_sheet)`` while an XLSX file is read
    :param limits: what the file may expand to (:class:`ReadLimits`)
    :raises RosterFileError: the file as a whole cannot be read (Chinese message)
    """
    with open_roster(path, needs, progress, limits) as source:
        positions = source.header.positions.items()
        rows = [RawRow(number, {key: (cells[index] if index < len(cells) else None) for key, index in positions})
                for number, cells in source.lines]
    return RosterTable(rows=rows, header=source.header, encoding=source.encoding,
                       ignored_headers=source.header.ignored, header_row=source.header_row)


@contextmanager
def open_roster(path: str | Path, needs: Needs, progress: ReadProgress | None = None,
                limits: ReadLimits = NO_LIMITS) -> Iterator[RosterSource]:
    """Open ``path``, find its header and hand out its data lines (see :func:`read_table`).

    :raises RosterFileError: the file as a whole cannot be read (also while the lines are read)
    """
    path = Path(path)
    if not path.is_file():
        raise RosterFileError("roster_file_missing", path=path)
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise RosterFileError("roster_old_excel")
    rows: Generator[Sequence[object], None, None]
    if suffix in {".xlsx", ".xlsm"} or zipfile.is_zipfile(path):
        _check_unpacked(path, limits)
        rows, encoding = _xlsx_rows(path, progress), "xlsx"
    else:
        encoding = csv_encoding(path)
        rows = _csv_rows(path, encoding)
    try:
        header, header_row = _find_header(rows, needs)
        yield RosterSource(header, header_row, encoding, _data_lines(rows, header_row, limits.max_rows))
    finally:
        rows.close()  # closes the file or the workbook, also when the header is not found


def _check_unpacked(path: Path, limits: ReadLimits) -> None:
    """Refuse an XLSX file whose parts would expand beyond ``limits``, before any is read."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise RosterFileError("roster_bad_excel", error=exc) from exc
    total = sum(part.file_size for part in parts)
    if limits.max_unpacked_bytes is not None and total > limits.max_unpacked_bytes:
        raise RosterFileError("roster_too_unpacked",
                              mb=total // 2**20, max=limits.max_unpacked_bytes // 2**20)
    for part in parts:
        if part.file_size > _RATIO_FROM_BYTES and part.file_size > limits.max_ratio * max(part.compress_size, 1):
            raise RosterFileError("roster_zip_ratio",
                                  part=part.filename, ratio=part.file_size // max(part.compress_size, 1))


def csv_encoding(path: Path) -> str:
    """The encoding of a CSV file: UTF-8 BOM, UTF-16 BOM, else UTF-8, else GB18030
    (checked over the whole file, a megabyte at a time, before anything is parsed)."""
    with path.open("rb") as handle:
        head = handle.read(3)
        if head.startswith(b"\xef\xbb\xbf"):
            return "utf-8-sig"
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            return "utf-16"
        for encoding in ("utf-8", "gb18030"):
            handle.seek(0)
            decoder = codecs.getincrementaldecoder(encoding)()
            try:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                continue
            return encoding
    raise RosterFileError("roster_unknown_encoding")


def _csv_rows(path: Path, encoding: str) -> Generator[Sequence[object], None, None]:
    with path.open(encoding=encoding, newline="") as handle:
        try:
            sample = handle.read(4096)
            handle.seek(0)
            delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
            yield from csv.reader(handle, delimiter=delimiter)
        except UnicodeDecodeError as exc:  # a UTF-16 file broken after its BOM, a UTF-8 mark on GB18030
            raise RosterFileError("roster_unknown_encoding") from exc
        except csv.Error as exc:  # a field over csv's limit (128 KiB), a NUL byte
            raise RosterFileError("roster_bad_csv", error=exc) from exc


# What a damaged workbook raises, opening it or as its sheet streams: malformed XML, an
# entity (the parser refuses external ones and caps expansion), a damaged zip member.
_BROKEN_XLSX = (ParseError, zipfile.BadZipFile, zlib.error, EOFError, KeyError, TypeError, ValueError)


def _xlsx_rows(path: Path, progress: ReadProgress | None = None) -> Generator[Sequence[object], None, None]:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, OSError, *_BROKEN_XLSX) as exc:
        raise RosterFileError("roster_bad_excel", error=exc) from exc
    try:
        sheet = workbook.worksheets[0]
        total = sheet.max_row or 0  # from the sheet's stored dimension; 0 when unknown
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            if progress and total and number % 2000 == 0:
                progress(min(number, total), total)
            yield row
        if progress and total:
            progress(total, total)
    except _BROKEN_XLSX as exc:
        if isinstance(exc, RosterFileError):  # a ValueError too
            raise
        raise RosterFileError("roster_bad_excel", error=exc) from exc
    finally:
        workbook.close()


def _is_blank(cells: Sequence[object]) -> bool:
    for cell in cells:  # a data line mostly stops at its first cell
        if cell is not None and (not isinstance(cell, str) or cell.strip()):
            return False
    return True


def _find_header(rows: Iterator[Sequence[object]], needs: Needs) -> tuple[HeaderMatch, int]:
    best: HeaderMatch | None = None
    for number, cells in enumerate(rows, start=1):
        candidate = match_headers(cells)
        if best is None or candidate.score > best.score:
            best = candidate
        if candidate.score and not candidate.missing(needs):
            if candidate.repeated:
                raise RosterFileError("roster_columns_repeated", columns="、".join(candidate.repeated))
            return candidate, number
        if number >= HEADER_SEARCH_ROWS:
            break
    if best is None or best.score == 0:
        raise RosterFileError("roster_no_header")
    raise RosterFileError(needs.missing_kind, columns="、".join(c.display for c in best.missing(needs)))


def _data_lines(rows: Iterator[Sequence[object]], header_row: int,
                max_rows: int | None = None) -> Iterator[tuple[int, Sequence[object]]]:
    count = 0
    for number, cells in enumerate(rows, start=header_row + 1):
        if not _is_blank(cells):
            if max_rows is not None and count >= max_rows:
                raise RosterFileError("roster_too_many_rows", max=max_rows)
            count += 1
            yield number, cells


def cell_text(value: object) -> str:
    """A cell as stripped text; an integral float from a spreadsheet loses its ".0", and a
    float of 15 or more digits (an ID number Excel turned into a number) is kept visibly
    mangled ("4.202810E+17"), since Excel kept only 15 significant digits of it."""
    if value is None:
        return ""
    if isinstance(value, float):
        if abs(value) >= 1e14:
            return f"{value:E}"
        if value.is_integer():
            return str(int(value))
    return str(value).strip()
