"""A screening campaign: dates, form version, monitoring line."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from fieldapp.models.base import Base, UtcDateTime, utcnow
from sync.form import DEFAULT_VERSION


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    start_date: Mapped[dt.date] = mapped_column(sa.Date)
    end_date: Mapped[dt.date] = mapped_column(sa.Date)
    form_version: Mapped[str] = mapped_column(sa.String(20), default=DEFAULT_VERSION)
    monitoring_line: Mapped[float] = mapped_column(sa.Float, default=7600.0)
    active: Mapped[bool] = mapped_column(default=False)
    closed: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
