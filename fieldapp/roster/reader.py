"""Reading a roster file for the import: :mod:`sync.roster_file` (the one reader,
shared with ``dedup check``) asked for the columns the import needs, its
errors shown in the user's language."""

from __future__ import annotations

from pathlib import Path

from flask_babel import gettext

from sync.roster_file import (
    IMPORT_NEEDS,
    RawRow,
    ReadProgress,
    RosterFileError,
    RosterTable,
    read_table,
)

__all__ = ["RawRow", "RosterFileError", "RosterTable", "read_roster"]


def read_roster(path: str | Path, progress: ReadProgress | None = None) -> RosterTable:
    """Read ``path``; raises :class:`RosterFileError` with a message in the user's language.

    :param progress: ``progress(rows_read, rows_in_sheet)`` while an XLSX file is read
        (the slow case; a CSV file is parsed in a moment)
    """
    try:
        return read_table(path, IMPORT_NEEDS, progress)
    except RosterFileError as exc:
        raise exc.translate(gettext) from exc
