"""The worker area."""

from __future__ import annotations

from flask import render_template

from fieldapp.access import roles_required
from fieldapp.worker import bp


@bp.route("/")
@roles_required("worker")
def index() -> str:
    return render_template("worker/index.html")
