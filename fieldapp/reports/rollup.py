"""The report rollups, followed incrementally from the pull sequence.

The dashboard used to find every household's latest counting visit among all the
campaign's visits on each page view (13 s on SQLite at 1M visits). Instead:

- per household (recomputed from the visits): ``household_progress`` (the
  household's standing: counted, approved, latest flags), ``worker_progress``
  (its counting visits per worker and village), ``household_day_progress``
  (per village and ``visited_on`` day);
- their sums (what the pages read, a few hundred rows): ``village_progress``,
  ``worker_village_progress``, ``day_progress``. When households are recomputed,
  their rows' sums before and after are read and the difference is added, so a
  refresh costs in proportion to what changed, not to the campaign's size.

Keeping it current without touching other areas' write paths: every write that
changes what a report counts sets ``change_seq`` from the pull sequence
(:mod:`fieldapp.db.changes`) on the rows it touches, and the rollup remembers per
campaign the change number it has followed (``report_cursors``). A refresh
recomputes exactly the households with ``households.change_seq`` or a visit's
``visits.change_seq`` above the cursor, from the same definitions as
:mod:`fieldapp.reports.queries`. The write paths, checked:

- push (``sync/ingest.py`` + ``fieldapp/sync_store.py``): new visits
  (``change_seq = server_seq``), superseded visits, new and touched households;
- approve / return (``review/visits.py``): the visits; return also the households;
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

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from fieldapp.db import plan_each_statement, write_transaction
from fieldapp.db.changes import current_change
from fieldapp.models import (
    Campaign,
    DayProgress,
    Household,
    HouseholdDayProgress,
    HouseholdProgress,
    ReportCursor,
    VillageProgress,
    Visit,
    WorkerHouseholdProgress,
    WorkerVillageProgress,
    table_of,
)
from fieldapp.models.base import utcnow
from fieldapp.reports.definitions import (
    CONCLUSION_FLAGS,
    VISIT_FLAGS,
    counting_visit,
    latest_counting_visits,
)

CHUNK = 1000
# Far behind, recomputing household by household costs more than counting everything again
# (central after ten towns' first rounds, 137,470 households: a step of 5,000 change numbers
# took 1.1 s, counting everything 7 s). A refresh with at least this many change numbers to
# follow, and more of them than half the campaign's households, rebuilds the rollups instead.
REBUILD_BEHIND = 20_000


@dataclass
class Refresh:
    """What a refresh did: ``households`` recomputed (all of them when ``full``); ``behind``:
    change numbers the rollups have yet to follow (a bounded step, or a page that left the
    work to the background follower)."""

    campaign_id: str
    change_seq: int
    households: int = 0
    full: bool = False
    behind: int = 0
    refreshed_at: dt.datetime | None = None
    busy: bool = False  # another refresh held the cursor (``wait=False``): nothing was done


# While a background follower runs in this process (``fieldapp serve``), a page view follows
# at most this many change numbers itself; a larger backlog (towns replicating into central,
# a roster import) is the follower's, and the page shows the rollups as they stand.
PAGE_CHANGES = 1000
_follower_running = False


def set_follower_running(running: bool) -> None:
    global _follower_running
    _follower_running = running


def for_page(session: Session, campaign_id: str) -> Refresh:
    """What a report page does before reading the rollups: :func:`refresh`, unless the
    background follower runs and has more than :data:`PAGE_CHANGES` to follow, or is
    following them right now (the page never waits for its step)."""
    if not _follower_running:
        return refresh(session, campaign_id)
    cursor, current = _read_cursor(session, campaign_id), current_change(session)
    if cursor is None or current - cursor <= PAGE_CHANGES:
        done = refresh(session, campaign_id, wait=False)
        if not done.busy:
            return done
        cursor, current = _read_cursor(session, campaign_id), current_change(session)
    refreshed_at = session.scalar(sa.select(ReportCursor.refreshed_at).where(ReportCursor.campaign_id == campaign_id))
    session.rollback()
    return Refresh(campaign_id, cursor or 0, behind=max(current - (cursor or 0), 0), refreshed_at=refreshed_at)


def refresh(session: Session, campaign_id: str, *, step: int | None = None, wait: bool = True) -> Refresh:
    """Bring the campaign's rollups up to date and commit; cheap (two reads) when nothing changed.

    Commits the session's current transaction first (``begin_write``); call it
    with no pending changes.

    :param step: follow at most this many change numbers (the follower's bounded
        transactions); ``behind`` then says what is left. Without it, a refresh far behind
        rebuilds the rollups (:data:`REBUILD_BEHIND`)
    :param wait: when another refresh of the campaign holds its cursor, return at once
        (PostgreSQL; ``behind`` > 0) instead of waiting for it
    """
    cursor, current = _read_cursor(session, campaign_id), current_change(session)
    if cursor is not None and 0 < current <= cursor:
        return Refresh(campaign_id, cursor)
    if session.get(Campaign, campaign_id) is None:  # nothing to count (the page shows zeros)
        return Refresh(campaign_id, 0)
    with write_transaction(session):
        plan_each_statement(session)
        locked, cursor = _lock_cursor(session, campaign_id, wait=wait)
        current = current_change(session)  # before reading the changed rows
        if not locked:
            return Refresh(campaign_id, cursor or 0, busy=True)
        upto = current if step is None or cursor is None else min(current, cursor + step)
        if cursor is None or current == 0:
            result = _rebuild(session, campaign_id, current)
        elif current <= cursor:
            result = Refresh(campaign_id, cursor)
        elif step is None and _far_behind(session, campaign_id, current - cursor):
            result = _rebuild(session, campaign_id, current)
        else:
            # Every row numbered up to ``upto`` (at most the counter's value) is committed.
            changed = _changed_households(session, campaign_id, cursor, upto)
            for start in range(0, len(changed), CHUNK):
                _recompute(session, campaign_id, changed[start:start + CHUNK])
            result = Refresh(campaign_id, upto, households=len(changed), behind=current - upto)
        result.refreshed_at = utcnow()
        session.execute(sa.update(ReportCursor).where(ReportCursor.campaign_id == campaign_id)
                        .values(change_seq=result.change_seq, refreshed_at=result.refreshed_at))
    return result


def rebuild(session: Session, campaign_id: str) -> Refresh:
    """Recompute every household of the campaign (``fieldapp report rebuild``) and commit."""
    forget(session, campaign_id)
    return refresh(session, campaign_id)


def forget(session: Session, campaign_id: str) -> None:
    """Mark the campaign's rollups stale: the next refresh rebuilds them (after deletions)."""
    with write_transaction(session):
        session.execute(sa.update(ReportCursor).where(ReportCursor.campaign_id == campaign_id)
                        .values(change_seq=None))



