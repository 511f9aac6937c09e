"""Token authentication for the API: the decorator and the token endpoints."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, g, jsonify, request
from flask_login import current_user
from flask_wtf.csrf import generate_csrf, validate_csrf
from werkzeug.wrappers import Response
from wtforms.validators import ValidationError

from fieldapp import audit, tokens
from fieldapp.api import bp
from fieldapp.api.body import read_json
from fieldapp.auth.credentials import authenticate
from fieldapp.auth.throttle import is_throttled, note_attempt
from fieldapp.db import begin_write, write_transaction
from fieldapp.errors import json_error
from fieldapp.extensions import db
from fieldapp.models import DeviceToken, User
from sync.errors import SyncError

F = TypeVar("F", bound=Callable[..., Any])
LOGIN_MAX_BYTES = 16 * 1024

# What a refused token answers with (sync.errors.KINDS), by the token check's verdict.
TOKEN_PROBLEMS = {"unauthenticated": "token_missing", "token_expired": "token_expired",
                  "token_revoked": "token_revoked"}


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def token_required(view: F) -> F:
    """Require ``Authorization: Bearer <token>``; sets ``g.api_user`` (a :class:`tokens.TokenUser`),
    ``g.api_token_id`` and ``g.api_device_id``."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        checked = tokens.verify(db.session, _bearer())
        if checked.user is None:
            return json_error(TOKEN_PROBLEMS[checked.problem or "unauthenticated"],
                              headers={"WWW-Authenticate": 'Bearer realm="fieldapp"'})
        g.api_token_id = checked.token_id
        g.api_device_id = checked.device_id
        g.api_user = checked.user
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


_LIMITS = {"username": 50, "password": 200, "device_id": 64, "device_name": 100}


def _login_fields(payload: Any, keys: tuple[str, ...] = tuple(_LIMITS)) -> dict[str, str | None]:
    """The login body's ``keys`` (``device_name`` optional), or 422 naming each bad one."""
    errors: dict[str, list[str]] = {}
    if not isinstance(payload, dict):
        raise SyncError("invalid_request", {"fields": {"$": ["expected an object"]}})
    for key in sorted(set(payload) - set(keys), key=str):
        errors.setdefault(str(key), []).append("unknown field")
    limits = {key: _LIMITS[key] for key in keys}
    values: dict[str, str | None] = {}
    for key, limit in limits.items():
        value = payload.get(key)
        if key == "device_name" and (value is None or (isinstance(value, str) and not value.strip()
                                                        and len(value) <= limit)):
            values[key] = None
            continue
        if not isinstance(value, str) or not value.strip() or len(value) > limit:
            errors.setdefault(key, []).append(f"expected a non-empty string of at most {limit} characters")
            continue
        if _CONTROL.search(value):
            errors.setdefault(key, []).append("control characters are not allowed")
            continue
        values[key] = value if key == "password" else value.strip()
    if errors:
        raise SyncError("invalid_request", {"fields": errors})
    return values


def _user_json(user: User) -> dict[str, Any]:
    return {"id": user.id, "username": user.username, "display_name": user.display_name,
            "role": user.role, "villages": [v.name for v in user.villages]}


def _issue(user: User, device_id: str, device_name: str | None, **details: Any) -> Response:
    """A new token for (user, device), audited, committed, as the login response."""
    issued = tokens.issue(db.session, user, device_id, device_name,
                          int(current_app.config["TOKEN_TTL_DAYS"]))
    audit.record(db.session, user, "token_issue", "device_token", issued.row.id,
                 details={"device_id": device_id, "device_name": device_name, **details})
    db.session.commit()
    return jsonify({
        "token": issued.token,
        "expires_at": tokens._aware(issued.row.expires_at).isoformat(),  # type: ignore[union-attr]
        "user": _user_json(user),
    })


@bp.post("/auth/token")
def issue_token() -> Response | tuple[Response, int]:
    """Log a device in: user name and password in, bearer token out."""
    fields = _login_fields(read_json(LOGIN_MAX_BYTES))
    username, password, device_id = str(fields["username"]), str(fields["password"]), str(fields["device_id"])
    device_name = fields["device_name"]
    address = request.remote_addr or "?"
    # Every login writes (an attempt, a token): take the write lock first.
    begin_write(db.session)
    if is_throttled(db.session, username, address, device_id):
        raise SyncError("login_throttled")
    user = authenticate(db.session(), username, password)
    if user is None:
        note_attempt(db.session, username, address, success=False, device=device_id)
        db.session.commit()
        raise SyncError("invalid_credentials")
    note_attempt(db.session, username, address, success=True, device=device_id)
    return _issue(user, device_id, device_name)


# -- one login: the web session hands the app a token ---------------------------
#
# A worker who logged in on the web pages (``/login``) opens ``/app/``, which has no
# token yet. The app asks ``GET /auth/session`` (with the session cookie; the API
# ignores cookies everywhere else) for the session's user and a CSRF token, then
# ``POST /auth/session-token`` with that CSRF token in ``X-CSRFToken`` and its
# device id, and gets the same answer as a password login. Only a worker's session
# is exchanged. Another site can neither read the CSRF token (same-origin JSON)
# nor post without it; the password is never sent again.

def _session_user() -> User:
    user = current_user._get_current_object() if current_user.is_authenticated else None
    if not isinstance(user, User) or not user.active:
        raise SyncError("web_not_logged_in")
    return user


@bp.get("/auth/session")
def web_session() -> Response:
    """The user logged in on the web pages (session cookie), with a CSRF token for
    ``POST /auth/session-token``."""
    user = _session_user()
    response = jsonify({"user": _user_json(user), "csrf_token": generate_csrf()})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/auth/session-token")
def session_token() -> Response:
    """A device token for the worker logged in on the web pages (no second password)."""
    user = _session_user()
    if user.role != "worker":
        raise SyncError("not_a_worker")
    try:
        validate_csrf(request.headers.get("X-CSRFToken"))
    except ValidationError as exc:
        raise SyncError("csrf_failed") from exc
    fields = _login_fields(read_json(LOGIN_MAX_BYTES), ("device_id", "device_name"))
    begin_write(db.session)
    return _issue(user, str(fields["device_id"]), fields["device_name"], via="web_session")


@bp.post("/auth/revoke")
@token_required
def revoke_token() -> Response:
    """Log the calling device out: its token stops working."""
    token_id = g.api_token_id
    with write_transaction(db.session) as session:
        row = session.get(DeviceToken, token_id)
        assert row is not None  # token_required has just found it
        tokens.revoke(session, row)
        audit.record(session, g.api_user, "token_revoke", "device_token", row.id,
                     details={"device_id": row.device_id})
    return jsonify({"revoked": True})
