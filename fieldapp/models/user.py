"""Users, their village scope, device tokens and login attempts."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from fieldapp.models.base import Base, UtcDateTime, new_uuid, utcnow
from fieldapp.models.geo import Village

ROLES = ("worker", "supervisor", "admin")

user_villages = sa.Table(
    "user_villages",
    Base.metadata,
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("village_id", sa.ForeignKey("villages.id", ondelete="CASCADE"), primary_key=True),
)


class User(UserMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The user's id in every tier: a town's workers appear at central (and central's
    # reviewers at a town) as inactive copies carrying this id and ``origin``.
    uid: Mapped[str] = mapped_column(sa.String(36), unique=True, default=new_uuid)
    origin: Mapped[str | None] = mapped_column(sa.String(50))  # None: a user of this server
    username: Mapped[str] = mapped_column(sa.String(50), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(50), default="")
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(12))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    # Part of every web session's id (get_id): raising it ends the user's sessions on
    # every browser, copies of the cookie included (logout, password reset, role change…).
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")

    villages: Mapped[list[Village]] = relationship(secondary=user_villages, order_by=Village.id)

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def get_id(self) -> str:  # Flask-Login: what the session cookie holds
        return f"{self.id}.{self.session_version or 0}"

    def end_sessions(self) -> None:
        """Make every web session of this user invalid (the caller commits)."""
        self.session_version = (self.session_version or 0) + 1

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def village_ids(self) -> list[int]:
        return [v.id for v in self.villages]


class DeviceToken(Base):
    """A bearer token for one (user, device); only its SHA-256 is stored."""

    __tablename__ = "device_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    device_id: Mapped[str] = mapped_column(sa.String(64))
    device_name: Mapped[str | None] = mapped_column(sa.String(100))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)

    user: Mapped[User] = relationship()


class LoginAttempt(Base):
    """Failed and successful logins, kept for throttling per user and per address."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        sa.Index("ix_login_attempts_username_at", "username", "at"),
        sa.Index("ix_login_attempts_address_at", "address", "at"),
        sa.Index("ix_login_attempts_username_device", "username", "device"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(50))
    address: Mapped[str] = mapped_column(sa.String(64))
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    success: Mapped[bool] = mapped_column(default=False)
    # the web's device cookie ("web:…") or the phone's device_id (fieldapp/auth/throttle.py)
    device: Mapped[str | None] = mapped_column(sa.String(64))


class ScopeRemoval(Base):
    """A village taken out of a user's scope, numbered from the pull sequence: the next
    pull of the user's phones lists that village's households under ``removed``
    (docs/sync-protocol.md), unless the village is back in scope by then."""

    __tablename__ = "scope_removals"
    __table_args__ = (sa.Index("ix_scope_removals_user_seq", "user_id", "change_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    village_id: Mapped[int] = mapped_column(sa.ForeignKey("villages.id", ondelete="CASCADE"))
    change_seq: Mapped[int] = mapped_column(sa.BigInteger)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