def _read_cursor(session: Session, campaign_id: str) -> int | None:
    value = session.scalar(sa.select(ReportCursor.change_seq).where(ReportCursor.campaign_id == campaign_id))
    return None if value is None else int(value)


def _lock_cursor(session: Session, campaign_id: str, *, wait: bool = True) -> tuple[bool, int | None]:
    """The cursor row, created if missing, locked until commit (PostgreSQL; SQLite holds the
    write lock): whether it was locked (not when ``wait`` is False and another holds it), and its value."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(dialect.insert(ReportCursor).values(campaign_id=campaign_id, change_seq=None,
                                                        refreshed_at=utcnow())
                    .on_conflict_do_nothing(index_elements=["campaign_id"]))
    query = sa.select(ReportCursor.change_seq).where(ReportCursor.campaign_id == campaign_id)
    if wait:
        value = session.scalar(query.with_for_update())
        return True, None if value is None else int(value)
    row = session.execute(query.with_for_update(skip_locked=True)).first()
    if row is None:
        return False, _read_cursor(session, campaign_id)
    return True, None if row[0] is None else int(row[0])


def _count_if(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def _sum_if(condition: sa.ColumnElement[bool], value: Any) -> sa.ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, value), else_=0)), 0)


def village_measures(p: Any = HouseholdProgress) -> dict[str, sa.ColumnElement[int]]:
    """The progress table's numbers as aggregates of ``household_progress`` rows (the
    definitions of :mod:`fieldapp.reports.queries`; merged households are left out by the WHERE)."""
    counted = p.counted.is_(True)
    general = counted & (p.category == "general") & (p.monitor_type == "none")
    lifted = counted & (p.category == "lifted")
    monitored = counted & (p.monitor_type != "none")
    measures: dict[str, sa.ColumnElement[int]] = {
        "households": sa.func.count(),
        "new_households": _count_if(p.source == "field"),
        "visited": _count_if(counted),
        "visited_people": _sum_if(counted, p.size),
        "approved": _count_if(p.approved.is_(True)),
        "general": _count_if(general),
        "general_people": _sum_if(general, p.size),
        "lifted": _count_if(lifted),
        "lifted_people": _sum_if(lifted, p.size),
        "monitored": _count_if(monitored),
        "monitored_people": _sum_if(monitored, p.size),
        "monitored_lifted": _count_if(monitored & lifted),
        "monitored_eliminated": _count_if(monitored & p.risk_eliminated.is_(True)),
        **{name: _count_if(getattr(p, name).is_(True)) for name in VISIT_FLAGS},
    }
    for name in CONCLUSION_FLAGS:
        measures[name] = _count_if(p.conclusion == name)
        measures[f"{name}_people"] = _sum_if(p.conclusion == name, p.size)
    return measures


MEASURES = tuple(village_measures())


def village_sums(campaign_id: str, household_ids: Sequence[str] | None = None) -> sa.Select[*tuple[Any, ...]]:
    """Per village: the sums of the (unmerged) ``household_progress`` rows, of some households or all."""
    p = _rows(HouseholdProgress, campaign_id, household_ids)
    return (
        sa.select(p.village_id, *(value.label(key) for key, value in village_measures(p).items()))
        .where(p.campaign_id == campaign_id, p.merged == sa.false())
        .group_by(p.village_id)
    )


def _rows(model: Any, campaign_id: str, household_ids: Sequence[str] | None) -> Any:
    """``model``, or only the rows of ``household_ids`` (found by primary key, MATERIALIZED:
    otherwise SQLite prefers scanning the whole index that is in GROUP BY order)."""
    if household_ids is None:
        return model
    chunk = (sa.select(model).where(model.campaign_id == campaign_id, model.household_id.in_(list(household_ids)))
             .cte("chunk").prefix_with("MATERIALIZED"))
    return aliased(model, chunk)


WORKER_MEASURES = ("households", "visits", "approved", "pending")


def worker_sums(campaign_id: str, household_ids: Sequence[str] | None = None) -> sa.Select[*tuple[Any, ...]]:
    """Per worker and village: the sums of the ``worker_progress`` rows, of some households or all."""
    w = _rows(WorkerHouseholdProgress, campaign_id, household_ids)
    return (
        sa.select(w.worker_id, w.village_id, sa.func.count().label("households"),
                  sa.func.sum(w.visits).label("visits"), sa.func.sum(w.approved).label("approved"),
                  sa.func.sum(w.pending).label("pending"))
        .where(w.campaign_id == campaign_id)
        .group_by(w.worker_id, w.village_id)
    )


def day_sums(campaign_id: str, household_ids: Sequence[str] | None = None) -> sa.Select[*tuple[Any, ...]]:
    """Per village and day: the sums of the ``household_day_progress`` rows, of some households or all."""
    d = HouseholdDayProgress
    query = (
        sa.select(d.village_id, d.visited_on, sa.func.sum(d.visits).label("visits"))
        .where(d.campaign_id == campaign_id)
        .group_by(d.village_id, d.visited_on)
    )
    return query if household_ids is None else query.where(d.household_id.in_(list(household_ids)))


Sums = dict[tuple[Any, ...], dict[str, int]]


def _read_sums(session: Session, campaign_id: str, household_ids: Sequence[str]) -> tuple[Sums, Sums, Sums]:
    """The chunk's contribution to the village, worker and day sums."""
    villages = {(int(r[0]),): {name: int(value or 0) for name, value in zip(MEASURES, r[1:], strict=True)}
                for r in session.execute(village_sums(campaign_id, household_ids))}
    workers = {(int(r[0]), int(r[1])): {name: int(value or 0)
                                        for name, value in zip(WORKER_MEASURES, r[2:], strict=True)}
               for r in session.execute(worker_sums(campaign_id, household_ids))}
    days = {(int(r[0]), r[1]): {"visits": int(r[2] or 0)}
            for r in session.execute(day_sums(campaign_id, household_ids))}
    return villages, workers, days


