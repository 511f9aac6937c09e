"""The report rollups (``household_progress``, ``worker_progress``), followed incrementally.

The dashboard used to find every household's latest counting visit among all the
campaign's visits on each page view (13 s on SQLite at 1M visits). Instead the
per-household answer is kept in ``household_progress`` and the page only sums it.

Keeping it current without touching other areas' write paths: every write that
changes what a report counts sets ``change_seq`` from the pull sequence
(:mod:`fieldapp.changes`) on the rows it touches, and the rollup remembers per
campaign the change number it has followed (``report_cursors``). A refresh
recomputes exactly the households with ``households.change_seq`` or a visit's
``visits.change_seq`` above the cursor, from the same definitions as
:mod:`fieldapp.reports.queries`. The write paths, checked:

- push (``sync/ingest.py`` + ``fieldapp/sync_store.py``): new visits
  (``change_seq = server_seq``), superseded visits, new and touched households;
- approve / return (``review.services``): the visits; return also the households;
- conflict resolution: the household when a value changes (a visit's
  ``sync_status`` does not count in any report);
- merge and undo: both households and every moved visit;
- roster import (``roster.service``): inserted and updated households.

Not covered: ``fieldapp purge`` deletes visits without a change number; run
``fieldapp report rebuild`` after it (or call :func:`forget`). Rows written
without the pull sequence at all (``change_seq = 0`` while the counter has never
moved: test factories, bulk loads) are only found by a full rebuild, so while the
counter is 0 every refresh is a full rebuild.

The cursor moves to the counter's value read *before* the changed rows are read:
a writer holds the counter row until it commits (``next_change``), so every row
numbered up to that value is committed and visible; rows committed later are
numbered higher and picked up next time. Refreshes of a campaign are serialised
on its cursor row (``BEGIN IMMEDIATE`` on SQLite, ``FOR UPDATE`` on PostgreSQL),
so an older recompute never overwrites a newer one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, scoped_session

from fieldapp.changes import current_change
from fieldapp.database import begin_write
from fieldapp.models import Campaign, Household, HouseholdProgress, ReportCursor, Visit, WorkerHouseholdProgress
from fieldapp.models.base import utcnow
from fieldapp.reports.definitions import VISIT_FLAGS, counting_visit, latest_counting_visits

CHUNK = 1000


@dataclass
class Refresh:
    """What a refresh did: ``households`` recomputed (all of them when ``full``)."""

    campaign_id: str
    change_seq: int
    households: int = 0
    full: bool = False


def refresh(session: Session, campaign_id: str) -> Refresh:
    """Bring the campaign's rollups up to date and commit; cheap (two reads) when nothing changed.

    Commits the session's current transaction first (``begin_write``); call it
    with no pending changes.
    """
    session = _unscoped(session)
    cursor, current = _read_cursor(session, campaign_id), current_change(session)
    if cursor is not None and 0 < current <= cursor:
        return Refresh(campaign_id, cursor)
    if session.get(Campaign, campaign_id) is None:  # nothing to count (the page shows zeros)
        return Refresh(campaign_id, 0)
    begin_write(session)
    cursor = _lock_cursor(session, campaign_id)
    current = current_change(session)  # before reading the changed rows
    if cursor is None or current == 0:
        result = _rebuild(session, campaign_id, current)
    elif current <= cursor:
        result = Refresh(campaign_id, cursor)
    else:
        changed = _changed_households(session, campaign_id, cursor)
        for start in range(0, len(changed), CHUNK):
            _recompute(session, campaign_id, changed[start:start + CHUNK])
        result = Refresh(campaign_id, current, households=len(changed))
    session.execute(sa.update(ReportCursor).where(ReportCursor.campaign_id == campaign_id)
                    .values(change_seq=result.change_seq, refreshed_at=utcnow()))
    session.commit()
    return result


def rebuild(session: Session, campaign_id: str) -> Refresh:
    """Recompute every household of the campaign (``fieldapp report rebuild``) and commit."""
    forget(session, campaign_id)
    return refresh(session, campaign_id)


def forget(session: Session, campaign_id: str) -> None:
    """Mark the campaign's rollups stale: the next refresh rebuilds them (after deletions)."""
    session = _unscoped(session)
    begin_write(session)
    session.execute(sa.update(ReportCursor).where(ReportCursor.campaign_id == campaign_id)
                    .values(change_seq=None))
    session.commit()


def _unscoped(session: Session | scoped_session[Session]) -> Session:
    """The session itself when given ``db.session`` (``begin_write`` needs it)."""
    return session() if isinstance(session, scoped_session) else session


