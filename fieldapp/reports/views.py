"""The reports area."""

from __future__ import annotations

from flask import render_template

from fieldapp.access import roles_required
from fieldapp.reports import bp


@bp.route("/")
@roles_required("supervisor", "admin")
def index() -> str:
    return render_template("reports/index.html")
