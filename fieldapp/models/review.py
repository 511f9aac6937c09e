"""What waits for a supervisor: field conflicts, duplicate candidates, merges."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from fieldapp.models.base import Base, JSONType, UtcDateTime, new_uuid, utcnow


class Conflict(Base):
    __tablename__ = "conflicts"
    __table_args__ = (sa.Index("ix_conflicts_village_status", "village_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The conflict's id in every tier (a town's conflict keeps it at central).
    uid: Mapped[str] = mapped_column(sa.String(36), unique=True, default=new_uuid)
    household_id: Mapped[str] = mapped_column(sa.ForeignKey("households.id"), index=True)
    visit_uuid: Mapped[str] = mapped_column(sa.ForeignKey("visits.uuid"), index=True)
    village_id: Mapped[int] = mapped_column(sa.ForeignKey("villages.id"))
    field: Mapped[str] = mapped_column(sa.String(40))
    base_value: Mapped[object | None] = mapped_column(JSONType)
    current_value: Mapped[object | None] = mapped_column(JSONType)
    incoming_value: Mapped[object | None] = mapped_column(JSONType)
    current_rev: Mapped[int | None] = mapped_column()
    status: Mapped[str] = mapped_column(sa.String(10), default="open")  # open | resolved
    resolved_value: Mapped[object | None] = mapped_column(JSONType)
    resolved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    change_seq: Mapped[int] = mapped_column(sa.BigInteger, default=0, index=True)


class DuplicateCandidate(Base):
    """A pair of households that may be one; ``household_a_id < household_b_id``."""

    __tablename__ = "duplicate_candidates"
    __table_args__ = (
        sa.UniqueConstraint("household_a_id", "household_b_id"),
        sa.Index("ix_duplicate_candidates_village_status", "village_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(sa.String(36), unique=True, default=new_uuid)
    household_a_id: Mapped[str] = mapped_column(sa.ForeignKey("households.id"))
    household_b_id: Mapped[str] = mapped_column(sa.ForeignKey("households.id"))
    village_id: Mapped[int] = mapped_column(sa.ForeignKey("villages.id"))
    campaign_id: Mapped[str | None] = mapped_column(sa.ForeignKey("campaigns.id"))
    visit_uuid: Mapped[str | None] = mapped_column(sa.String(36))
    score: Mapped[float] = mapped_column(sa.Float)
    evidence: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    # ingest | bulk | county (across towns, found at central)
    source: Mapped[str] = mapped_column(sa.String(10), default="ingest")
    status: Mapped[str] = mapped_column(sa.String(10), default="open")  # open | merged | dismissed | superseded
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    change_seq: Mapped[int] = mapped_column(sa.BigInteger, default=0, index=True)


class HouseholdMerge(Base):
    """A merge with the before-images needed to undo it."""

    __tablename__ = "household_merges"

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(sa.String(36), unique=True, default=new_uuid)
    survivor_id: Mapped[str] = mapped_column(sa.ForeignKey("households.id"), index=True)
    merged_id: Mapped[str] = mapped_column(sa.ForeignKey("households.id"), index=True)
    candidate_id: Mapped[int | None] = mapped_column(sa.ForeignKey("duplicate_candidates.id"))
    before: Mapped[dict[str, Any]] = mapped_column(JSONType)
    after: Mapped[dict[str, Any]] = mapped_column(JSONType)
    merged_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    merged_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    undone_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    undone_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    change_seq: Mapped[int] = mapped_column(sa.BigInteger, default=0, index=True)
