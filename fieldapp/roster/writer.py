"""Writing a roster file with the import's Chinese headers (demo, tests, benchmarks).

CSV is written in UTF-8 with BOM by default (so Excel opens the Chinese text
correctly), or in any encoding asked for (GB18030 for the old Excel habit).
XLSX cells are written as text, except the counts, so that ID numbers and
户编号 survive a round trip through Excel.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from pathlib import Path

from sync.roster_file import COLUMNS, MEMBER_COLUMNS

NUMERIC = {"size", "labor_count", "work_months"}


def write_roster(path: str | Path, rows: Iterable[Mapping[str, object]], *, encoding: str = "utf-8-sig",
                 headers: str = "label", members: Iterable[Mapping[str, object]] | None = None) -> Path:
    """Write ``rows`` (dicts keyed by column key) to ``path``; the suffix picks CSV or XLSX.

    :param headers: ``label`` for the Chinese names, ``key`` for the English aliases
    :param members: rows of the members sheet (XLSX only: a CSV roster's members are
        a file of their own, :func:`write_members`)
    """
    path = Path(path)
    names = [c.label if headers == "label" else c.key for c in COLUMNS]
    keys = [c.key for c in COLUMNS]
    if path.suffix.lower() == ".xlsx":
        _write_xlsx(path, names, keys, rows, members)
        return path
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(names)
        for row in rows:
            writer.writerow(["" if row.get(k) is None else row.get(k) for k in keys])
    return path


def write_members(path: str | Path, rows: Iterable[Mapping[str, object]], *,
                  encoding: str = "utf-8-sig") -> Path:
    """A members file (家庭成员) in CSV, keyed by 户编号."""
    path = Path(path)
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([c.label for c in MEMBER_COLUMNS])
        for row in rows:
            writer.writerow(["" if row.get(c.key) is None else row.get(c.key) for c in MEMBER_COLUMNS])
    return path


def _write_xlsx(path: Path, names: list[str], keys: list[str], rows: Iterable[Mapping[str, object]],
                members: Iterable[Mapping[str, object]] | None = None) -> None:
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("花名册")
    _append(sheet, names, keys, rows)
    if members is not None:
        _append(workbook.create_sheet("家庭成员"), [c.label for c in MEMBER_COLUMNS],
                [c.key for c in MEMBER_COLUMNS], members)
    workbook.save(path)


def _append(sheet: object, names: list[str], keys: list[str], rows: Iterable[Mapping[str, object]]) -> None:
    sheet.append(names)  # type: ignore[attr-defined]
    for row in rows:
        cells: list[object] = []
        for key in keys:
            value = row.get(key)
            if value is None or value == "":
                cells.append(None)
            elif key in NUMERIC and isinstance(value, int | str) and str(value).isdigit():
                cells.append(int(value))
            else:
                cells.append(str(value))
        sheet.append(cells)  # type: ignore[attr-defined]
