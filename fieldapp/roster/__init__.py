"""Household roster import (花名册导入): read CSV/XLSX, check rows, write households.

``import_roster(path, skip_bad_rows=False, progress=None)`` is the use case;
``reader``, ``validate`` and ``writer`` are its parts.
"""

from fieldapp.roster.reader import RosterFileError, read_roster
from fieldapp.roster.service import ImportResult, import_roster, import_rows
from fieldapp.roster.validate import RowError
from fieldapp.roster.writer import write_roster

__all__ = ["ImportResult", "RosterFileError", "RowError", "import_roster", "import_rows", "read_roster",
           "write_roster"]
