"""The report aggregates, computed in the database (GROUP BY), never by looping over rows.

Definitions (issue 7):

- *households* of a village: households in it that are not merged into another
  (``merged_into_id IS NULL``), roster and newly found (``source = 'field'``).
- a *counting visit*: a visit of the campaign whose review status is neither
  ``returned`` nor ``superseded``.
- *visited*: households with at least one counting visit. A merge moves the
  merged household's visits to the survivor (``review.services.merge_households``),
  so a merged duplicate counts once, under the survivor.
- *approved*: households with an approved counting visit.
- the flags and the conclusion of a household come from its *latest* counting
  visit: the highest ``server_seq``, the order in which the server applied them.
- categories come from the household record (the projection the visits update):
  一般农户 = general and not monitored; 脱贫户 = lifted; 监测对象 = monitor_type ≠ none
  (overlaps 脱贫户, see visit-form.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Session

from fieldapp.models import Household, User, Village, Visit

NOT_COUNTING = ("returned", "superseded")
VISIT_FLAGS = ("below_monitoring_line", "below_10k", "guarantee_gap", "needs_attention")
CONCLUSION_FLAGS = ("suggest_monitor", "suggest_eliminate")
FOLLOW_UP_FLAGS = VISIT_FLAGS + CONCLUSION_FLAGS


@dataclass
class ProgressRow:
    """One village (or the totals) of the progress table."""

    village_id: int | None
    village: str
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
        data = asdict(self)
        data["completion"] = self.completion
        return data


COUNT_FIELDS = tuple(f.name for f in fields(ProgressRow) if f.type == "int")


@dataclass
class Progress:
    rows: list[ProgressRow]
    totals: ProgressRow = field(default_factory=lambda: ProgressRow(None, "合计"))

    def to_dict(self) -> dict[str, Any]:
        return {"villages": [row.to_dict() for row in self.rows], "totals": self.totals.to_dict()}


def in_villages(column: Any, village_ids: Sequence[int] | None) -> sa.ColumnElement[bool]:
    """``column`` limited to ``village_ids``; None means every village (an admin)."""
    if village_ids is None:
        return sa.true()
    return column.in_(list(village_ids)) if village_ids else sa.false()


def counting_visit() -> sa.ColumnElement[bool]:
    return Visit.review_status.not_in(NOT_COUNTING)


def latest_counting_visits(session: Session, campaign_id: str, *,
                           village_ids: Sequence[int] | None = None,
                           extra_columns: Sequence[Any] = ()) -> sa.CTE:
    """One row per household that has counting visits in the campaign.

    Columns: ``household_id``, ``approved`` (1 if any counting visit is approved),
    the latest visit's flags and ``conclusion``, and ``extra_columns`` (of the latest
    visit). "Latest" is the highest ``server_seq`` (unique: the server's change
    sequence), the order in which the server applied the visits to the household,
    so the flags match the household record.
    Visits of a merged household have moved to the survivor (review.services).

    Two spellings of the same query, each the fast one on its backend: SQLite
    takes the other columns of a ``max()`` row from that row (documented "bare
    columns"), one pass over ``ix_visits_report`` with no sort; PostgreSQL uses
    DISTINCT ON. A row_number() window on SQLite costs three times as much.
    """
    approved = sa.case((Visit.review_status == "approved", 1), else_=0)
    columns = (
        *(getattr(Visit, name).label(name) for name in VISIT_FLAGS),
        Visit.conclusion.label("conclusion"),
        *extra_columns,
    )
    # A visit's village is its household's (a merge moves both, review.services).
    where = (Visit.campaign_id == campaign_id, counting_visit(), in_villages(Visit.village_id, village_ids))
    if session.get_bind().dialect.name == "sqlite":
        latest = (
            sa.select(Visit.household_id.label("household_id"),
                      sa.func.max(Visit.server_seq).label("server_seq"),
                      (sa.func.total(approved) > 0).label("approved"), *columns)
            .where(*where)
            .group_by(Visit.household_id)
        )
        # MATERIALIZED: computed once, not once per row it is joined to.
        return latest.cte("latest").prefix_with("MATERIALIZED")
    # DISTINCT ON rather than row_number() = 1: PostgreSQL estimates "rn = 1" as a
    # handful of rows and then joins 800k of them by nested loop. One window order
    # (household, newest first) serves both the max() and DISTINCT ON: one sort,
    # incremental over ix_visits_report.
    newest_first = (Visit.household_id, Visit.server_seq.desc())
    return (
        sa.select(
            Visit.household_id.label("household_id"),
            sa.func.max(approved).over(partition_by=Visit.household_id, order_by=Visit.server_seq.desc(),
                                       rows=(None, None)).label("approved"),
            *columns,
        )
        .where(*where)
        .ext(distinct_on(Visit.household_id))
        .order_by(*newest_first)
        .cte("latest")
    )


def _count_if(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def _sum_if(condition: sa.ColumnElement[bool], value: Any) -> sa.ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, value), else_=0)), 0)


def progress_by_village(session: Session, campaign_id: str,
                        village_ids: Sequence[int] | None = None) -> Progress:
    """The progress table: one row per village in scope plus totals.

    Two GROUP BY village queries: the households (a covering index scan) and the
    visited households (latest counting visit joined to its household by key).
    Their per-village rows are put side by side here.

    :param village_ids: the villages in scope (``access.village_scope(user)``); None means all.
    """
    h = Household
    roster = (
        sa.select(h.village_id, sa.func.count().label("households"),
                  _count_if(h.source == "field").label("new_households"))
        .where(h.merged_into_id.is_(None), in_villages(h.village_id, village_ids))
        .group_by(h.village_id)
    )
    latest = latest_counting_visits(session, campaign_id, village_ids=village_ids)
    general = (h.category == "general") & (h.monitor_type == "none")
    lifted = h.category == "lifted"
    monitored = h.monitor_type != "none"
    measures: dict[str, sa.ColumnElement[int]] = {
        "visited": sa.func.count(),
        "visited_people": sa.func.coalesce(sa.func.sum(h.size), 0),
        "approved": _count_if(latest.c.approved == 1),
        "general": _count_if(general),
        "general_people": _sum_if(general, h.size),
        "lifted": _count_if(lifted),
        "lifted_people": _sum_if(lifted, h.size),
        "monitored": _count_if(monitored),
        "monitored_people": _sum_if(monitored, h.size),
        "monitored_lifted": _count_if(monitored & lifted),
        "monitored_eliminated": _count_if(monitored & h.risk_eliminated.is_(True)),
        **{name: _count_if(latest.c[name].is_(True)) for name in VISIT_FLAGS},
    }
    for name in CONCLUSION_FLAGS:
        measures[name] = _count_if(latest.c.conclusion == name)
        measures[f"{name}_people"] = _sum_if(latest.c.conclusion == name, h.size)
    visited = (
        sa.select(h.village_id, *(value.label(key) for key, value in measures.items()))
        .select_from(latest)
        .join(h, h.id == latest.c.household_id)
        .where(h.merged_into_id.is_(None), in_villages(h.village_id, village_ids))
        .group_by(h.village_id)
    )
    villages = sa.select(Village.id, Village.name).where(in_villages(Village.id, village_ids)) \
        .order_by(Village.code, Village.id)
    counts: dict[int, dict[str, int]] = {}
    for statement in (roster, visited):
        for record in session.execute(statement):
            values = dict(record._mapping)
            counts.setdefault(values.pop("village_id"), {}).update(
                {key: int(value or 0) for key, value in values.items()})
    rows = [ProgressRow(v.id, v.name, **counts.get(v.id, {})) for v in session.execute(villages)]
    return Progress(rows=rows, totals=total_row(rows))


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


def progress_by_worker(session: Session, campaign_id: str,
                       village_ids: Sequence[int] | None = None) -> list[WorkerProgress]:
    """Counting visits per worker, in the villages in scope."""
    query = (
        sa.select(
            Visit.worker_id,
            sa.func.count().label("visits"),
            sa.func.count(sa.distinct(Visit.household_id)).label("households"),
            _count_if(Visit.review_status == "approved").label("approved"),
            _count_if(Visit.review_status == "pending").label("pending"),
            sa.func.max(Visit.visited_on).label("last_visit"),
        )
        .where(Visit.campaign_id == campaign_id, counting_visit(),
               in_villages(Visit.village_id, village_ids))
        .group_by(Visit.worker_id)
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


def visits_per_day(session: Session, campaign_id: str,
                   village_ids: Sequence[int] | None = None) -> list[tuple[dt.date, int]]:
    """Counting visits per ``visited_on`` day, oldest first, in the villages in scope."""
    query = (
        sa.select(Visit.visited_on, sa.func.count())
        .where(Visit.campaign_id == campaign_id, counting_visit(), Visit.visited_on.is_not(None),
               in_villages(Visit.village_id, village_ids))
        .group_by(Visit.visited_on)
        .order_by(Visit.visited_on)
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


def follow_up(session: Session, campaign_id: str, flag: str,
              village_ids: Sequence[int] | None = None) -> list[FollowUp]:
    """Households whose latest counting visit carries ``flag`` (a visit flag or a conclusion)."""
    if flag not in FOLLOW_UP_FLAGS:
        raise ValueError(f"未知的标记：{flag}")
    latest = latest_counting_visits(session, campaign_id, village_ids=village_ids, extra_columns=(
        Visit.visited_on.label("visited_on"), Visit.worker_id.label("worker_id"),
        Visit.per_capita_income.label("per_capita_income"),
        Visit.monitoring_income.label("monitoring_income"),
    ))
    condition = latest.c.conclusion == flag if flag in CONCLUSION_FLAGS else latest.c[flag].is_(True)
    query = (
        sa.select(
            Village.name.label("village"), Household.group, Household.code, Household.head_name,
            Household.head_id, Household.phone, Household.size, Household.category,
            Household.monitor_type, latest.c.visited_on,
            sa.func.coalesce(sa.func.nullif(User.display_name, ""), User.username).label("worker"),
            latest.c.per_capita_income, latest.c.monitoring_income, latest.c.conclusion,
            Household.id.label("household_id"),
        )
        .join(Household, Household.id == latest.c.household_id)
        .join(Village, Village.id == Household.village_id)
        .join(User, User.id == latest.c.worker_id)
        .where(condition, Household.merged_into_id.is_(None),
               in_villages(Household.village_id, village_ids))
        .order_by(Village.code, Village.id, Household.group, Household.code, Household.id)
    )
    return [FollowUp(**{**r._asdict(), "visited_on": _as_date(r.visited_on)}) for r in session.execute(query)]
