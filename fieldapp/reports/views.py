"""The reports area: progress dashboard, follow-up lists and exports (supervisors: their villages)."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from fieldapp.access import roles_required, village_scope
from fieldapp.campaigns import newest_first
from fieldapp.downloads import attachment
from fieldapp.extensions import db
from fieldapp.models import Campaign
from fieldapp.reports import bp, exports, queries, services
from fieldapp.reports.chart import visits_chart
from fieldapp.tier import is_central

SORT_KEYS = {c.key for c in exports.progress_columns(by_town=True)}


def _campaign() -> Campaign:
    campaign = services.find_campaign(db.session(), request.args.get("campaign"))
    if campaign is None:
        abort(404)
    return campaign


def _download(file: services.ExportFile) -> Response:
    return attachment(file.content, file.mimetype, file.filename)


def _sorted(rows: list[queries.ProgressRow], key: str, descending: bool) -> list[queries.ProgressRow]:
    """The village rows in the order asked for in the URL (works without JavaScript)."""
    if key not in SORT_KEYS:
        return rows
    return sorted(rows, key=lambda row: row.to_dict()[key], reverse=descending)


@bp.route("/")
@roles_required("supervisor", "admin")
def index() -> str:
    all_campaigns = newest_first(db.session())
    if not all_campaigns:
        return render_template("reports/index.html", campaign=None, campaigns=[])
    campaign = _campaign()
    scope = village_scope(current_user)
    # the rollups are followed once, for the first table; the others read them as they stand then
    report = services.progress_report(db.session(), campaign.id, scope, page=True)
    progress = report.progress
    sort, order = request.args.get("sort", ""), request.args.get("order", "asc")
    return render_template(
        "reports/index.html", campaign=campaign, campaigns=all_campaigns, progress=progress,
        rows=_sorted(progress.rows, sort, order == "desc"), sort=sort, order=order,
        columns=exports.progress_columns(by_town=report.towns is not None), flags=exports.FLAG_TITLES,
        summary=report.summary, towns=report.towns, town_columns=exports.PROGRESS_COLUMNS[1:],
        workers=queries.progress_by_worker(db.session(), campaign.id, scope, follow=False),
        chart=visits_chart(queries.visits_per_day(db.session(), campaign.id, scope, follow=False)),
    )


@bp.route("/progress.json")
@roles_required("supervisor", "admin")
def progress_json() -> dict[str, Any]:
    return services.progress_document(db.session(), _campaign(), village_scope(current_user))


@bp.route("/export/progress.<file_format>")
@roles_required("supervisor", "admin")
def export_progress(file_format: str) -> Response:
    if file_format not in services.FORMATS:
        abort(404)
    campaign, scope = _campaign(), village_scope(current_user)
    file = services.progress_file(db.session(), campaign, scope, file_format)
    exports.record_export(db.session(), current_user, "progress", campaign_id=campaign.id,
                          export_format=file_format, rows=file.rows, village_ids=scope)
    return _download(file)


@bp.route("/followup/<flag>")
@roles_required("supervisor", "admin")
def follow_up(flag: str) -> str:
    if flag not in queries.FOLLOW_UP_FLAGS:
        abort(404)
    campaign = _campaign()
    items = queries.follow_up(db.session(), campaign.id, flag, village_scope(current_user))
    by_town = is_central(db.session())
    headers, rows = exports.follow_up_table(items, campaign.form_version, full=False, by_town=by_town)
    numeric = {index + by_town for index in (6, 11, 12)}  # 家庭人口数, the two incomes
    return render_template("reports/follow_up.html", campaign=campaign, flag=flag, numeric=numeric,
                           title=exports.FLAG_TITLES[flag], headers=headers, rows=rows, cell_text=exports.cell_text)


@bp.route("/export/followup/<flag>.<file_format>", methods=["GET", "POST"])
@roles_required("supervisor", "admin")
def export_follow_up(flag: str, file_format: str) -> Response:
    """Masked by default. Full ID numbers and phones: an admin's POST (CSRF-checked), audited."""
    if flag not in queries.FOLLOW_UP_FLAGS or file_format not in services.FORMATS:
        abort(404)
    full = request.method == "POST" and request.form.get("full") == "1"
    if full and not current_user.is_admin:
        abort(403)
    campaign, scope = _campaign(), village_scope(current_user)
    file = services.follow_up_file(db.session(), campaign, scope, flag, file_format, full=full)
    exports.record_export(db.session(), current_user, f"follow_up:{flag}", campaign_id=campaign.id,
                          export_format=file_format, rows=file.rows, full=full, village_ids=scope)
    return _download(file)


@bp.app_template_filter("label")
def _label(text: str) -> str:
    """A header from ``exports`` translated (plain gettext: headers may contain "%")."""
    return str(_(text))


@bp.app_template_filter("percent")
def _percent(value: float) -> str:
    return str(_("%(value)s%%", value=f"{value:.1f}"))
