"""The admin area: users, village scope, passwords, device tokens, campaigns, villages'
村委会 positions, roster upload.

Views are thin: the form validates, a function of ``services`` acts (one
transaction, audited), the template renders. Every page is admin-only.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from fieldapp import devices
from fieldapp.access import roles_required, whole_server
from fieldapp.admin import bp, disk, replication_pages, roster_upload, services
from fieldapp.admin.forms import (
    ActionForm,
    CampaignForm,
    PasswordResetForm,
    UserCreateForm,
    UserEditForm,
    VillagePositionForm,
    VillagesForm,
)
from fieldapp.campaigns import active_campaign, newest_first
from fieldapp.extensions import db
from fieldapp.models import Campaign, DeviceToken, Town, User, Village, utcnow
from fieldapp.tier import at_central
from fieldapp.villages import VillageError, locate_village, village_positions
from sync.form import available_versions

Page = str | tuple[str, int] | Response


@bp.before_request
@roles_required("admin")
def _admin_only() -> None:
    """Every admin route, present and future, is for admins only (at central: county admins;
    a town's admin there has that town's review, dedup and report pages)."""
    if not whole_server(current_user):
        abort(403)


def _village_choices() -> list[SelectChoice]:
    """The villages to assign; at central under their town's name (towns share village names,
    and a town's supervisor or admin there is given a village of the town: docs/domain.md)."""
    if at_central():
        rows = db.session.execute(sa.select(Village.id, Village.name, Town.name).join(Town, Town.id == Village.town_id)
                                  .order_by(Town.id, Village.code, Village.name))
        return [SelectChoice(vid, f"{town} {name}") for vid, name, town in rows]
    villages = db.session.scalars(sa.select(Village).order_by(Village.code, Village.name))
    return [SelectChoice(v.id, v.name) for v in villages]


@bp.route("/")
def index() -> str:
    counts = dict(db.session.execute(
        sa.select(User.role, sa.func.count()).where(User.active.is_(True)).group_by(User.role)).all())
    active = active_campaign(db.session)
    tokens = db.session.scalar(sa.select(sa.func.count()).select_from(DeviceToken).where(
        DeviceToken.revoked_at.is_(None), DeviceToken.expires_at > utcnow())) or 0
    return render_template("admin/index.html", counts=counts, active=active, tokens=tokens,
                           disk=disk.disk_usage())


@bp.route("/users/")
def users() -> str:
    role = request.args.get("role", "")
    query = sa.select(User).order_by(User.role, User.username)
    if role in ("worker", "supervisor", "admin"):
        query = query.where(User.role == role)
    rows = list(db.session.scalars(query))
    active_tokens = dict(db.session.execute(
        sa.select(DeviceToken.user_id, sa.func.count()).where(
            DeviceToken.revoked_at.is_(None), DeviceToken.expires_at > utcnow()
        ).group_by(DeviceToken.user_id)).all())
    return render_template("admin/users.html", users=rows, role=role, active_tokens=active_tokens)


@bp.route("/users/new", methods=["GET", "POST"])
def user_new() -> Page:
    form = UserCreateForm()
    form.villages.choices = _village_choices()
    if form.validate_on_submit():
        try:
            user = services.create_user(current_user, form.username.data.strip(),
                                        form.display_name.data.strip(), form.role.data,
                                        list(form.villages.data or []), form.password.data)
        except services.AdminError as exc:
            flash(str(exc), "error")
        else:
            flash(_("已创建用户 %(name)s", name=user.username), "success")
            return redirect(url_for("admin.user_edit", user_id=user.id))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/user_new.html", form=form), status


def _user_page(user: User, status: int = 200, *, edit: UserEditForm | None = None,
               villages: VillagesForm | None = None,
               password: PasswordResetForm | None = None) -> tuple[str, int]:
    if edit is None:
        edit = UserEditForm(obj=user, formdata=None)
    if villages is None:
        villages = VillagesForm(formdata=None, villages=user.village_ids)
    villages.villages.choices = _village_choices()
    tokens = list(db.session.scalars(
        sa.select(DeviceToken).where(DeviceToken.user_id == user.id)
        .order_by(DeviceToken.revoked_at.is_not(None), DeviceToken.created_at.desc())))
    return render_template(
        "admin/user_edit.html", user=user, edit=edit, villages_form=villages,
        password=password or PasswordResetForm(formdata=None), tokens=tokens, describe=devices.describe,
        first_seen=devices.device_labels(db.session(), [(user.id, t.device_id) for t in tokens]),
        action=ActionForm(), now=utcnow(),
    ), status


def _user_or_404(user_id: int) -> User:
    return db.session.get(User, user_id) or abort(404)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user_edit(user_id: int) -> Page:
    user = _user_or_404(user_id)
    if request.method == "GET":
        return _user_page(user)
    form = UserEditForm()
    if form.validate_on_submit():
        try:
            services.update_user(current_user, user.id, form.display_name.data.strip(),
                                 form.role.data, bool(form.active.data))
        except services.AdminError as exc:
            flash(str(exc), "error")
        else:
            flash(_("已保存"), "success")
            return redirect(url_for("admin.user_edit", user_id=user.id))
    return _user_page(user, 422, edit=form)


