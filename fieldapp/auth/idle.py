"""The idle timeout of web sessions: a session unused for ``SESSION_IDLE_HOURS`` ends.

The time of the last request is kept in the (signed) session as ``seen``, rewritten
at most once a minute so that most responses set no cookie. Ending a session for
good (logout, a password reset…) is the user's ``session_version``; see
``fieldapp.models.User.get_id``.
"""

from __future__ import annotations

import time

from flask import Flask, session
from flask_login import logout_user

REFRESH_SECONDS = 60


def start() -> None:
    """Count the idle time from now (at login)."""
    session["seen"] = int(time.time())


def init_app(app: Flask) -> None:
    @app.before_request
    def _end_idle_sessions() -> None:
        if "_user_id" not in session:
            return
        now = int(time.time())
        seen = session.get("seen")
        if isinstance(seen, int) and now - seen > float(app.config["SESSION_IDLE_HOURS"]) * 3600:
            logout_user()
            session.clear()
            return
        if not isinstance(seen, int) or now - seen >= REFRESH_SECONDS:
            session["seen"] = now
