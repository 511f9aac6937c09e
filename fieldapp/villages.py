"""Villages' 村委会 positions: setting them (``fieldapp village locate``, ``/admin/villages``)
and listing them.

A village's position is the review page's reference for a household's first positioned
visit (``fieldapp/review/place.py``): a visit recorded farther than
``LOCATION_VILLAGE_FAR_METERS`` from its village's 村委会 is flagged. Positions are
WGS-84 degrees, as a phone's GPS gives them. Coordinates read off a Chinese web map
(高德, 腾讯: GCJ-02; 百度: BD-09) are shifted by a few hundred metres, which the
village radius absorbs.

The edge checks are the earth's (latitude −90..90, longitude −180..180) and refuse with a
kind of the error catalogue; a position outside China is only a warning
(:attr:`Located.outside_china`), since the server may serve anywhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fieldapp import audit
from fieldapp.db import AnySession, write_transaction
from fieldapp.extensions import db
from fieldapp.models import Town, User, Village
from sync.errors import SyncError

# China's extent, generously (曾母暗沙 3.9°N, 漠河 53.6°N; 帕米尔 73.5°E, 抚远 135.1°E).
CHINA_LAT = (3.5, 54.0)
CHINA_LON = (73.0, 135.5)


class VillageError(SyncError, ValueError):
    """A refused village position or an unknown village: a kind of the error catalogue
    (``str(error)`` is its Chinese message)."""


@dataclass(frozen=True)
class VillagePosition:
    id: int
    town: str
    name: str
    code: str | None
    lat: float | None
    lon: float | None


@dataclass(frozen=True)
class Located:
    """What :func:`locate_village` stored: the village (``乡镇/村``) and its position (None: cleared)."""

    village: str
    position: tuple[float, float] | None
    outside_china: bool


def check_position(lat: float | None, lon: float | None) -> tuple[float, float] | None:
    """The position to store, or None (both absent: clear it); raises :class:`VillageError`
    for one without the other, or a value off the earth's range (NaN and infinities too)."""
    if lat is None and lon is None:
        return None
    if lat is None or lon is None:
        raise VillageError("position_incomplete")
    if not -90.0 <= lat <= 90.0:
        # 114.8 as a latitude next to 30.2 as a longitude: the two were swapped.
        if -180.0 <= lat <= 180.0 and -90.0 <= lon <= 90.0:
            raise VillageError("latitude_looks_swapped", value=_shown(lat))
        raise VillageError("latitude_out_of_range", value=_shown(lat))
    if not -180.0 <= lon <= 180.0:
        raise VillageError("longitude_out_of_range", value=_shown(lon))
    return float(lat), float(lon)


def outside_china(position: tuple[float, float]) -> bool:
    """Whether the position lies outside China's extent (a warning, never a refusal)."""
    lat, lon = position
    return not (CHINA_LAT[0] <= lat <= CHINA_LAT[1] and CHINA_LON[0] <= lon <= CHINA_LON[1])


def _shown(value: float) -> str:
    return str(value) if math.isfinite(value) else str(value).lower()


def find_village(session: AnySession, entry: str) -> Village:
    """The village ``entry`` names: ``沼山村``, ``保安镇/沼山村`` where towns share the name
    (at central), or its 12-digit code; raises :class:`VillageError`."""
    town, _, name = entry.strip().rpartition("/")
    name = name.strip()
    if name.isdigit():
        query = sa.select(Village).where(Village.code == name)
    else:
        query = sa.select(Village).where(Village.name == name)
    if town.strip():
        query = query.join(Town, Town.id == Village.town_id).where(Town.name == town.strip())
    matches = list(session.scalars(query.order_by(Village.id)))
    if not matches:
        raise VillageError("village_not_found", name=entry.strip())
    if len(matches) > 1:
        raise VillageError("village_ambiguous", name=name, town=matches[0].town.name)
    return matches[0]


def set_position(session: AnySession, village: Village, position: tuple[float, float] | None,
                 actor: User | None = None, *, via: str) -> None:
    """Store ``village``'s position inside the caller's write transaction, audited
    (``village_locate``, the position before and after)."""
    before = None if village.lat is None or village.lon is None else [village.lat, village.lon]
    village.lat, village.lon = position if position is not None else (None, None)
    audit.record(session, actor, "village_locate", "village", village.id, village_id=village.id,
                 before={"position": before}, after={"position": list(position) if position else None},
                 details={"village": village.name, "via": via})


def locate_village(entry: str | int, lat: float | None, lon: float | None, actor: User | None = None, *,
                   via: str = "cli") -> Located:
    """Set (or, with neither coordinate, clear) the 村委会 position of the village ``entry``
    names (:func:`find_village`; an int is its id) in a write transaction of its own."""
    position = check_position(lat, lon)
    with write_transaction(db.session) as session:
        if isinstance(entry, int):
            village = session.get(Village, entry)
            if village is None:
                raise VillageError("village_not_found", name=str(entry))
        else:
            village = find_village(session, entry)
        set_position(session, village, position, actor, via=via)
        label = f"{village.town.name}/{village.name}"
    return Located(label, position, position is not None and outside_china(position))


def village_positions(session: Session) -> list[VillagePosition]:
    """Every village with its town and position, by town, then code and name."""
    rows = session.execute(
        sa.select(Village.id, Town.name, Village.name, Village.code, Village.lat, Village.lon)
        .join(Town, Town.id == Village.town_id).order_by(Town.id, Village.code, Village.name))
    return [VillagePosition(*row) for row in rows]


def village_position(session: AnySession, village_id: int) -> tuple[float, float] | None:
    """The village's 村委会 position, or None when none was set."""
    row = session.execute(sa.select(Village.lat, Village.lon).where(Village.id == village_id)).first()
    if row is None or row.lat is None or row.lon is None:
        return None
    return float(row.lat), float(row.lon)
