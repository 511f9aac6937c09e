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
from sqlalchemy.orm import Session, joinedload

from fieldapp import database
from fieldapp.models import DeviceToken, User, utcnow

TOKEN_BYTES = 32
# last_used_at is written at most this often, so a pull is not a write.
TOUCH_INTERVAL = dt.timedelta(hours=1)


@dataclass(frozen=True)
class Issued:
    token: str
    row: DeviceToken


@dataclass(frozen=True)
class Verified:
    """The outcome of checking a presented token: the row, or why it is refused."""

    row: DeviceToken | None
    problem: str | None  # None | "unauthenticated" | "token_expired" | "token_revoked"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    """SQLite returns naive datetimes; every stored time is UTC."""
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def issue(session: Session, user: User, device_id: str, device_name: str | None = None,
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


def verify(session: Session, token: str | None) -> Verified:
    """Check a presented token: known, not revoked, not expired, user active."""
    if not token:
        return Verified(None, "unauthenticated")
    # The user and their villages in the same round trip: every API call needs the scope.
    row = session.scalar(
        sa.select(DeviceToken).where(DeviceToken.token_hash == hash_token(token))
        .options(joinedload(DeviceToken.user).selectinload(User.villages))
    )
    if row is None or not row.user.active:
        return Verified(None, "unauthenticated")
    if row.revoked_at is not None:
        return Verified(None, "token_revoked")
    now = utcnow()
    expires = _aware(row.expires_at)
    if expires is None or expires <= now:
        return Verified(None, "token_expired")
    last = _aware(row.last_used_at)
    if last is None or now - last > TOUCH_INTERVAL:
        _touch(session, row.id, now)
    return Verified(row, None)


def _touch(session: Session, token_id: int, now: dt.datetime) -> None:
    """Record use, as its own small write transaction.

    Upgrading the verify read into a write would fail at once on SQLite if
    another process wrote meanwhile (a stale snapshot cannot take the write
    lock), so the read is ended and the write starts with ``BEGIN IMMEDIATE``.
    """
    session.rollback()
    database.begin_write(session)
    session.execute(
        sa.update(DeviceToken).where(DeviceToken.id == token_id).values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    session.commit()


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
