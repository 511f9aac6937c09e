"""Visits (immutable observations from the phone) and the sync batches that carried them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fieldapp.models.base import Base, JSONType, UtcDateTime, utcnow
from fieldapp.models.household import Household
from fieldapp.models.user import User

SYNC_STATUSES = ("accepted", "conflict", "duplicate_suspected")
REVIEW_STATUSES = ("pending", "approved", "returned", "superseded")
#: Why a visit was returned: ``correct`` (answers to correct, the default) or
#: ``resign`` (仅需重签: every answer stands, only a new signature is wanted).
RETURN_KINDS = ("correct", "resign")


class Visit(Base):
    __tablename__ = "visits"
    __table_args__ = (
        sa.Index("ix_visits_campaign_village_status", "campaign_id", "village_id", "review_status"),
        sa.Index("ix_visits_worker_seq", "worker_id", "change_seq"),
        sa.Index("ix_visits_change_seq", "change_seq"),
        # Report rollups (fieldapp/reports/rollup.py): the households whose visits changed.
        sa.Index("ix_visits_campaign_seq", "campaign_id", "change_seq", "household_id"),
        # Reports (fieldapp/reports/queries.py): the latest counting visit per household
        # in one pass over this index, without reading the table.
        sa.Index("ix_visits_report", "campaign_id", "household_id", "server_seq", "review_status",
                 "conclusion", "below_monitoring_line", "below_10k", "guarantee_gap", "needs_attention"),
    )

    uuid: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(sa.ForeignKey("campaigns.id"))
    household_id: Mapped[str] = mapped_column(sa.ForeignKey("households.id"), index=True)
    village_id: Mapped[int] = mapped_column(sa.ForeignKey("villages.id"))
    worker_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    device_id: Mapped[str] = mapped_column(sa.String(64))
    batch_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    form_version: Mapped[str] = mapped_column(sa.String(20))
    base_rev: Mapped[int | None] = mapped_column()
    supersedes: Mapped[str | None] = mapped_column(sa.String(36))
    started_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    visited_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    # The phone clock's offset from UTC (minutes east) when it stamped visited_at (else
    # started_at): the times themselves are stored in UTC. None: unknown (no time sent,
    # or stored before the offset was kept).
    utc_offset_minutes: Mapped[int | None] = mapped_column(sa.SmallInteger)
    visited_on: Mapped[dt.date | None] = mapped_column(sa.Date, index=True)
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    server_seq: Mapped[int] = mapped_column(sa.BigInteger, index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)
    location: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # How many photos the phone said it attaches (uploaded apart, fieldapp/photos): the
    # visit is complete once that many are stored. None: the phone sent no count.
    photos_expected: Mapped[int | None] = mapped_column(sa.SmallInteger)
    sync_status: Mapped[str] = mapped_column(sa.String(24))
    review_status: Mapped[str] = mapped_column(sa.String(12), default="pending")
    review_comment: Mapped[str | None] = mapped_column(sa.Text)
    return_kind: Mapped[str | None] = mapped_column(sa.String(12))  # set while returned
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    change_seq: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    conclusion: Mapped[str | None] = mapped_column(sa.String(24))
    visit_method: Mapped[str | None] = mapped_column(sa.String(12))
    net_income: Mapped[float | None] = mapped_column(sa.Float)
    per_capita_income: Mapped[float | None] = mapped_column(sa.Float)
    monitoring_income: Mapped[float | None] = mapped_column(sa.Float)
    below_monitoring_line: Mapped[bool] = mapped_column(default=False)
    below_10k: Mapped[bool] = mapped_column(default=False)
    guarantee_gap: Mapped[bool] = mapped_column(default=False)
    needs_attention: Mapped[bool] = mapped_column(default=False)

    household: Mapped[Household] = relationship()
    worker: Mapped[User] = relationship(foreign_keys=[worker_id])


class SyncBatch(Base):
    """One push; its results are kept so that a replay answers exactly the same."""

    __tablename__ = "sync_batches"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    device_id: Mapped[str] = mapped_column(sa.String(64))
    app_version: Mapped[str | None] = mapped_column(sa.String(40))
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    record_count: Mapped[int] = mapped_column(default=0)
    counts: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    results: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    # SHA-256 of the records' uuids in order (sync.store.records_digest): a batch id sent
    # again with other records is refused; NULL for batches stored before it was kept.
    records_digest: Mapped[str | None] = mapped_column(sa.String(64))

    user: Mapped[User] = relationship()
