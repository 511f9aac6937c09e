"""The role-aware home page and small shared pages."""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, send_from_directory, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from fieldapp.access import login_required
from fieldapp.campaigns import active_campaign
from fieldapp.extensions import db
from fieldapp.main import bp
from fieldapp.visit_form import visit_form_class
from sync.form import DEFAULT_VERSION, FormContext

HOME_BY_ROLE = {"worker": "worker.index", "supervisor": "review.index", "admin": "admin.index"}


@bp.route("/")
@login_required
def home() -> Response:
    return redirect(url_for(HOME_BY_ROLE.get(current_user.role, "auth.logout")))


@bp.route("/favicon.ico")
def favicon() -> Response:
    """Browsers ask for it on every site; the app icon (a PNG, which they all accept)."""
    return send_from_directory(current_app.static_folder or "static", "icons/icon-192.png",
                               mimetype="image/png", max_age=86400)


@bp.route("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@bp.route("/form", methods=["GET", "POST"])
@login_required
def form_preview() -> str:
    """The active form rendered from its definition; POST checks it with the server's rules."""
    campaign = active_campaign(db.session)
    version = campaign.form_version if campaign else DEFAULT_VERSION
    form = visit_form_class(version)()
    if campaign:
        form.form_context = FormContext(monitoring_line=campaign.monitoring_line,
                                        start=campaign.start_date, end=campaign.end_date)
    checked = request.method == "POST"
    if checked:
        form.validate()
    return render_template("main/form_preview.html", form=form, definition=form.definition, checked=checked)
