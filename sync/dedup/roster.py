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
is the point.

A million rows are read column by column as they stream by (a list per column,
each repeated value held once), then turned into records in one pass.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path

from sync.dedup.gazetteer import Gazetteer
from sync.dedup.gcpause import cyclic_gc_paused
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
    with cyclic_gc_paused():
        return _read(path)


def _read(path: Path) -> RosterRows:
    columns: list[list[object]] = [[] for _ in _KEYS]
    appends = [column.append for column in columns]
    numbers: list[int] = []
    with open_roster(path, MATCHING_NEEDS) as source:
        positions = source.header.positions
        width = max(positions.values()) + 1
        pad = width + 1  # the last cell stands for every column the file lacks
        pick = itemgetter(*(positions.get(key, width) for key in _KEYS))
        for number, cells in source.lines:
            if len(cells) < pad:
                cells = [*cells, *([""] * (pad - len(cells)))]
            for append, value in zip(appends, pick(cells), strict=True):
                append(value)
            numbers.append(number - source.header_row)
        text_cells = source.encoding != "xlsx"
    label, town, village, group, hamlet, name, head_id, phone, size = (
        [str(value).strip() for value in column] if text_cells else [cell_text(value) for value in column]
        for column in columns)
    del columns
    labels = [given or str(number) for given, number in zip(label, numbers, strict=True)]
    return RosterRows(labels, _records(labels, town, village, group, hamlet, name, head_id, phone, size))


def _records(labels: list[str], town: list[str], village: list[str], group: list[str], hamlet: list[str],
             name: list[str], head_id: list[str], phone: list[str], size: list[str]) -> list[HouseholdRecord]:
    gazetteer = Gazetteer(Counter(village))
    town_ids: dict[str, int] = {}
    place_ids: dict[tuple[str, str], int] = {}  # (town, canonical village) -> village id
    village_ids: dict[tuple[str, str], int | None] = {}  # (town, village as written) -> village id
    for key in dict.fromkeys(zip(town, village, strict=True)):
        place = gazetteer.canonical(key[1]) if key[1] else ""
        village_ids[key] = place_ids.setdefault((key[0], place), len(place_ids) + 1) if place else None
        if key[0]:
            town_ids.setdefault(key[0], len(town_ids) + 1)
    shared: dict[str, str] = {}  # places repeat thousands of times: one string object each
    return list(map(
        HouseholdRecord,
        labels,
        [village_ids[key] for key in zip(town, village, strict=True)],
        name, head_id,
        [value or None for value in phone],
        [shared.setdefault(value, value) if value else None for value in group],
        [shared.setdefault(value, value) if value else None for value in hamlet],
        [int(value) if value.isdigit() else None for value in size],
        [town_ids.get(value) for value in town],
    ))
