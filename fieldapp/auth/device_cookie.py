"""The web's device cookie: a random id set at a successful login, so that the next
login from the same browser counts as a known device (fieldapp/auth/throttle.py).

It proves nothing by itself (the password is still needed); it only keeps other
people's failed guesses from locking the owner out of their own PC.
"""

from __future__ import annotations

import re
import secrets

from flask import Request, current_app
from werkzeug.wrappers import Response

NAME = "fieldapp_device"
PREFIX = "web:"
MAX_AGE = 400 * 24 * 3600  # the longest browsers keep a cookie
_VALUE = re.compile(r"^[A-Za-z0-9_-]{22,43}$")


def read(request: Request) -> str | None:
    """The device id of this browser (``web:<random>``), if it has a well-formed one."""
    value = request.cookies.get(NAME, "")
    return PREFIX + value if _VALUE.match(value) else None


def new() -> str:
    return PREFIX + secrets.token_urlsafe(16)


def write(response: Response, device: str) -> None:
    response.set_cookie(NAME, device.removeprefix(PREFIX), max_age=MAX_AGE, path="/login", httponly=True,
                        samesite="Lax", secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")))
