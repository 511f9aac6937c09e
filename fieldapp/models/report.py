"""Report rollups: one row per household and campaign, kept current by fieldapp.reports.rollup.

Derived data only (rebuilt by ``fieldapp report rebuild``); never written by the
use cases of other areas. The dashboard aggregates these rows instead of finding
each household's latest visit among all visits on every page view.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from fieldapp.models.base import Base, UtcDateTime, utcnow


class HouseholdProgress(Base):
    """A household's standing in a campaign, as ``reports/queries.py`` defines it.

    Household columns are copied from the household record; the flags, conclusion,
    visit and worker are those of the latest counting visit (highest ``server_seq``).
    ``counted``: the household has a counting visit; ``merged``: merged into another.
    """

    __tablename__ = "household_progress"
    __table_args__ = (
        # The dashboard's GROUP BY village, read from this index alone, in village order.
        sa.Index("ix_household_progress_village", "campaign_id", "merged", "village_id", "source", "counted",
                 "approved", "category", "monitor_type", "size", "risk_eliminated", "conclusion",
                 "below_monitoring_line", "below_10k", "guarantee_gap", "needs_attention"),
    )

    campaign_id: Mapped[str] = mapped_column(sa.ForeignKey("campaigns.id"), primary_key=True)
    # No foreign key to households: the rollup is derived data, and on PostgreSQL a key
    # makes each refresh lock the households it counts (KEY SHARE), which deadlocked with
    # central storing a town's page (its upserts lock the same rows in another order).
    household_id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    village_id: Mapped[int] = mapped_column()
    source: Mapped[str] = mapped_column(sa.String(10))
    category: Mapped[str] = mapped_column(sa.String(10))
    monitor_type: Mapped[str] = mapped_column(sa.String(10))
    size: Mapped[int] = mapped_column()
    risk_eliminated: Mapped[bool | None] = mapped_column()
    merged: Mapped[bool] = mapped_column()
    counted: Mapped[bool] = mapped_column()
    approved: Mapped[bool] = mapped_column()
    below_monitoring_line: Mapped[bool] = mapped_column()
    below_10k: Mapped[bool] = mapped_column()
    guarantee_gap: Mapped[bool] = mapped_column()
    needs_attention: Mapped[bool] = mapped_column()
    conclusion: Mapped[str | None] = mapped_column(sa.String(24))
    visit_uuid: Mapped[str | None] = mapped_column(sa.String(36))
    worker_id: Mapped[int | None] = mapped_column()
    visited_on: Mapped[dt.date | None] = mapped_column(sa.Date)


class WorkerHouseholdProgress(Base):
    """Counting visits of one household by one worker (per-worker progress sums these)."""

    __tablename__ = "worker_progress"
    __table_args__ = (
        # The latest visit of a (worker, village) pair, read again when the pair changes.
        sa.Index("ix_worker_progress_pair", "campaign_id", "worker_id", "village_id"),
    )

    campaign_id: Mapped[str] = mapped_column(sa.ForeignKey("campaigns.id"), primary_key=True)
    household_id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    worker_id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(primary_key=True)
    visits: Mapped[int] = mapped_column()
    approved: Mapped[int] = mapped_column()
    pending: Mapped[int] = mapped_column()
    last_visit: Mapped[dt.date | None] = mapped_column(sa.Date)


class VillageProgress(Base):
    """The sums of ``household_progress`` per village (the dashboard's rows), kept by adding
    the difference each recomputed household makes; the names are ``queries.ProgressRow``'s."""

    __tablename__ = "village_progress"

    campaign_id: Mapped[str] = mapped_column(sa.ForeignKey("campaigns.id"), primary_key=True)
    village_id: Mapped[int] = mapped_column(primary_key=True)
    households: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    new_households: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    visited: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    visited_people: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    approved: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    general: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    general_people: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    lifted: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    lifted_people: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    monitored: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    monitored_people: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    monitored_lifted: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    monitored_eliminated: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    below_monitoring_line: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    below_10k: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    guarantee_gap: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    needs_attention: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    suggest_monitor: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    suggest_monitor_people: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    suggest_eliminate: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    suggest_eliminate_people: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class WorkerVillageProgress(Base):
    """The sums of ``worker_progress`` per worker and village (per-worker progress sums these),
    kept by differences like ``village_progress``; ``last_visit`` recomputed for the pairs touched."""

    __tablename__ = "worker_village_progress"

    campaign_id: Mapped[str] = mapped_column(sa.ForeignKey("campaigns.id"), primary_key=True)
    worker_id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(primary_key=True)
    households: Mapped[int] = mapped_column(default=0)
    visits: Mapped[int] = mapped_column(default=0)
    approved: Mapped[int] = mapped_column(default=0)
    pending: Mapped[int] = mapped_column(default=0)
    last_visit: Mapped[dt.date | None] = mapped_column(sa.Date)


class HouseholdDayProgress(Base):
    """Counting visits of one household per ``visited_on`` day (the chart of visits per day)."""

    __tablename__ = "household_day_progress"

    campaign_id: Mapped[str] = mapped_column(sa.ForeignKey("campaigns.id"), primary_key=True)
    household_id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    village_id: Mapped[int] = mapped_column(primary_key=True)
    visited_on: Mapped[dt.date] = mapped_column(sa.Date, primary_key=True)
    visits: Mapped[int] = mapped_column()


class DayProgress(Base):
    """The sums of ``household_day_progress`` per village and day, kept by differences."""

    __tablename__ = "day_progress"

    campaign_id: Mapped[str] = mapped_column(sa.ForeignKey("campaigns.id"), primary_key=True)
    village_id: Mapped[int] = mapped_column(primary_key=True)
    visited_on: Mapped[dt.date] = mapped_column(sa.Date, primary_key=True)
    visits: Mapped[int] = mapped_column(default=0)


class ReportCursor(Base):
    """How far the rollups of a campaign have followed the pull sequence."""

    __tablename__ = "report_cursors"

    campaign_id: Mapped[str] = mapped_column(sa.ForeignKey("campaigns.id"), primary_key=True)
    change_seq: Mapped[int | None] = mapped_column(sa.BigInteger)  # None: never built
    refreshed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
