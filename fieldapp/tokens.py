"""Bearer tokens for devices: random, stored as SHA-256, bound to (user, device),
expiring (``TOKEN_TTL_DAYS``, 90 by default) and revocable.

Only the hash is stored, so a copy of the database does not hand out working
tokens. A new token for the same (user, device) revokes the previous one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from fieldapp.db import AnySession, write_transaction
from fieldapp.models import DeviceToken, User, Village, user_villages, utcnow
from sync.store import VillageRef

TOKEN_BYTES = 32
# last_used_at is written at most this often, so a pull is not a write.
TOUCH_INTERVAL = dt.timedelta(hours=1)


@dataclass(frozen=True)
class Issued:
    token: str
    row: DeviceToken


@dataclass(frozen=True)
class TokenUser:
    """The user behind an accepted token, as the check read it: enough for scope,
    the sync engine and the audit log, and no ORM object to expire or reload."""

    id: int
    username: str
    role: str
    villages: tuple[VillageRef, ...]

    @property
    def village_ids(self) -> list[int]:
        return [v.id for v in self.villages]


@dataclass(frozen=True)
class Verified:
    """The outcome of checking a presented token: its row id and user, or why it is refused."""

    token_id: int | None
    user: TokenUser | None
    problem: str | None  # None | "unauthenticated" | "token_expired" | "token_revoked"
    device_id: str | None = None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    """SQLite returns naive datetimes; every stored time is UTC."""
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def issue(session: AnySession, user: User, device_id: str, device_name: str | None = None,
          ttl_days: int | None = None) -> Issued:
    """Create a token for ``user`` on ``device_id`` (revoking that device's previous one).

    The caller commits.
    """
    now = utcnow()
    days = int(ttl_days if ttl_days is not None else current_app.config["TOKEN_TTL_DAYS"])
    session.execute(
        sa.update(DeviceToken)
        .where(DeviceToken.user_id == user.id, DeviceToken.device_id == device_id,
               DeviceToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    token = secrets.token_urlsafe(TOKEN_BYTES)
    row = DeviceToken(user_id=user.id, device_id=device_id, device_name=device_name,
                      token_hash=hash_token(token), created_at=now,
                      expires_at=now + dt.timedelta(days=days), last_used_at=now)
    session.add(row)
    session.flush()
    return Issued(token, row)


_TOKENS = DeviceToken.__table__
_USERS = User.__table__
_VILLAGES = Village.__table__
# One round trip per API call: the token, its user and the user's villages (one row
# each; no village row for an admin). Plain table columns, no ORM objects.
_VERIFY = (
    sa.select(_TOKENS.c.id, _TOKENS.c.device_id, _TOKENS.c.revoked_at, _TOKENS.c.expires_at, _TOKENS.c.last_used_at,
              _USERS.c.id.label("user_id"), _USERS.c.username, _USERS.c.role, _USERS.c.active,
              _VILLAGES.c.id.label("village_id"), _VILLAGES.c.name.label("village_name"),
              _VILLAGES.c.town_id)
    .select_from(_TOKENS.join(_USERS, _USERS.c.id == _TOKENS.c.user_id)
                 .outerjoin(user_villages, user_villages.c.user_id == _USERS.c.id)
                 .outerjoin(_VILLAGES, _VILLAGES.c.id == user_villages.c.village_id))
    .where(_TOKENS.c.token_hash == sa.bindparam("token_hash"))
    .order_by(_VILLAGES.c.id)
)


def verify(session: AnySession, token: str | None) -> Verified:
    """Check a presented token: known, not revoked, not expired, user active."""
    if not token:
        return Verified(None, None, "unauthenticated")
    rows = session.execute(_VERIFY, {"token_hash": hash_token(token)}).all()
    if not rows or not rows[0].active:
        return Verified(None, None, "unauthenticated")
    row = rows[0]
    if row.revoked_at is not None:
        return Verified(None, None, "token_revoked")
    now = utcnow()
    expires = _aware(row.expires_at)
    if expires is None or expires <= now:
        return Verified(None, None, "token_expired")
    last = _aware(row.last_used_at)
    if last is None or now - last > TOUCH_INTERVAL:
        _touch(session, row.id, now)
    villages = tuple(VillageRef(r.village_id, r.village_name, r.town_id) for r in rows if r.village_id is not None)
    return Verified(row.id, TokenUser(row.user_id, row.username, row.role, villages), None, row.device_id)


def _touch(session: AnySession, token_id: int, now: dt.datetime) -> None:
    """Record use, as its own small write transaction.

    Upgrading the verify read into a write would fail at once on SQLite if
    another process wrote meanwhile (a stale snapshot cannot take the write
    lock), so the read is ended and the write starts with ``BEGIN IMMEDIATE``.
    """
    session.rollback()
    with write_transaction(session):
        session.execute(
            sa.update(DeviceToken).where(DeviceToken.id == token_id).values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )


def revoke(session: Session, row: DeviceToken) -> None:
    """Revoke one token (logout, or an admin taking a lost phone's access away). Caller commits."""
    if row.revoked_at is None:
        row.revoked_at = utcnow()


def revoke_token_id(session: Session, token_id: int) -> bool:
    """Revoke a token by its row id (admin pages); False if there is no such live token."""
    row = session.get(DeviceToken, token_id)
    if row is None or row.revoked_at is not None:
        return False
    revoke(session, row)
    return True


def revoke_user(session: Session, user: User) -> int:
    """Revoke every live token of a user (deactivation, password reset). Caller commits."""
    result = session.execute(
        sa.update(DeviceToken)
        .where(DeviceToken.user_id == user.id, DeviceToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)


def live_tokens(session: Session, user: User) -> list[DeviceToken]:
    """The user's tokens that are neither revoked nor expired, newest first."""
    rows = session.scalars(
        sa.select(DeviceToken).where(DeviceToken.user_id == user.id, DeviceToken.revoked_at.is_(None))
        .order_by(DeviceToken.created_at.desc())
    )
    now = utcnow()
    return [r for r in rows if (_aware(r.expires_at) or now) > now]
