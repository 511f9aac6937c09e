"""Login throttling per user name and per address, shared by the web login and the API.

Counts live in the database (``login_attempts``) so that every app process
sees the same numbers.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from fieldapp.models import LoginAttempt, utcnow


def _since() -> dt.datetime:
    return utcnow() - dt.timedelta(seconds=int(current_app.config["LOGIN_WINDOW_SECONDS"]))


def is_throttled(session: Session, username: str, address: str) -> bool:
    """True when the user name, or the address, failed too often in the window."""
    limit = int(current_app.config["LOGIN_MAX_FAILURES"])
    since = _since()
    by_user = session.scalar(
        sa.select(sa.func.count()).select_from(LoginAttempt).where(
            LoginAttempt.username == username, LoginAttempt.at >= since, LoginAttempt.success.is_(False)
        )
    ) or 0
    by_address = session.scalar(
        sa.select(sa.func.count()).select_from(LoginAttempt).where(
            LoginAttempt.address == address, LoginAttempt.at >= since, LoginAttempt.success.is_(False)
        )
    ) or 0
    return by_user >= limit or by_address >= limit * 4


def note_attempt(session: Session, username: str, address: str, success: bool) -> None:
    session.add(LoginAttempt(username=username[:50], address=address[:64], success=success))
    if success:
        session.execute(
            sa.delete(LoginAttempt).where(
                LoginAttempt.username == username, LoginAttempt.success.is_(False)
            )
        )
