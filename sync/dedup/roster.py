"""A roster-format spreadsheet as dedup records, for ``fieldapp dedup check``.

Data shape: :func:`read_roster` returns :class:`RosterRows`: the records
(:class:`~sync.dedup.record.HouseholdRecord`, ``id`` = the row label) and the
row labels, in file order. A row label is the value of the optional ``id``
column, else the 1-based data row number (the header row not counted; blank
lines are skipped but keep their number, so with the header on the sheet's
first line row n is the sheet's line n + 1).

The file is read by :mod:`sync.roster_file`, the reader the roster import
uses, asking only for the name and ID columns. Nothing is refused for its
content: a row with an invalid ID number is matched on what it has, because
finding such rows is the point.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sync.dedup.record import HouseholdRecord
from sync.roster_file import MATCHING_NEEDS, RosterFileError, cell_text, read_table

__all__ = ["RosterFileError", "RosterRows", "read_roster"]


@dataclass
class RosterRows:
    labels: list[str] = field(default_factory=list)
    records: list[HouseholdRecord] = field(default_factory=list)


def read_roster(path: Path) -> RosterRows:
    """The rows of a roster file as dedup records.

    :param path: a CSV (comma or tab, UTF-8/UTF-16/GB18030) or XLSX file
    :raises RosterFileError: unreadable file, no header, or no name/ID column
    """
    table = read_table(path, MATCHING_NEEDS)
    towns: dict[str, int] = {}
    villages: dict[tuple[str, str], int] = {}
    out = RosterRows()
    for row in table.rows:
        text = {key: cell_text(value) for key, value in row.values.items()}
        label = text.get("id") or str(row.number - table.header_row)
        town, village = text.get("town", ""), text.get("village", "")
        size_text = text.get("size", "")
        out.labels.append(label)
        out.records.append(HouseholdRecord(
            id=label, village_id=villages.setdefault((town, village), len(villages) + 1) if village else None,
            head_name=text.get("head_name", ""), head_id=text.get("head_id", ""),
            phone=text.get("phone") or None, group=text.get("group") or None,
            hamlet=text.get("hamlet") or None, size=int(size_text) if size_text.isdigit() else None,
            town_id=towns.setdefault(town, len(towns) + 1) if town else None,
        ))
    return out
