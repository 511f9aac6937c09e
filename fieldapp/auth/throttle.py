"""Login throttling, shared by the web login and the API.

Counts live in the database (``login_attempts``) so that every app process
sees the same numbers. Within ``LOGIN_WINDOW_SECONDS``:

- a **known device** (one this user name logged in from before: the web's
  ``fieldapp_device`` cookie, or the phone's ``device_id``) is refused only
  after ``LOGIN_MAX_FAILURES`` failures of its own, so failures elsewhere, on
  its user name or from its address (one office NAT, one proxy), never lock
  out the person at their own PC or phone;
- any other login is refused after ``LOGIN_MAX_FAILURES`` failures on the user
  name, or ``ADDRESS_FACTOR`` times as many from the address (a higher bar: many
  people share one address, and guesses at unknown names count only there).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from flask import current_app

from fieldapp.db import AnySession
from fieldapp.models import LoginAttempt, utcnow

ADDRESS_FACTOR = 4


def _since() -> dt.datetime:
    return utcnow() - dt.timedelta(seconds=int(current_app.config["LOGIN_WINDOW_SECONDS"]))


def _failures(session: AnySession, *where: Any) -> int:
    return session.scalar(
        sa.select(sa.func.count()).select_from(LoginAttempt)
        .where(LoginAttempt.at >= _since(), LoginAttempt.success.is_(False), *where)
    ) or 0


def known_device(session: AnySession, username: str, device: str | None) -> bool:
    """Whether ``username`` logged in successfully from ``device`` before."""
    if not device:
        return False
    return session.scalar(
        sa.select(LoginAttempt.id).where(LoginAttempt.username == username, LoginAttempt.device == device,
                                         LoginAttempt.success.is_(True)).limit(1)
    ) is not None


def is_throttled(session: AnySession, username: str, address: str, device: str | None = None) -> bool:
    """True when this login must wait: see the module docstring."""
    limit = int(current_app.config["LOGIN_MAX_FAILURES"])
    if known_device(session, username, device):
        return _failures(session, LoginAttempt.username == username, LoginAttempt.device == device) >= limit
    return (_failures(session, LoginAttempt.username == username) >= limit
            or _failures(session, LoginAttempt.address == address) >= limit * ADDRESS_FACTOR)


def note_attempt(session: AnySession, username: str, address: str, success: bool,
                 device: str | None = None) -> None:
    """Record an attempt. A success clears the user name's failures made from the same
    device (or, without one, from the same address), not those of others: someone
    else's guesses keep counting while the owner logs in."""
    device = device[:64] if device else None
    session.add(LoginAttempt(username=username[:50], address=address[:64], success=success, device=device))
    if success:
        same_source = sa.or_(LoginAttempt.device == device, sa.and_(
            LoginAttempt.device.is_(None), LoginAttempt.address == address[:64]))
        session.execute(
            sa.delete(LoginAttempt).where(
                LoginAttempt.username == username, LoginAttempt.success.is_(False), same_source
            )
        )