def _add_differences(session: Session, table: sa.Table, campaign_id: str, keys: tuple[str, ...],
                     measures: Sequence[str], before: Sums, after: Sums) -> list[tuple[int, ...]]:
    """``table`` += after - before per key (the difference the recomputed households make).

    Returns the keys that changed."""
    deltas = {}
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key, {}), after.get(key, {})
        delta = {name: new.get(name, 0) - old.get(name, 0) for name in measures}
        if any(delta.values()):
            deltas[key] = delta
    if not deltas:
        return []
    present = {tuple(r) for r in session.execute(
        sa.select(*(table.c[k] for k in keys)).where(
            table.c.campaign_id == campaign_id, sa.tuple_(*(table.c[k] for k in keys)).in_(list(deltas))))}
    updates = [{**{f"b_{k}": value for k, value in zip(keys, key, strict=True)},
                **{f"d_{name}": d for name, d in delta.items()}}
               for key, delta in deltas.items() if key in present]
    if updates:
        session.execute(
            table.update().where(table.c.campaign_id == campaign_id,
                                 *(table.c[k] == sa.bindparam(f"b_{k}") for k in keys))
            .values({name: table.c[name] + sa.bindparam(f"d_{name}") for name in measures}),
            updates)
    # A key without a row had nothing counted: its sums start from zero.
    inserts = [{"campaign_id": campaign_id, **dict(zip(keys, key, strict=True)), **delta}
               for key, delta in deltas.items() if key not in present]
    if inserts:
        session.execute(table.insert(), inserts)
    return list(deltas)


