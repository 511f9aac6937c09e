"""Reading a roster file for the import: :mod:`sync.roster_file` (the one reader,
shared with ``dedup check``) asked for the columns the import needs, its
errors shown in the user's language."""

from __future__ import annotations

from pathlib import Path

from flask import current_app

from fieldapp.errors import page_message
from sync.roster_file import (
    IMPORT_NEEDS,
    NO_LIMITS,
    RawRow,
    ReadLimits,
    ReadProgress,
    RosterFileError,
    RosterTable,
    read_table,
)

__all__ = ["RawRow", "RosterFileError", "RosterTable", "read_roster"]


def read_roster(path: str | Path, progress: ReadProgress | None = None,
                limits: ReadLimits = NO_LIMITS) -> RosterTable:
    """Read ``path``; raises :class:`RosterFileError` with a message in the user's language.

    :param progress: ``progress(rows_read, rows_in_sheet)`` while an XLSX file is read
        (the slow case; a CSV file is parsed in a moment)
    :param limits: what the file may expand to (:func:`configured_limits` for an import)
    """
    try:
        return read_table(path, IMPORT_NEEDS, progress, limits)
    except RosterFileError as exc:
        exc.args = (page_message(exc),)  # str(exc): the message in the user's language
        raise


def configured_limits() -> ReadLimits:
    """The limits of ``FIELDAPP_ROSTER_MAX_ROWS`` and ``FIELDAPP_ROSTER_MAX_UNPACKED_MB``."""
    config = current_app.config
    return ReadLimits(max_rows=int(config["ROSTER_MAX_ROWS"]),
                      max_unpacked_bytes=int(config["ROSTER_MAX_UNPACKED_MB"]) * 2**20)
