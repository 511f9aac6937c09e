"""The roster import use case: one transaction, all-or-nothing, idempotent, audited.

Flow: read the file → check every row (``validate.check_rows``) → if any row
is bad and bad rows are not to be skipped, stop and report them all, having
written nothing → else, in one write transaction: create the missing towns,
villages and groups, match rows to households on (town, 户编号), insert the
new ones and update the changed ones in bulk, take one change number per
written household, record one audit entry, commit.

Idempotency: a re-import compares each row with the household's *roster*
values, i.e. for each field the value of the latest roster revision that
changed it. A field a worker corrected in the field since is therefore left
alone unless the roster itself now says something new, and re-importing the
same file writes nothing at all.

Speed: rows are written with ``session.execute(insert(Model), [dict, ...])``
in chunks (executemany), never as ORM objects one by one; 100,000 rows take a
few seconds on SQLite (bench/roster_import.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from fieldapp import audit
from fieldapp.db.changes import next_change
from fieldapp.db.engine import begin_write
from fieldapp.households import write_households
from fieldapp.models import (
    HOUSEHOLD_FIELDS,
    Household,
    HouseholdRevision,
    Town,
    User,
    Village,
    VillageGroup,
    new_uuid,
    utcnow,
)
from fieldapp.roster.members import check_members, store_members
from fieldapp.roster.reader import RawRow, configured_limits, read_members, read_roster
from fieldapp.roster.validate import Problem, RosterRecord, RowError, check_rows
from sync.households import HouseholdWriter
from sync.normalize import group_number
from sync.store import HouseholdChanges, HouseholdState, NewHousehold

ProgressFn = Callable[[str, int, int], None]
"""``progress(stage, done, total)``; stages: ``read`` (XLSX only), ``check``, ``write``."""

CHUNK = 5000
ID_CHUNK = 900  # bound parameters per look-up (SQLite's old limit is 999)


@dataclass
class ImportResult:
    source: str
    total_rows: int
    errors: list[RowError] = field(default_factory=list)
    imported: bool = False
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    merged_skipped: int = 0
    towns_created: list[str] = field(default_factory=list)
    villages_created: list[str] = field(default_factory=list)
    groups_created: int = 0
    members_households: int = 0  # households whose members the members sheet wrote
    error_count: int = 0  # set by keep_errors: every bad row, when ``errors`` lists only the first

    @property
    def bad_rows(self) -> int:
        return max(self.error_count, len(self.errors))

    @property
    def good_rows(self) -> int:
        return self.total_rows - self.bad_rows

    def view(self) -> dict[str, Any]:
        """The outcome as plain data, as the upload page shows it (kept by a background job)."""
        return {"summary": self.summary(), "imported": self.imported, "total_rows": self.total_rows,
                "created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "villages_created": self.villages_created, "bad_rows": self.bad_rows,
                "errors": [{"message": e.message} for e in self.errors]}

    def keep_errors(self, limit: int | None) -> None:
        """Keep the first ``limit`` bad rows (in file order) and count them all."""
        self.errors.sort(key=lambda e: e.number)
        self.error_count = len(self.errors)
        if limit is not None:
            del self.errors[limit:]

    def summary(self) -> str:
        """One Chinese line for the CLI and the admin page."""
        if not self.imported and not self.errors:
            return _("文件中没有数据行，未导入")
        if not self.imported:
            return _("未导入：%(bad)s 行有错误（共 %(rows)s 行），没有写入任何数据",
                     bad=self.bad_rows, rows=self.total_rows)
        text = _("已导入 %(rows)s 行：新增 %(created)s 户，更新 %(updated)s 户，未变化 %(unchanged)s 户",
                 rows=self.good_rows, created=self.created, updated=self.updated,
                 unchanged=self.unchanged)
        if self.merged_skipped:
            text += _("，已合并户 %(n)s 户未更新", n=self.merged_skipped)
        if self.errors:
            text += _("；跳过有错误的 %(n)s 行", n=self.bad_rows)
        return text


def import_roster(path: str | Path, skip_bad_rows: bool = False, progress: ProgressFn | None = None,
                  *, user: User | None = None, session: Session | None = None,
                  today: dt.date | None = None, max_errors: int | None = None,
                  members_path: str | Path | None = None) -> ImportResult:
    """Import the roster file at ``path`` (CSV or XLSX), within ``FIELDAPP_ROSTER_MAX_ROWS``
    rows and ``FIELDAPP_ROSTER_MAX_UNPACKED_MB`` unpacked.

    :param skip_bad_rows: import the good rows even when some are bad (the bad ones are listed)
    :param progress: ``progress(stage, done, total)`` for a progress bar
    :param user: who imports (for the audit log); None from the command line
    :param max_errors: list at most this many bad rows (all are counted); None for all
    :param members_path: a members file (CSV or XLSX) keyed by 户编号; an XLSX roster's
        members sheet is found without it
    :raises RosterFileError: the file as a whole cannot be read, or is beyond the limits
    """
    path = Path(path)
    table = read_roster(path, (lambda done, total: progress("read", done, total)) if progress else None,
                        configured_limits())
    members = read_members(Path(members_path) if members_path else path, configured_limits()) \
        if members_path or path.suffix.lower() == ".xlsx" else None
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    details: dict[str, Any] = {"sha256": digest, "encoding": table.encoding}
    if members is not None:
        details["member_rows"] = len(members.rows)
    return import_rows(table.rows, skip_bad_rows, progress, user=user, session=session, today=today,
                       source=path.name, details=details, max_errors=max_errors,
                       member_rows=members.rows if members is not None else None)


def import_rows(rows: Sequence[RawRow], skip_bad_rows: bool = False, progress: ProgressFn | None = None,
                *, user: User | None = None, session: Session | None = None, today: dt.date | None = None,
                source: str = "rows", details: dict[str, Any] | None = None,
                transaction: bool = True, max_errors: int | None = None,
                member_rows: Sequence[RawRow] | None = None) -> ImportResult:
    """Import already-read rows (the demo calls this directly).

    :param transaction: False when the caller has begun the write transaction
        (``begin_write``) and will commit or roll back itself
    :param max_errors: list at most this many bad rows (all are counted); None for all
    """
    result = _import_rows(rows, skip_bad_rows, progress, user=user, session=session, today=today,
                          source=source, details=details, transaction=transaction, max_errors=max_errors,
                          member_rows=member_rows)
    result.keep_errors(max_errors)
    return result


def _import_rows(rows: Sequence[RawRow], skip_bad_rows: bool, progress: ProgressFn | None, *,
                 user: User | None, session: Session | None, today: dt.date | None, source: str,
                 details: dict[str, Any] | None, transaction: bool, max_errors: int | None,
                 member_rows: Sequence[RawRow] | None = None) -> ImportResult:
    if session is None:
        from fieldapp.extensions import db

        session = db.session()
    result = ImportResult(source=source, total_rows=len(rows))
    records, errors = check_rows(rows, today, (lambda d, t: progress("check", d, t)) if progress else None)
    members: dict[str, list[dict[str, Any]]] = {}
    if member_rows:
        codes = {_text_code(raw) for raw in rows}
        members, member_errors = check_members(member_rows, codes, today)
        errors = [*errors, *member_errors]
    result.errors = errors
    if not records:
        return result
    if transaction:
        begin_write(session)
    try:
        writer = _Writer(session, result, progress)
        # Checked even when other rows are bad, so that one run reports every bad row.
        records = writer.drop_taken_ids(records)
        result.errors.sort(key=lambda e: e.number)
        if (result.errors and not skip_bad_rows) or not records:
            if transaction:
                session.rollback()
            return result
        writer.write(records)
        if members:
            imported = {r.code for r in records}
            town_ids: dict[str, int] = {name: id_ for name, id_ in session.execute(sa.select(Town.name, Town.id))}
            town_codes: dict[str, set[int]] = {}
            for r in records:
                town_codes.setdefault(r.code, set()).add(town_ids[r.town])
            result.members_households = store_members(
                session, {c: t for c, t in town_codes.items() if c in imported}, members, utcnow())
        audit.record(session, user, "roster_import", "roster", source, details={
            **(details or {}), "rows": result.total_rows, "created": result.created,
            "updated": result.updated, "unchanged": result.unchanged,
            "merged_skipped": result.merged_skipped,
            "bad_rows": [e.number for e in result.errors][:max_errors],
            "bad_row_count": len(result.errors),
            "villages_created": result.villages_created,
            "members_households": result.members_households,
        })
        if transaction:
            session.commit()
    except BaseException:
        if transaction:
            session.rollback()
        raise
    result.imported = True
    return result


def _text_code(raw: RawRow) -> str:
    """A household row's 户编号 as the members sheet names it."""
    from fieldapp.roster.validate import _clean

    return _clean(raw.values.get("code"))


