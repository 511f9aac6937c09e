"""Checking a user name and password, the same for the web login and the API."""

from __future__ import annotations

from functools import cache

import sqlalchemy as sa
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from fieldapp.models import User


@cache
def _dummy_hash() -> str:
    return generate_password_hash("no user has this password", method="scrypt")


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this name and password, else ``None``.

    A password is hashed whatever the outcome: an unknown or inactive name that
    answered at once would tell which names exist (a wrong password for a real
    user takes the scrypt check, about 100 ms).
    """
    user = session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return None
    return user if user.check_password(password) and user.active else None
