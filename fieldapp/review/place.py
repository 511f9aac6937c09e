"""Where a visit was recorded, and whether that is far from where the household is known to be.

The reference is the household's last known position: the location of its previous
visit (the latest one the server received before this one that carries a position). A
visit farther from it than ``LOCATION_FAR_METERS`` (default 2 km) is flagged for the
reviewer: a visit that says 入户 but was recorded elsewhere, or a household that moved.

A household's first positioned visit has no such reference; its village's 村委会
position does (``villages.lat``/``lon``, set by an admin: ``fieldapp/villages.py``),
with its own, wider radius ``LOCATION_VILLAGE_FAR_METERS`` (default 5 km: a village
spreads over several kilometres, a household does not). Without either, the visit's
position is shown alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from fieldapp.models import Visit
from fieldapp.villages import village_position
from sync.geo import distance_m

Reference = Literal["visit", "village"]


@dataclass(frozen=True)
class Place:
    lat: float
    lon: float
    accuracy_m: float | None
    previous_uuid: str | None = None  # the earlier visit measured from (reference "visit")
    distance_m: float | None = None
    far: bool = False
    reference: Reference | None = None  # None: nothing to measure from
    limit_m: float | None = None  # the radius beyond which it is far


def _point(location: Any) -> tuple[float, float] | None:
    if not isinstance(location, dict):
        return None
    lat, lon = location.get("lat"), location.get("lon")
    if isinstance(lat, int | float) and isinstance(lon, int | float) and not isinstance(lat, bool) \
            and not isinstance(lon, bool):
        return float(lat), float(lon)
    return None


def visit_place(session: Session, visit: Visit, far_meters: float | None = None,
                village_far_meters: float | None = None) -> Place | None:
    """The visit's position and its distance from the household's previous one, else from its
    village's 村委会 (None: the visit has no position)."""
    here = _point(visit.location)
    if here is None:
        return None
    accuracy = visit.location.get("accuracy_m") if visit.location else None
    accuracy = float(accuracy) if isinstance(accuracy, int | float) and not isinstance(accuracy, bool) else None
    config = current_app.config
    earlier = session.execute(
        sa.select(Visit.uuid, Visit.location)
        .where(Visit.household_id == visit.household_id, Visit.uuid != visit.uuid,
               Visit.server_seq < visit.server_seq)  # JSON null is not SQL NULL: filtered below
        .order_by(Visit.server_seq.desc()).limit(50)).all()
    for uuid, location in earlier:
        there = _point(location)
        if there is not None:
            limit = float(config["LOCATION_FAR_METERS"] if far_meters is None else far_meters)
            distance = distance_m(*here, *there)
            return Place(here[0], here[1], accuracy, uuid, distance, distance > limit, "visit", limit)
    centre = village_position(session, visit.village_id)
    if centre is not None:
        limit = float(config["LOCATION_VILLAGE_FAR_METERS"] if village_far_meters is None else village_far_meters)
        distance = distance_m(*here, *centre)
        return Place(here[0], here[1], accuracy, None, distance, distance > limit, "village", limit)
    return Place(here[0], here[1], accuracy)
