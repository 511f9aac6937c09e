"""Town, villages (and communities) and their groups (村民小组)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fieldapp.models.base import Base


class Town(Base):
    __tablename__ = "towns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50), unique=True)
    code: Mapped[str | None] = mapped_column(sa.String(12))
    county: Mapped[str | None] = mapped_column(sa.String(50))

    villages: Mapped[list[Village]] = relationship(back_populates="town", order_by="Village.code")


class Village(Base):
    __tablename__ = "villages"
    __table_args__ = (sa.UniqueConstraint("town_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    town_id: Mapped[int] = mapped_column(sa.ForeignKey("towns.id"))
    name: Mapped[str] = mapped_column(sa.String(50))
    code: Mapped[str | None] = mapped_column(sa.String(12))
    kind: Mapped[str] = mapped_column(sa.String(10), default="village")  # village | community
    # The 村委会's position (WGS-84 degrees, as a phone's GPS gives them), set by an admin
    # (fieldapp/villages.py): the review page's reference for a household's first positioned visit.
    lat: Mapped[float | None] = mapped_column(sa.Float)
    lon: Mapped[float | None] = mapped_column(sa.Float)

    town: Mapped[Town] = relationship(back_populates="villages")
    groups: Mapped[list[VillageGroup]] = relationship(back_populates="village", order_by="VillageGroup.number")


class VillageGroup(Base):
    __tablename__ = "village_groups"
    __table_args__ = (sa.UniqueConstraint("village_id", "label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(sa.ForeignKey("villages.id"))
    label: Mapped[str] = mapped_column(sa.String(20))  # canonical, e.g. "3组"
    number: Mapped[int | None] = mapped_column()

    village: Mapped[Village] = relationship(back_populates="groups")