@bp.route("/users/<int:user_id>/villages", methods=["POST"])
def user_villages(user_id: int) -> Page:
    user = _user_or_404(user_id)
    form = VillagesForm()
    form.villages.choices = _village_choices()
    if form.validate_on_submit():
        try:
            services.assign_villages(current_user, user.id, list(form.villages.data or []))
        except services.AdminError as exc:
            flash(str(exc), "error")
        else:
            flash(_("已更新负责的村"), "success")
            return redirect(url_for("admin.user_edit", user_id=user.id))
    return _user_page(user, 422, villages=form)


@bp.route("/users/<int:user_id>/password", methods=["POST"])
def user_password(user_id: int) -> Page:
    user = _user_or_404(user_id)
    form = PasswordResetForm()
    if form.validate_on_submit():
        try:
            services.reset_password(current_user, user.id, form.password.data)
        except services.AdminError as exc:
            flash(str(exc), "error")
        else:
            flash(_("密码已重置，请把新密码当面告知本人"), "success")
            return redirect(url_for("admin.user_edit", user_id=user.id))
    return _user_page(user, 422, password=form)


@bp.route("/users/<int:user_id>/tokens/<int:token_id>/revoke", methods=["POST"])
def token_revoke(user_id: int, token_id: int) -> Page:
    user = _user_or_404(user_id)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.revoke_token(current_user, user.id, token_id)
    except services.AdminError as exc:
        flash(str(exc), "error")
    else:
        flash(_("已吊销该设备的登录。该手机上未上传的记录会保留，重新登录后即可上传。"), "success")
    return redirect(url_for("admin.user_edit", user_id=user.id))


@bp.route("/campaigns/")
def campaigns() -> str:
    rows = newest_first(db.session)
    return render_template("admin/campaigns.html", campaigns=rows, action=ActionForm())


@bp.route("/campaigns/new", methods=["GET", "POST"])
def campaign_new() -> Page:
    form = CampaignForm()
    form.form_version.choices = [SelectChoice(v) for v in available_versions()]
    if form.validate_on_submit():
        try:
            campaign = services.create_campaign(
                current_user, form.campaign_id.data.strip(), form.name.data.strip(), form.start.data,
                form.end.data, float(form.monitoring_line.data), form.form_version.data,
                bool(form.activate.data))
        except services.AdminError as exc:
            flash(str(exc), "error")
        else:
            flash(_("已创建排查活动 %(id)s", id=campaign.id), "success")
            return redirect(url_for("admin.campaigns"))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/campaign_new.html", form=form), status


@bp.route("/campaigns/<campaign_id>/activate", methods=["POST"])
def campaign_activate(campaign_id: str) -> Response:
    return _campaign_action(campaign_id, services.activate_campaign, _("已启用排查活动"))


@bp.route("/campaigns/<campaign_id>/close", methods=["POST"])
def campaign_close(campaign_id: str) -> Response:
    return _campaign_action(campaign_id, services.close_campaign, _("已结束排查活动"))


def _campaign_action(campaign_id: str, action: object, done: str) -> Response:
    if db.session.get(Campaign, campaign_id) is None:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        action(current_user, campaign_id)  # type: ignore[operator]
    except services.AdminError as exc:
        flash(str(exc), "error")
    else:
        flash(done, "success")
    return redirect(url_for("admin.campaigns"))


@bp.route("/villages/")
def villages() -> str:
    return render_template("admin/villages.html", villages=village_positions(db.session()))


@bp.route("/villages/<int:village_id>", methods=["GET", "POST"])
def village_edit(village_id: int) -> Page:
    village = db.session.get(Village, village_id)
    if village is None:
        abort(404)
    form = VillagePositionForm()
    if request.method == "GET":
        form.lat.data = "" if village.lat is None else repr(village.lat)
        form.lon.data = "" if village.lon is None else repr(village.lon)
    elif form.validate_on_submit():
        try:
            located = locate_village(village.id, *form.position(), current_user, via="web")
        except VillageError as exc:
            flash(str(exc), "error")
        else:
            if located.position is None:
                flash(_("已清除%(village)s的村委会位置", village=village.name), "success")
            else:
                flash(_("已保存%(village)s的村委会位置", village=village.name), "success")
                if located.outside_china:
                    flash(_("注意：该位置不在中国境内，请确认纬度和经度没有写反或输错"), "warning")
            return redirect(url_for("admin.villages"))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/village_edit.html", village=village, form=form), status


bp.add_url_rule("/roster", view_func=roster_upload.roster, methods=["GET", "POST"])
bp.add_url_rule("/roster/jobs/<job_id>", view_func=roster_upload.roster_job)
bp.add_url_rule("/roster/template.<file_format>", view_func=roster_upload.template)
bp.add_url_rule("/upstream", view_func=replication_pages.upstream)
bp.add_url_rule("/nodes", view_func=replication_pages.nodes)
