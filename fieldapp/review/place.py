"""Where a visit was recorded, and whether that is far from the household's last known place.

The household's last known position is the location of its previous visit (the latest
one the server received before this one that carries a position). A visit farther from
it than ``LOCATION_FAR_METERS`` (default 2 km) is flagged for the reviewer: a visit
that says 入户 but was recorded elsewhere, or a household that moved.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from fieldapp.models import Visit
from sync.geo import distance_m


@dataclass(frozen=True)
class Place:
    lat: float
    lon: float
    accuracy_m: float | None
    previous_uuid: str | None = None
    distance_m: float | None = None
    far: bool = False


def _point(location: Any) -> tuple[float, float] | None:
    if not isinstance(location, dict):
        return None
    lat, lon = location.get("lat"), location.get("lon")
    if isinstance(lat, int | float) and isinstance(lon, int | float) and not isinstance(lat, bool) \
            and not isinstance(lon, bool):
        return float(lat), float(lon)
    return None


def visit_place(session: Session, visit: Visit, far_meters: float | None = None) -> Place | None:
    """The visit's position and its distance from the household's previous one (None: no position)."""
    here = _point(visit.location)
    if here is None:
        return None
    accuracy = visit.location.get("accuracy_m") if visit.location else None
    accuracy = float(accuracy) if isinstance(accuracy, int | float) and not isinstance(accuracy, bool) else None
    limit = float(current_app.config["LOCATION_FAR_METERS"] if far_meters is None else far_meters)
    earlier = session.execute(
        sa.select(Visit.uuid, Visit.location)
        .where(Visit.household_id == visit.household_id, Visit.uuid != visit.uuid,
               Visit.server_seq < visit.server_seq)  # JSON null is not SQL NULL: filtered below
        .order_by(Visit.server_seq.desc()).limit(50)).all()
    for uuid, location in earlier:
        there = _point(location)
        if there is not None:
            distance = distance_m(*here, *there)
            return Place(here[0], here[1], accuracy, uuid, distance, distance > limit)
    return Place(here[0], here[1], accuracy)