@dataclass
class _Existing:
    id: str
    village_id: int
    merged: bool
    rev: int
    values: dict[str, Any]
    roster: dict[str, Any]


class _Writer:
    """The write half of an import, inside the caller's transaction."""

    def __init__(self, session: Session, result: ImportResult, progress: ProgressFn | None) -> None:
        self.session = session
        self.result = result
        self.progress = progress
        self.existing: dict[tuple[int, str], _Existing] = {}

    # -- rules that need the database ----------------------------------------

    def drop_taken_ids(self, records: list[RosterRecord]) -> list[RosterRecord]:
        """Rows whose head ID belongs to another roster household (another 户编号) are errors.

        Also loads the households already in the file's towns (``self.existing``), which
        the write step compares against: the same-town check is done in memory, only
        other towns are looked up by ID number.
        """
        town_ids = {t.name: t.id for t in self.session.scalars(
            sa.select(Town).where(Town.name.in_({r.town for r in records})))}
        self.existing = self._existing(town_ids.values())
        in_file = {(town_ids.get(r.town), r.code) for r in records}
        owners: dict[str, tuple[int, str | None]] = {
            item.values["head_id"]: key for key, item in self.existing.items()
            if not item.merged and key not in in_file}
        # Only the ID number in SQL, the rest filtered here: with more conditions SQLite
        # may pick the merged_into_id index (IS NULL) and scan every household per look-up.
        query = sa.select(Household.head_id, Household.town_id, Household.code, Household.merged_into_id).where(
            Household.head_id.in_(sa.bindparam("ids", expanding=True)))
        same_town = set(town_ids.values())
        head_ids = [r.head_id for r in records]
        for start in range(0, len(head_ids), ID_CHUNK):
            chunk = {"ids": head_ids[start:start + ID_CHUNK]}
            for head_id, town_id, code, merged_into in self.session.execute(query, chunk):
                if code is not None and merged_into is None and town_id not in same_town:
                    owners[head_id] = (town_id, code)
        if not owners:
            return records
        kept = []
        for record in records:
            owner = owners.get(record.head_id)
            if owner is None:
                kept.append(record)
            else:
                self.result.errors.append(RowError(record.number, record.code, [
                    Problem("head_id", record.head_id, _("已是户编号 %(code)s 的户主身份证号", code=owner[1]))]))
        return kept

    # -- places ----------------------------------------------------------------

    def _places(self, records: list[RosterRecord]) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
        towns = {t.name: t.id for t in self.session.scalars(sa.select(Town))}
        for name in sorted({r.town for r in records} - set(towns)):
            town = Town(name=name)
            self.session.add(town)
            self.session.flush()
            towns[name] = town.id
            self.result.towns_created.append(name)
        villages = {(t, v.name): v.id for t, v in self.session.execute(
            sa.select(Town.name, Village).join(Village, Village.town_id == Town.id))}
        for town_name, name in sorted({(r.town, r.village) for r in records} - set(villages)):
            village = Village(town_id=towns[town_name], name=name,
                              kind="community" if name.endswith("社区") else "village")
            self.session.add(village)
            self.session.flush()
            villages[(town_name, name)] = village.id
            self.result.villages_created.append(f"{town_name}{name}")
        groups = set(self.session.execute(sa.select(VillageGroup.village_id, VillageGroup.label)))
        wanted = {(villages[(r.town, r.village)], r.group) for r in records}
        new_groups = [{"village_id": v, "label": label, "number": group_number(label)}
                      for v, label in sorted(wanted - groups)]
        if new_groups:
            self.session.execute(sa.insert(VillageGroup), new_groups)
        self.result.groups_created = len(new_groups)
        return towns, villages

    # -- households ------------------------------------------------------------

    def _existing(self, towns: Iterable[int]) -> dict[tuple[int, str], _Existing]:
        town_ids = list(towns)
        columns = [getattr(Household, name) for name in HOUSEHOLD_FIELDS]
        found: dict[tuple[int, str], _Existing] = {}
        by_id: dict[str, _Existing] = {}
        query = sa.select(Household.id, Household.town_id, Household.code, Household.village_id,
                          Household.merged_into_id, Household.rev, *columns).where(
            Household.town_id.in_(town_ids), Household.code.is_not(None))
        for row in self.session.execute(query):
            values = dict(zip(HOUSEHOLD_FIELDS, row[6:], strict=True))
            item = _Existing(row.id, row.village_id, row.merged_into_id is not None, row.rev, values, {})
            found[(row.town_id, row.code)] = item
            by_id[row.id] = item
        # At rev 1 the household still holds its first roster values; only households
        # changed since need their roster history read back.
        if any(item.rev > 1 for item in by_id.values()):
            revisions = sa.select(HouseholdRevision.household_id, HouseholdRevision.values,
                                  HouseholdRevision.changed).join(
                Household, Household.id == HouseholdRevision.household_id).where(
                Household.town_id.in_(town_ids), Household.code.is_not(None), Household.rev > 1,
                HouseholdRevision.reason == "roster").order_by(HouseholdRevision.rev)
            for household_id, values, changed in self.session.execute(revisions):
                item = by_id[household_id]
                for name in changed or ():
                    if name in values:
                        item.roster[name] = values[name]
        return found

    def write(self, records: list[RosterRecord]) -> None:
        towns, villages = self._places(records)
        existing = self.existing  # loaded by drop_taken_ids; new towns have no households yet
        now = utcnow()
        writer = HouseholdWriter(HOUSEHOLD_FIELDS)
        for record in records:
            town_id, village_id = towns[record.town], villages[(record.town, record.village)]
            current = existing.get((town_id, record.code))
            if current is None:
                writer.create(NewHousehold(id=new_uuid(), town_id=town_id, village_id=village_id,
                                           values=record.household_values(), code=record.code,
                                           source="roster"),
                              reason="roster", user_id=None, visit_uuid=None)
                continue
            if current.merged:
                self.result.merged_skipped += 1
                continue
            values = record.household_values()
            changed = {name: value for name, value in values.items()
                       if current.roster.get(name, current.values[name]) != value
                       and current.values[name] != value}
            if not changed and current.village_id == village_id:
                self.result.unchanged += 1
                continue
            state = HouseholdState(current.id, current.village_id, town_id, current.rev, dict(current.values))
            writer.revise(state, changed, reason="roster", user_id=None, visit_uuid=None)
            writer.move(state, village_id)
        changes = writer.finish()
        if not changes.count:
            return
        changes.number(next_change(self.session, changes.count))
        self._write(changes, now)
        self.result.created = len(changes.created)
        self.result.updated = len(changes.updates)

    def _write(self, changes: HouseholdChanges, now: dt.datetime) -> None:
        """In chunks, for the progress bar: each new household has one revision row."""
        created = len(changes.created)
        total = changes.count
        for start in range(0, created, CHUNK):
            write_households(self.session, HouseholdChanges(
                created=changes.created[start:start + CHUNK],
                revisions=changes.revisions[start:start + CHUNK]), now)
            if self.progress:
                self.progress("write", min(start + CHUNK, created), total)
        write_households(self.session, HouseholdChanges(
            updates=changes.updates, revisions=changes.revisions[created:]), now)
        if self.progress and changes.updates:
            self.progress("write", total, total)
