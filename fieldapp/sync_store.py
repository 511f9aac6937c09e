"""The SQLAlchemy implementation of :class:`sync.store.Store` over fieldapp's models.

Reads are one query per kind per batch; the writes of a batch are bulk
INSERT/UPDATE statements (executemany), with no ORM unit of work: a batch of
200 visits costs a handful of round trips, not hundreds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fieldapp import audit, households
from fieldapp.access import Scoped
from fieldapp.db import changes, driver_rows
from fieldapp.db import engine as database
from fieldapp.models import (
    Campaign,
    Conflict,
    DuplicateCandidate,
    Household,
    HouseholdMember,
    HouseholdRevision,
    SyncBatch,
    Village,
    Visit,
    new_uuid,
    table_of,
)
from sync.dedup import BlockingKeys, HouseholdRecord
from sync.dedup.members import MemberOf
from sync.form import load_form
from sync.store import (
    BatchWrite,
    CampaignInfo,
    HouseholdState,
    StoredBatch,
    StoredVisit,
    VillageRef,
)

# Bound parameters per IN (...) list: SQLite allows 32,766 variables, PostgreSQL 65,535.
_CHUNK = 900
# The tables written with Core statements (a model's __table__ is typed as any FromClause).
_VISITS = table_of(Visit)
_SYNC_BATCHES = table_of(SyncBatch)
_CONFLICTS = table_of(Conflict)
_CANDIDATES = table_of(DuplicateCandidate)


def _chunks(values: Iterable[Any]) -> Iterable[list[Any]]:
    items = list(values)
    for start in range(0, len(items), _CHUNK):
        yield items[start:start + _CHUNK]


class SqlStore:
    """One batch's storage, bound to a session (the Flask-SQLAlchemy one in the app)."""

    def __init__(self, session: Session, user: Scoped | None = None) -> None:
        self.session = session
        self.user = user
        self.postgres = session.get_bind().dialect.name == "postgresql"
        self._prepared_for: BatchWrite | None = None
        self._prepared_visits: list[driver_rows.Params] = []
        self._prepared_members: households.MembersWrite | None = None

    # -- reads ---------------------------------------------------------------

    def find_batch(self, batch_id: str) -> StoredBatch | None:
        row = self.session.execute(
            sa.select(SyncBatch.id, SyncBatch.user_id, SyncBatch.received_at, SyncBatch.results,
                      SyncBatch.records_digest)
            .where(SyncBatch.id == batch_id)
        ).first()
        return None if row is None else StoredBatch(row.id, row.user_id, row.received_at, list(row.results),
                                                    row.records_digest)

    def load_campaigns(self, ids: Iterable[str]) -> dict[str, CampaignInfo]:
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        rows = self.session.scalars(sa.select(Campaign).where(Campaign.id.in_(wanted)))
        return {
            c.id: CampaignInfo(c.id, c.form_version, float(c.monitoring_line), c.start_date, c.end_date,
                               bool(c.active), bool(c.closed))
            for c in rows
        }

    def load_visits(self, uuids: Iterable[str]) -> dict[str, StoredVisit]:
        found: dict[str, StoredVisit] = {}
        for chunk in _chunks(sorted(set(uuids))):
            rows = self.session.execute(
                sa.select(Visit.uuid, Visit.household_id, Visit.village_id, Visit.worker_id,
                          Visit.sync_status, Visit.review_status).where(Visit.uuid.in_(chunk))
            )
            for row in rows:
                found[row.uuid] = StoredVisit(*row)
        return found

    def begin_write(self) -> None:
        database.begin_write(self.session)

    def load_households(self, ids: Iterable[str], *, lock: bool) -> dict[str, HouseholdState]:
        # Sorted ids, chunks in order, ORDER BY id: every batch takes the row locks
        # in the same global order, so two batches can wait on each other but never
        # in a cycle (no deadlock).
        return households.load_states(self.session, ids, lock=lock)

    def load_revisions(self, keys: Iterable[tuple[str, int]]) -> dict[tuple[str, int], dict[str, Any]]:
        wanted = sorted(set(keys))
        found: dict[tuple[str, int], dict[str, Any]] = {}
        for chunk in _chunks(wanted):
            condition = sa.tuple_(HouseholdRevision.household_id, HouseholdRevision.rev).in_(chunk)
            rows = self.session.execute(
                sa.select(HouseholdRevision.household_id, HouseholdRevision.rev, HouseholdRevision.values)
                .where(condition)
            )
            for row in rows:
                found[(row.household_id, row.rev)] = dict(row.values)
        return found

    def find_villages(self, name: str) -> list[VillageRef]:
        rows = self.session.execute(
            sa.select(Village.id, Village.name, Village.town_id).where(Village.name == name).order_by(Village.id)
        )
        return [VillageRef(*row) for row in rows]

    def find_duplicates(self, keys: BlockingKeys) -> list[HouseholdRecord]:
        """Every live household under any blocking key (exact ID, ID prefix,
        village + surname pinyin, phone)."""
        conditions: list[sa.ColumnElement[bool]] = []
        if keys.head_ids:
            conditions.append(Household.head_id.in_(sorted(keys.head_ids)))
        for prefix in sorted(keys.id_prefixes):
            conditions.append(Household.head_id.startswith(prefix, autoescape=True))
        if keys.phones:
            conditions.append(Household.phone.in_(sorted(keys.phones)))
        for village_id, surname in sorted(keys.village_surnames):
            # head_pinyin is "wang jian guo": the surname is its first syllable(s).
            conditions.append(sa.and_(
                Household.village_id == village_id,
                sa.or_(Household.head_pinyin == surname,
                       Household.head_pinyin.startswith(f"{surname} ", autoescape=True)),
            ))
        if not conditions:
            return []
        rows = self.session.execute(
            sa.select(Household.id, Household.village_id, Household.head_name, Household.head_id,
                      Household.phone, Household.group, Household.hamlet, Household.size,
                      Household.town_id)
            .where(sa.or_(*conditions), Household.merged_into_id.is_(None))
            .order_by(Household.id)
        )
        return [HouseholdRecord(*row) for row in rows]

    def find_member_households(self, id_number: str) -> list[MemberOf]:
        if not id_number:
            return []
        rows = self.session.execute(
            sa.select(HouseholdMember.household_id, HouseholdMember.name, HouseholdMember.relation)
            .join(Household, Household.id == HouseholdMember.household_id)
            .where(HouseholdMember.id_number == id_number, Household.merged_into_id.is_(None))
            .order_by(HouseholdMember.household_id)
        )
        return [MemberOf(*row) for row in rows]

    def dismissed_pairs(self, pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        wanted = sorted(set(pairs))
        found: set[tuple[str, str]] = set()
        for chunk in _chunks(wanted):
            rows = self.session.execute(
                sa.select(DuplicateCandidate.household_a_id, DuplicateCandidate.household_b_id).where(
                    sa.tuple_(DuplicateCandidate.household_a_id, DuplicateCandidate.household_b_id).in_(chunk),
                    DuplicateCandidate.status == "dismissed",
                )
            )
            found.update((row[0], row[1]) for row in rows)
        return found

    # -- writes --------------------------------------------------------------

    def reserve_changes(self, count: int) -> int:
        return changes.next_change(self.session, count)

    def prepare_rows(self, batch: BatchWrite) -> None:
        """Work out the batch's rows before the write transaction: the visits' driver
        parameters, and which households' members change (read now: the plan's
        households are checked at write time to be still at the versions it read,
        and their members change only with their version; see
        :func:`households.plan_members`)."""
        self._prepared_visits = self._visit_params(batch)
        self._prepared_members = self._plan_members(batch)
        self._prepared_for = batch

    def _visits_insert(self) -> driver_rows.RowInsert:
        return driver_rows.row_insert(_VISITS, self.session.get_bind().dialect)

    def _visit_params(self, batch: BatchWrite) -> list[driver_rows.Params]:
        insert = self._visits_insert()
        return [insert.params(_visit_row(v)) for v in batch.visits]

    def write_unnumbered(self, batch: BatchWrite) -> None:
        """The batch row and its audit entry."""
        session = self.session
        row = batch.batch
        session.execute(_SYNC_BATCHES.insert(), [{
            "id": row.id, "user_id": row.user_id, "device_id": row.device_id,
            "app_version": row.app_version, "received_at": row.received_at,
            "record_count": row.record_count, "counts": row.counts, "results": row.results,
            "records_digest": row.records_digest,
        }])
        audit.insert(session, self.user, "sync_push", "sync_batch", row.id,
                     details={"device_id": row.device_id, "records": row.record_count, "counts": row.counts})

    def write(self, batch: BatchWrite) -> None:
        """The numbered rows and what refers to them: bulk statements on the tables (Core
        executemany: no ORM unit of work, no per-row flush), in foreign-key order."""
        session = self.session
        now = batch.batch.received_at
        households.write_households(session, batch.households, now)  # first: a stale household stops the batch
        if batch.visits:
            insert = self._visits_insert()
            rows = self._prepared_visits if self._prepared_for is batch else self._visit_params(batch)
            for params, visit in zip(rows, batch.visits, strict=True):
                insert.set(params, "server_seq", visit.server_seq)
                insert.set(params, "change_seq", visit.server_seq)
            insert.execute(session.connection(), rows)
        if batch.superseded:
            visits = _VISITS
            session.execute(
                visits.update().where(visits.c.uuid == sa.bindparam("b_uuid"))
                .values(review_status="superseded", change_seq=sa.bindparam("b_seq")),
                [{"b_uuid": uuid, "b_seq": seq} for uuid, seq in batch.superseded.items()],
            )
        members = self._prepared_members if self._prepared_for is batch else None
        households.apply_members(session, members if members is not None else self._plan_members(batch), now)
        # Conflicts and candidates take their visit's change number (a town's replication feed).
        seqs = {v.uuid: v.server_seq for v in batch.visits}
        if batch.conflicts:
            session.execute(_CONFLICTS.insert(), [
                {"uid": new_uuid(), "household_id": c.household_id, "visit_uuid": c.visit_uuid,
                 "village_id": c.village_id, "field": c.field, "base_value": c.base_value,
                 "current_value": c.current_value, "incoming_value": c.incoming_value,
                 "current_rev": c.current_rev, "status": "open", "created_at": now,
                 "change_seq": seqs[c.visit_uuid]}
                for c in batch.conflicts
            ])
        if batch.candidates:
            session.execute(_CANDIDATES.insert(), [
                {"uid": new_uuid(), "household_a_id": c.household_a_id, "household_b_id": c.household_b_id,
                 "village_id": c.village_id, "campaign_id": c.campaign_id, "visit_uuid": c.visit_uuid,
                 "score": c.score, "evidence": c.evidence, "source": "ingest", "status": "open",
                 "created_at": now, "change_seq": seqs[c.visit_uuid]}
                for c in batch.candidates
            ])

    def _plan_members(self, batch: BatchWrite) -> households.MembersWrite:
        """A visit under a form with members (2024.1) gives its household's members
        (the last visit of the batch for a household wins, as it is the latest)."""
        members: dict[str, list[Any]] = {}
        sources: dict[str, str] = {}
        for visit in batch.visits:
            records = visit.data.get("members") if isinstance(visit.data, dict) else None
            if isinstance(records, list):
                members[visit.household_id] = load_form(visit.form_version).active_records("members", records)
                sources[visit.household_id] = visit.uuid
        return households.plan_members(self.session, members, source="visit", visit_uuids=sources)

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()


# Every column of a visit row: what _visit_row leaves out takes the column's default.
_VISIT_DEFAULTS = {column.key: column.default.arg if column.default is not None and column.default.is_scalar else None
                   for column in Visit.__table__.columns}


def _visit_row(v: Any) -> dict[str, Any]:
    return {
        **_VISIT_DEFAULTS,
        "uuid": v.uuid, "campaign_id": v.campaign_id, "household_id": v.household_id,
        "village_id": v.village_id, "worker_id": v.worker_id, "device_id": v.device_id,
        "batch_id": v.batch_id, "form_version": v.form_version, "base_rev": v.base_rev,
        "supersedes": v.supersedes, "started_at": v.started_at, "visited_at": v.visited_at,
        "utc_offset_minutes": _offset_minutes(v.visited_at or v.started_at),
        "visited_on": v.visited_on, "received_at": v.received_at, "server_seq": v.server_seq,
        "data": v.data, "location": v.location, "sync_status": v.sync_status,
        "review_status": "pending", "change_seq": v.server_seq, "photos_expected": v.photos_expected,
        **v.computed,
    }



def _offset_minutes(moment: dt.datetime | None) -> int | None:
    """The UTC offset the phone wrote on a time, in minutes (the stored time is UTC)."""
    offset = moment.utcoffset() if moment is not None else None
    return None if offset is None else int(offset.total_seconds() // 60)
