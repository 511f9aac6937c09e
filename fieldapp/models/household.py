"""Households (the roster plus the visits applied to them) and their revisions.

Each change to a household's form fields writes a new :class:`HouseholdRevision`
holding the full snapshot of those fields, so the three-way merge can read
the base a visit was filled against (``base_rev``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fieldapp.models.base import Base, JSONType, UtcDateTime, new_uuid, utcnow
from fieldapp.models.geo import Village

# The form's household fields, which are also columns here.
HOUSEHOLD_FIELDS = (
    "head_name", "head_id", "phone", "group", "hamlet", "size", "labor_count",
    "category", "monitor_type", "risk_eliminated",
)


class Household(Base):
    __tablename__ = "households"
    __table_args__ = (
        sa.UniqueConstraint("town_id", "code"),
        sa.Index("ix_households_village_seq", "village_id", "change_seq"),
        sa.Index("ix_households_village_group", "village_id", "group"),
        # Reports (fieldapp/reports/queries.py): households per village, and the
        # visited household's category looked up by id, both without reading the table.
        sa.Index("ix_households_report_village", "village_id", "merged_into_id", "source"),
        sa.Index("ix_households_report_id", "id", "merged_into_id", "village_id", "category",
                 "monitor_type", "size", "risk_eliminated"),
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_uuid)
    code: Mapped[str | None] = mapped_column(sa.String(40))
    town_id: Mapped[int] = mapped_column(sa.ForeignKey("towns.id"))
    village_id: Mapped[int] = mapped_column(sa.ForeignKey("villages.id"), index=True)
    group: Mapped[str] = mapped_column(sa.String(20))
    hamlet: Mapped[str | None] = mapped_column(sa.String(30))
    head_name: Mapped[str] = mapped_column(sa.String(20))
    head_id: Mapped[str] = mapped_column(sa.String(18), index=True)
    phone: Mapped[str | None] = mapped_column(sa.String(20), index=True)
    size: Mapped[int] = mapped_column()
    labor_count: Mapped[int | None] = mapped_column()
    category: Mapped[str] = mapped_column(sa.String(10))  # general | lifted
    monitor_type: Mapped[str] = mapped_column(sa.String(10), default="none")
    risk_eliminated: Mapped[bool | None] = mapped_column()
    head_pinyin: Mapped[str] = mapped_column(sa.String(120), default="")
    head_initials: Mapped[str] = mapped_column(sa.String(20), default="")
    source: Mapped[str] = mapped_column(sa.String(10), default="roster")  # roster | field
    rev: Mapped[int] = mapped_column(default=1)
    # The surviving household of a merge. No foreign key: after a merge across towns
    # (decided at central) a town keeps the id of a household it does not hold.
    merged_into_id: Mapped[str | None] = mapped_column(sa.String(36), index=True)
    change_seq: Mapped[int] = mapped_column(sa.BigInteger, default=0, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)

    village: Mapped[Village] = relationship()

    def field_values(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in HOUSEHOLD_FIELDS}


class HouseholdRevision(Base):
    __tablename__ = "household_revisions"
    __table_args__ = (sa.UniqueConstraint("household_id", "rev"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[str] = mapped_column(sa.ForeignKey("households.id", ondelete="CASCADE"))
    rev: Mapped[int] = mapped_column()
    values: Mapped[dict[str, Any]] = mapped_column(JSONType)
    changed: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    reason: Mapped[str] = mapped_column(sa.String(20))  # roster | visit | resolution | merge | undo
    visit_uuid: Mapped[str | None] = mapped_column(sa.String(36))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    # The household's change number when this revision was written (a town's replication feed).
    change_seq: Mapped[int] = mapped_column(sa.BigInteger, default=0, index=True)
