"""The report aggregates, computed in the database (GROUP BY), never by looping over rows.

Definitions (issue 7):

- *households* of a village: households in it that are not merged into another
  (``merged_into_id IS NULL``), roster and newly found (``source = 'field'``).
- a *counting visit*: a visit of the campaign whose review status is neither
  ``returned`` nor ``superseded``.
- *visited*: households with at least one counting visit. A merge moves the
  merged household's visits to the survivor (``review.merges.merge_households``),
  so a merged duplicate counts once, under the survivor.
- *approved*: households with an approved counting visit.
- the flags and the conclusion of a household come from its *latest* counting
  visit: the highest ``server_seq``, the order in which the server applied them.
- categories come from the household record (the projection the visits update):
  一般农户 = general and not monitored; 脱贫户 = lifted; 监测对象 = monitor_type ≠ none
  (overlaps 脱贫户, see docs/visit-form.md).

The per-household answers (visited, approved, latest flags) are kept in the
rollup tables by :mod:`fieldapp.reports.rollup`, refreshed from the pull sequence
before each query, with their sums per village, per worker and village, and per
village and day; a page reads those few rows instead of searching all the visits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fieldapp.models import (
    DayProgress,
    Household,
    HouseholdProgress,
    Town,
    User,
    Village,
    VillageProgress,
    Visit,
    WorkerVillageProgress,
)
from fieldapp.reports import rollup
from fieldapp.reports.definitions import (
    CONCLUSION_FLAGS,
    FOLLOW_UP_FLAGS,
    NOT_COUNTING,
    VISIT_FLAGS,
    counting_visit,
    in_villages,
    latest_counting_visits,
)

__all__ = [  # the definitions are re-exported for the pages, the CLI and the SQLite export
    "CONCLUSION_FLAGS", "COUNT_FIELDS", "FOLLOW_UP_FLAGS", "NOT_COUNTING", "VISIT_FLAGS", "FollowUp", "Progress",
    "ProgressRow", "WorkerProgress", "counting_visit", "follow_up", "in_villages", "latest_counting_visits",
    "progress_by_village", "progress_by_worker", "total_row", "visits_per_day",
]


@dataclass
class ProgressRow:
    """One village (or a town's subtotal, or the totals) of the progress table."""

    village_id: int | None
    village: str
    town: str = ""  # the village's town (at central, rows of several towns)
    households: int = 0
    new_households: int = 0
    visited: int = 0
    visited_people: int = 0
    approved: int = 0
    general: int = 0
    general_people: int = 0
    lifted: int = 0
    lifted_people: int = 0
    monitored: int = 0
    monitored_people: int = 0
    monitored_lifted: int = 0
    monitored_eliminated: int = 0
    below_monitoring_line: int = 0
    below_10k: int = 0
    guarantee_gap: int = 0
    needs_attention: int = 0
    suggest_monitor: int = 0
    suggest_monitor_people: int = 0
    suggest_eliminate: int = 0
    suggest_eliminate_people: int = 0

    @property
    def completion(self) -> float:
        """Visited / households in percent, one decimal (0 when there are no households)."""
        return round(100.0 * self.visited / self.households, 1) if self.households else 0.0

    def to_dict(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in _ROW_FIELDS}  # plain values: no deep copy
        data["completion"] = self.completion
        return data


_ROW_FIELDS = tuple(f.name for f in fields(ProgressRow))
COUNT_FIELDS = tuple(f.name for f in fields(ProgressRow) if f.type == "int")


SUBTOTAL = "小计"


@dataclass
class Progress:
    rows: list[ProgressRow]
    totals: ProgressRow = field(default_factory=lambda: ProgressRow(None, "合计"))
    behind: int = 0  # changes not yet counted (the rollups are being brought up to date)
    as_of: dt.datetime | None = None  # when they were last brought up to date, if behind

    def to_dict(self) -> dict[str, Any]:
        return {"villages": [row.to_dict() for row in self.rows], "totals": self.totals.to_dict()}

    def by_town(self) -> list[tuple[ProgressRow, list[ProgressRow]]]:
        """Each town of the rows (in their order) with its subtotal row (``village`` 小计)
        and its village rows: the county → town → village levels of central's reports."""
        groups: dict[str, list[ProgressRow]] = {}
        for row in self.rows:
            groups.setdefault(row.town, []).append(row)
        result = []
        for town, rows in groups.items():
            subtotal = total_row(rows)
            subtotal.village, subtotal.town = SUBTOTAL, town
            result.append((subtotal, rows))
        return result


def progress_by_village(session: Session, campaign_id: str,
                        village_ids: Sequence[int] | None = None, *, page: bool = False) -> Progress:
    """The progress table: one row per village in scope plus totals.

    Reads ``village_progress`` (one row per village, the sums of ``household_progress``)
    after bringing the rollups up to date (``rollup.refresh``, which commits the
    session's transaction when something changed); ``behind`` and ``as_of`` say when the
    background follower still has changes to count (towns replicating into central).

    :param village_ids: the villages in scope (``access.village_scope(user)``); None means all.
    :param page: for a page view (:func:`rollup.for_page`); exports count everything first.
    """
    followed = rollup.for_page(session, campaign_id) if page else rollup.refresh(session, campaign_id)
    v = VillageProgress
    per_village = sa.select(v.village_id, *(getattr(v, name) for name in COUNT_FIELDS)).where(
        v.campaign_id == campaign_id, in_villages(v.village_id, village_ids))
    # Town first: at central the rows of a town stay together (a town server has one town).
    villages = (sa.select(Village.id, Village.name, Town.name.label("town"))
                .join(Town, Town.id == Village.town_id).where(in_villages(Village.id, village_ids))
                .order_by(sa.func.coalesce(Town.code, ""), Town.id, Village.code, Village.id))
    counts: dict[int, dict[str, int]] = {}
    for record in session.execute(per_village):
        values = dict(record._mapping)
        village_id = values.pop("village_id")
        counts[village_id] = {key: int(value or 0) for key, value in values.items()}
    rows = [ProgressRow(v.id, v.name, v.town, **counts.get(v.id, {})) for v in session.execute(villages)]
    return Progress(rows=rows, totals=total_row(rows), behind=followed.behind,
                    as_of=followed.refreshed_at if followed.behind else None)


def total_row(rows: Iterable[ProgressRow]) -> ProgressRow:
    totals = ProgressRow(None, "合计")
    for row in rows:
        for name in COUNT_FIELDS:
            setattr(totals, name, getattr(totals, name) + getattr(row, name))
    return totals


@dataclass
class WorkerProgress:
    worker_id: int
    name: str
    visits: int
    households: int
    approved: int
    pending: int
    last_visit: dt.date | None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["last_visit"] = self.last_visit.isoformat() if self.last_visit else None
        return data


def progress_by_worker(session: Session, campaign_id: str, village_ids: Sequence[int] | None = None, *,
                       follow: bool = True) -> list[WorkerProgress]:
    """Counting visits per worker, in the villages in scope (``worker_village_progress``).

    :param follow: bring the rollups up to date first (:func:`rollup.for_page`); a page that
        already did for its first table passes False (each follow is several queries)
    """
    if follow:
        rollup.for_page(session, campaign_id)
    w = WorkerVillageProgress
    query = (
        sa.select(
            w.worker_id,
            sa.func.sum(w.visits).label("visits"),
            sa.func.sum(w.households).label("households"),
            sa.func.sum(w.approved).label("approved"),
            sa.func.sum(w.pending).label("pending"),
            sa.func.max(w.last_visit).label("last_visit"),
        )
        .where(w.campaign_id == campaign_id, in_villages(w.village_id, village_ids))
        .group_by(w.worker_id)
        .having(sa.func.sum(w.visits) > 0)
    )
    per_worker = query.subquery("per_worker")
    named = (
        sa.select(per_worker, User.display_name, User.username)
        .join(User, User.id == per_worker.c.worker_id)
        .order_by(per_worker.c.visits.desc(), User.username)
    )
    return [
        WorkerProgress(r.worker_id, r.display_name or r.username, int(r.visits), int(r.households),
                       int(r.approved), int(r.pending), _as_date(r.last_visit))
        for r in session.execute(named)
    ]


def visits_per_day(session: Session, campaign_id: str, village_ids: Sequence[int] | None = None, *,
                   follow: bool = True) -> list[tuple[dt.date, int]]:
    """Counting visits per ``visited_on`` day, oldest first, in the villages in scope
    (``day_progress``); ``follow`` as for :func:`progress_by_worker`."""
    if follow:
        rollup.for_page(session, campaign_id)
    d = DayProgress
    query = (
        sa.select(d.visited_on, sa.func.sum(d.visits))
        .where(d.campaign_id == campaign_id, in_villages(d.village_id, village_ids))
        .group_by(d.visited_on)
        .having(sa.func.sum(d.visits) > 0)
        .order_by(d.visited_on)
    )
    return [(_as_date(day), int(count)) for day, count in session.execute(query)]  # type: ignore[misc]


def _as_date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


@dataclass
class FollowUp:
    """One household to revisit, with the latest counting visit that flagged it."""

    village: str
    group: str
    code: str | None
    head_name: str
    head_id: str
    phone: str | None
    size: int
    category: str
    monitor_type: str
    visited_on: dt.date | None
    worker: str
    per_capita_income: float | None
    monitoring_income: float | None
    conclusion: str | None
    household_id: str
    town: str = ""


def follow_up(session: Session, campaign_id: str, flag: str,
              village_ids: Sequence[int] | None = None) -> list[FollowUp]:
    """Households whose latest counting visit carries ``flag`` (a visit flag or a conclusion)."""
    if flag not in FOLLOW_UP_FLAGS:
        raise ValueError(f"未知的标记：{flag}")
    rollup.refresh(session, campaign_id)
    p = HouseholdProgress
    condition = p.conclusion == flag if flag in CONCLUSION_FLAGS else getattr(p, flag).is_(True)
    query = (
        sa.select(
            Village.name.label("village"), Household.group, Household.code, Household.head_name,
            Household.head_id, Household.phone, Household.size, Household.category,
            Household.monitor_type, Visit.visited_on,
            sa.func.coalesce(sa.func.nullif(User.display_name, ""), User.username).label("worker"),
            Visit.per_capita_income, Visit.monitoring_income, Visit.conclusion,
            Household.id.label("household_id"), Town.name.label("town"),
        )
        .select_from(p)
        .join(Visit, Visit.uuid == p.visit_uuid)
        .join(Household, Household.id == p.household_id)
        .join(Village, Village.id == Household.village_id)
        .join(Town, Town.id == Village.town_id)
        .join(User, User.id == p.worker_id)
        .where(p.campaign_id == campaign_id, condition, p.merged == sa.false(),
               in_villages(p.village_id, village_ids))
        .order_by(sa.func.coalesce(Town.code, ""), Town.id, Village.code, Village.id, Household.group,
                  Household.code, Household.id)
    )
    return [FollowUp(**{**r._asdict(), "visited_on": _as_date(r.visited_on)}) for r in session.execute(query)]
