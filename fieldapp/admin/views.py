"""The admin area."""

from __future__ import annotations

from flask import render_template

from fieldapp.access import roles_required
from fieldapp.admin import bp


@bp.route("/")
@roles_required("admin")
def index() -> str:
    return render_template("admin/index.html")
