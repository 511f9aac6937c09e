"""The role-aware home page and small shared pages."""

from __future__ import annotations

from flask import redirect, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from fieldapp.main import bp

HOME_BY_ROLE = {"worker": "worker.index", "supervisor": "review.index", "admin": "admin.index"}


@bp.route("/")
@login_required
def home() -> Response:
    return redirect(url_for(HOME_BY_ROLE.get(current_user.role, "auth.logout")))


@bp.route("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}