def _last_visits(session: Session, campaign_id: str, pairs: Sequence[tuple[int, ...]]) -> None:
    """A max cannot be kept by differences: read it again for the (worker, village) pairs touched."""
    t = table_of(WorkerVillageProgress)
    for start in range(0, len(pairs), CHUNK):
        chunk = list(pairs[start:start + CHUNK])
        # From a VALUES list, CROSS JOIN so that SQLite loops over the pairs and seeks the
        # index for each (a row-value IN only uses the index's first column, and a plain
        # join let it scan the whole table). PostgreSQL plans the CROSS JOIN like any other.
        values = ", ".join(f"(:w{n}, :v{n})" for n in range(len(chunk)))
        params: dict[str, Any] = {"campaign_id": campaign_id}
        for n, (worker, village) in enumerate(chunk):
            params[f"w{n}"], params[f"v{n}"] = worker, village
        statement = sa.text(
            f"WITH pairs(worker_id, village_id) AS (VALUES {values}) "
            "SELECT w.worker_id, w.village_id, max(w.last_visit) FROM pairs CROSS JOIN worker_progress AS w "
            "WHERE w.campaign_id = :campaign_id AND w.worker_id = pairs.worker_id "
            "AND w.village_id = pairs.village_id GROUP BY w.worker_id, w.village_id"
        ).columns(sa.column("worker_id", sa.Integer), sa.column("village_id", sa.Integer),
                  sa.column("last_visit", sa.Date))
        latest = {(int(r[0]), int(r[1])): r[2] for r in session.execute(statement, params)}
        session.execute(
            t.update().where(t.c.campaign_id == campaign_id, t.c.worker_id == sa.bindparam("b_worker"),
                             t.c.village_id == sa.bindparam("b_village"))
            .values(last_visit=sa.bindparam("b_last")),
            [{"b_worker": worker, "b_village": village, "b_last": latest.get((worker, village))}
             for worker, village in chunk])


def _changed_households(session: Session, campaign_id: str, cursor: int, upto: int) -> list[str]:
    """Households changed after ``cursor`` up to ``upto``, or with a visit of the campaign
    changed then (both by index). A household changed again since is recomputed now from
    what it is now, and again when its later number is followed."""
    households = sa.select(Household.id).where(Household.change_seq > cursor, Household.change_seq <= upto)
    visits = sa.select(Visit.household_id).where(Visit.campaign_id == campaign_id, Visit.change_seq > cursor,
                                                 Visit.change_seq <= upto)
    return sorted(set(session.scalars(sa.union(households, visits))))