def _read_cursor(session: Session, campaign_id: str) -> int | None:
    value = session.scalar(sa.select(ReportCursor.change_seq).where(ReportCursor.campaign_id == campaign_id))
    return None if value is None else int(value)


def _lock_cursor(session: Session, campaign_id: str) -> int | None:
    """The cursor row, created if missing, locked until commit (PostgreSQL; SQLite holds the write lock)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(dialect.insert(ReportCursor).values(campaign_id=campaign_id, change_seq=None,
                                                        refreshed_at=utcnow())
                    .on_conflict_do_nothing(index_elements=["campaign_id"]))
    value = session.scalar(sa.select(ReportCursor.change_seq).where(ReportCursor.campaign_id == campaign_id)
                           .with_for_update())
    return None if value is None else int(value)


def _changed_households(session: Session, campaign_id: str, cursor: int) -> list[str]:
    """Households changed after ``cursor``, or with a visit of the campaign changed (both by index)."""
    households = sa.select(Household.id).where(Household.change_seq > cursor)
    visits = sa.select(Visit.household_id).where(Visit.campaign_id == campaign_id, Visit.change_seq > cursor)
    return sorted(set(session.scalars(sa.union(households, visits))))


def _rebuild(session: Session, campaign_id: str, current: int) -> Refresh:
    for table in (HouseholdProgress, WorkerHouseholdProgress):
        session.execute(sa.delete(table).where(table.campaign_id == campaign_id))
    _insert(session, campaign_id, None)
    count = session.scalar(sa.select(sa.func.count()).select_from(HouseholdProgress)
                           .where(HouseholdProgress.campaign_id == campaign_id))
    return Refresh(campaign_id, current, households=int(count or 0), full=True)


def _recompute(session: Session, campaign_id: str, household_ids: Sequence[str]) -> None:
    """Delete and insert again the rows of these households (idempotent)."""
    session.execute(sa.delete(HouseholdProgress).where(HouseholdProgress.campaign_id == campaign_id,
                                                       HouseholdProgress.household_id.in_(household_ids)))
    session.execute(sa.delete(WorkerHouseholdProgress).where(
        WorkerHouseholdProgress.campaign_id == campaign_id,
        WorkerHouseholdProgress.household_id.in_(household_ids)))
    _insert(session, campaign_id, household_ids)


def _insert(session: Session, campaign_id: str, household_ids: Sequence[str] | None) -> None:
    """INSERT ... SELECT the rows of ``household_ids`` (None: every household)."""
    h = Household
    campaign = sa.literal(campaign_id, sa.String(40))
    latest = latest_counting_visits(session, campaign_id, household_ids=household_ids, extra_columns=(
        Visit.uuid.label("visit_uuid"), Visit.worker_id.label("worker_id"),
        Visit.visited_on.label("visited_on")))
    counted = latest.c.household_id.is_not(None)
    select_households = (
        sa.select(
            campaign, h.id, h.village_id, h.source, h.category, h.monitor_type, h.size, h.risk_eliminated,
            h.merged_into_id.is_not(None), counted,
            sa.case((latest.c.approved == 1, sa.true()), else_=sa.false()),
            *(sa.func.coalesce(latest.c[name], sa.false()) for name in VISIT_FLAGS),
            latest.c.conclusion, latest.c.visit_uuid, latest.c.worker_id, latest.c.visited_on,
        )
        .select_from(h)
        .outerjoin(latest, latest.c.household_id == h.id)
    )
    if household_ids is not None:
        select_households = select_households.where(h.id.in_(household_ids))
    p = HouseholdProgress
    session.execute(sa.insert(p).from_select(
        [p.campaign_id, p.household_id, p.village_id, p.source, p.category, p.monitor_type, p.size,
         p.risk_eliminated, p.merged, p.counted, p.approved, *(getattr(p, name) for name in VISIT_FLAGS),
         p.conclusion, p.visit_uuid, p.worker_id, p.visited_on],
        select_households))
    w = WorkerHouseholdProgress
    per_worker = (
        sa.select(campaign, Visit.household_id, Visit.worker_id, Visit.village_id, sa.func.count(),
                  sa.func.count(sa.case((Visit.review_status == "approved", 1))),
                  sa.func.count(sa.case((Visit.review_status == "pending", 1))),
                  sa.func.max(Visit.visited_on))
        .where(Visit.campaign_id == campaign_id, counting_visit())
        .group_by(Visit.household_id, Visit.worker_id, Visit.village_id)
    )
    if household_ids is not None:
        per_worker = per_worker.where(Visit.household_id.in_(household_ids))
    session.execute(sa.insert(w).from_select(
        [w.campaign_id, w.household_id, w.worker_id, w.village_id, w.visits, w.approved, w.pending,
         w.last_visit], per_worker))
