"""A roster-format spreadsheet as dedup records, for ``fieldapp dedup check``.

Data shape: :func:`read_roster` returns :class:`RosterRows`: the records
(:class:`~sync.dedup.record.HouseholdRecord`, ``id`` = the row label) and the
row labels, in file order. A row label is the value of the optional ``id``
column, else the 1-based data row number (the header row not counted; blank
lines are skipped but keep their number, so with the header on the sheet's
first line row n is the sheet's line n + 1).

The file is read by :mod:`sync.roster_file`, the reader the roster import
uses, asking only for the name and ID columns. Villages become ids through the
roster's own :class:`~sync.dedup.gazetteer.Gazetteer`, so that 沼山村委会 and
保安镇沼山村 are the same village. Nothing is refused for its content: a row
with an invalid ID number is matched on what it has, because finding such rows
is the point. A million rows are read as they stream by, each repeated value
(village, group, hamlet) held once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path

from sync.dedup.gazetteer import Gazetteer
from sync.dedup.record import HouseholdRecord
from sync.roster_file import MATCHING_NEEDS, RosterFileError, cell_text, open_roster

__all__ = ["RosterFileError", "RosterRows", "read_roster"]

_KEYS = ("id", "town", "village", "group", "hamlet", "head_name", "head_id", "phone", "size")


@dataclass
class RosterRows:
    labels: list[str] = field(default_factory=list)
    records: list[HouseholdRecord] = field(default_factory=list)


def read_roster(path: Path) -> RosterRows:
    """The rows of a roster file as dedup records.

    :param path: a CSV (comma or tab, UTF-8/UTF-16/GB18030) or XLSX file
    :raises RosterFileError: unreadable file, no header, or no name/ID column
    """
    raw: list[tuple[str, ...]] = []
    numbers: list[int] = []
    with open_roster(path, MATCHING_NEEDS) as source:
        positions = source.header.positions
        width = max(positions.values()) + 1
        pad = width + 1  # the last cell stands for every column the file lacks
        pick = itemgetter(*(positions.get(key, width) for key in _KEYS))
        text = source.encoding != "xlsx"
        shared: dict[str, str] = {}
        for number, cells in source.lines:
            if len(cells) < pad:
                cells = [*cells, *([""] * (pad - len(cells)))]
            values = pick(cells)
            if text:
                values = tuple(value.strip() for value in values)
            else:
                values = tuple(cell_text(value) for value in values)
            # Places repeat thousands of times: keep one string object for each.
            raw.append((*values[:2], *(shared.setdefault(v, v) for v in values[2:5]), *values[5:]))
            numbers.append(number - source.header_row)
    gazetteer = Gazetteer(row[2] for row in raw)
    villages: dict[tuple[str, str], int] = {}
    towns: dict[str, int] = {}
    out = RosterRows()
    for number, (label, town, village, group, hamlet, name, head_id, phone, size) in zip(numbers, raw, strict=True):
        label = label or str(number)
        place = gazetteer.canonical(village) if village else ""
        out.labels.append(label)
        out.records.append(HouseholdRecord(
            id=label, village_id=villages.setdefault((town, place), len(villages) + 1) if place else None,
            head_name=name, head_id=head_id, phone=phone or None, group=group or None, hamlet=hamlet or None,
            size=int(size) if size.isdigit() else None,
            town_id=towns.setdefault(town, len(towns) + 1) if town else None,
        ))
    return out