def _far_behind(session: Session, campaign_id: str, behind: int) -> bool:
    """Whether counting everything again is cheaper than following ``behind`` change numbers."""
    return behind >= REBUILD_BEHIND and 2 * behind > _households_counted(session, campaign_id)


def _households_counted(session: Session, campaign_id: str) -> int:
    return int(session.scalar(sa.select(sa.func.count()).select_from(HouseholdProgress)
                              .where(HouseholdProgress.campaign_id == campaign_id)) or 0)


def _rebuild(session: Session, campaign_id: str, current: int) -> Refresh:
    for table in (HouseholdProgress, WorkerHouseholdProgress, HouseholdDayProgress, VillageProgress,
                  WorkerVillageProgress, DayProgress):
        session.execute(sa.delete(table).where(table.campaign_id == campaign_id))
    _insert(session, campaign_id, None)
    sums = village_sums(campaign_id)
    session.execute(sa.insert(VillageProgress).from_select(
        ["campaign_id", "village_id", *MEASURES],
        sa.select(sa.literal(campaign_id, sa.String(40)), *sums.subquery().c)))
    w = WorkerHouseholdProgress
    per_worker = worker_sums(campaign_id).add_columns(sa.func.max(w.last_visit)).subquery()
    session.execute(sa.insert(WorkerVillageProgress).from_select(
        ["campaign_id", "worker_id", "village_id", *WORKER_MEASURES, "last_visit"],
        sa.select(sa.literal(campaign_id, sa.String(40)), *per_worker.c)))
    per_day = day_sums(campaign_id).subquery()
    session.execute(sa.insert(DayProgress).from_select(
        ["campaign_id", "village_id", "visited_on", "visits"],
        sa.select(sa.literal(campaign_id, sa.String(40)), *per_day.c)))
    return Refresh(campaign_id, current, households=_households_counted(session, campaign_id), full=True)


def _recompute(session: Session, campaign_id: str, household_ids: Sequence[str]) -> None:
    """Delete and insert again the rows of these households (idempotent), and add the
    difference they make to their villages' sums."""
    before = _read_sums(session, campaign_id, household_ids)
    session.execute(sa.delete(HouseholdProgress).where(HouseholdProgress.campaign_id == campaign_id,
                                                       HouseholdProgress.household_id.in_(household_ids)))
    for table in (WorkerHouseholdProgress, HouseholdDayProgress):
        session.execute(sa.delete(table).where(table.campaign_id == campaign_id,
                                               table.household_id.in_(household_ids)))
    _insert(session, campaign_id, household_ids)
    after = _read_sums(session, campaign_id, household_ids)
    _add_differences(session, table_of(VillageProgress), campaign_id, ("village_id",), MEASURES,
                     before[0], after[0])
    pairs = _add_differences(session, table_of(WorkerVillageProgress), campaign_id, ("worker_id", "village_id"),
                             WORKER_MEASURES, before[1], after[1])
    # The latest day can change while the sums do not (one visit returned, another counted).
    pairs = sorted(set(pairs) | set(before[1]) | set(after[1]))
    _last_visits(session, campaign_id, pairs)
    _add_differences(session, table_of(DayProgress), campaign_id, ("village_id", "visited_on"), ("visits",),
                     before[2], after[2])


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
    d = HouseholdDayProgress
    per_day = (
        sa.select(campaign, Visit.household_id, Visit.village_id, Visit.visited_on, sa.func.count())
        .where(Visit.campaign_id == campaign_id, counting_visit(), Visit.visited_on.is_not(None))
        .group_by(Visit.household_id, Visit.village_id, Visit.visited_on)
    )
    if household_ids is not None:
        per_day = per_day.where(Visit.household_id.in_(household_ids))
    session.execute(sa.insert(d).from_select(
        [d.campaign_id, d.household_id, d.village_id, d.visited_on, d.visits], per_day))
