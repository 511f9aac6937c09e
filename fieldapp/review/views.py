"""The review area."""

from __future__ import annotations

from flask import render_template

from fieldapp.access import roles_required
from fieldapp.review import bp


@bp.route("/")
@roles_required("supervisor", "admin")
def index() -> str:
    return render_template("review/index.html")
