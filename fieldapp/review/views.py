"""Supervisor review pages: thin views (the form validates, a service acts, a template renders)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from fieldapp import audit, clock, devices
from fieldapp.access import household_or_404, roles_required, whole_server
from fieldapp.errors import page_message
from fieldapp.extensions import db
from fieldapp.models import HOUSEHOLD_FIELDS, Campaign, Conflict, Household, HouseholdMerge, User
from fieldapp.photos import uploads
from fieldapp.review import audit_text, bp, decision_conflicts, display, queries, remote
from fieldapp.review import conflicts as conflict_decisions
from fieldapp.review import merges as merge_decisions
from fieldapp.review import visits as visit_decisions
from fieldapp.review.decisions import display_name
from fieldapp.review.errors import NotFound, ReviewError, SentToTown
from fieldapp.review.forms import ConfirmForm, ReviewForm, make_merge_form, make_resolve_form
from fieldapp.review.place import visit_place
from sync.form import DEFAULT_VERSION
from sync.idnumber import mask_id, mask_phone

REVIEWERS = ("supervisor", "admin")
FULL_VALUES = ("admin",)  # who may see full ID numbers and phones (docs/domain.md, "Personal data")
View = str | Response | tuple[str, int]


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "").strip()
    return int(value) if value.isdigit() else None


def _date_arg(name: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(request.args.get(name, "").strip())
    except ValueError:
        return None


def _page() -> int:
    return _int_arg("page") or 1


def _refused(error: ReviewError, attached: Collection[str] = ()) -> None:
    """A service refusal: not found is a 404 page, the rest is a message on the same page,
    with each field's errors unless the form shows them beside the field (``attached``)."""
    if isinstance(error, NotFound):
        abort(404)
    flash(page_message(error), "success" if isinstance(error, SentToTown) else "error")
    for field_id, messages in error.errors.items():
        if field_id not in attached:
            for message in messages:
                flash(message, "error")


@bp.context_processor
def _helpers() -> dict[str, Any]:
    """Template helpers for the review pages only."""
    return {
        "value_of": display.field_value, "label_of": display.field_label,
        "mask_id": mask_id, "mask_phone": mask_phone,
        "sync_labels": display.SYNC_LABELS, "review_labels": display.REVIEW_LABELS,
        "action_labels": display.ACTION_LABELS,
    }


@bp.route("/")
@roles_required(*REVIEWERS)
def index() -> View:
    return render_template("review/index.html", counts=queries.open_counts(current_user))


# -- batches -------------------------------------------------------------------


@bp.route("/batches")
@roles_required(*REVIEWERS)
def batches() -> View:
    village_id = queries.checked_village(current_user, _int_arg("village"))
    worker_id = _int_arg("worker")
    status = request.args.get("status") or None
    if status not in queries.BATCH_STATUS_FILTERS:
        status = None
    day = _date_arg("date")
    page = queries.paginate(queries.batch_query(current_user, village_id, worker_id, day, status), _page())
    reviews = queries.review_counts(current_user, [b.id for b in page.items])
    return render_template(
        "review/batches.html", page=page, reviews=reviews, counts={b.id: queries.batch_counts(b) for b in page.items},
        villages=queries.scope_villages(current_user), workers=queries.scope_workers(current_user),
        filters={"village": village_id, "worker": worker_id, "date": day, "status": status},
        statuses=queries.BATCH_STATUS_FILTERS, count_keys=queries.BATCH_COUNT_KEYS,
    )


def _act(form: ReviewForm) -> visit_decisions.ReviewOutcome | None:
    """Run the approve/return the form asks for; flash the outcome."""
    try:
        if form.action.data == "approve":
            outcome = visit_decisions.approve_visits(current_user, form.uuids.data, form.comment.data)
        else:
            outcome = visit_decisions.return_visits(current_user, form.uuids.data, form.comment.data,
                                                    kind=form.return_kind.data or "correct")
    except ReviewError as error:
        _refused(error)
        return None
    verb = _("通过") if form.action.data == "approve" else _("退回")
    for town in sorted(set(outcome.sent.values())):
        n = sum(1 for t in outcome.sent.values() if t == town)
        flash(_("%(n)d 条走访记录的决定已发送至%(town)s，该镇下次同步后生效", n=n, town=town), "success")
    if outcome.done:
        flash(_("已%(verb)s %(n)d 条走访记录", verb=verb, n=len(outcome.done)), "success")
    for reason in sorted(set(outcome.skipped.values())):
        n = sum(1 for r in outcome.skipped.values() if r == reason)
        flash(_("%(n)d 条未处理：%(reason)s", n=n, reason=reason), "error")
    return outcome


@bp.route("/batches/<batch_id>", methods=["GET", "POST"])
@roles_required(*REVIEWERS)
def batch(batch_id: str) -> View:
    item = queries.batch_or_404(current_user, batch_id)
    form = ReviewForm()
    status = 200
    if form.is_submitted():
        if form.validate() and _act(form) is not None:
            return redirect(url_for("review.batch", batch_id=batch_id))
        status = 422
    visits = queries.batch_visits(current_user, batch_id)
    device = devices.device_labels(db.session(), [(item.user_id, item.device_id)])[(item.user_id, item.device_id)]
    photos_done = uploads.completed_counts(db.session(), [v.uuid for v in visits if v.photos_expected])
    return render_template("review/batch.html", batch=item, visits=visits, form=form, device=device,
                           photos_done=photos_done,
                           counts=queries.batch_counts(item), count_keys=queries.BATCH_COUNT_KEYS,
                           display=display), status


@bp.route("/visits/<uuid>", methods=["GET", "POST"])
@roles_required(*REVIEWERS)
def visit(uuid: str) -> View:
    item = queries.visit_or_404(current_user, uuid)
    form = ReviewForm()
    status = 200
    if form.is_submitted():
        form.uuids.data = [uuid]
        if form.validate() and _act(form) is not None:
            return redirect(url_for("review.visit", uuid=uuid))
        status = 422
    conflicts = list(db.session.scalars(sa.select(Conflict).where(Conflict.visit_uuid == uuid)
                                        .order_by(Conflict.id)))
    waiting = remote.waiting(db.session, "visit_review", uuid)
    waiting_town = remote.owner(db.session, item.village_id).town.name if waiting else None  # type: ignore[union-attr]
    return render_template("review/visit.html", visit=item, form=form, display=display,
                           conflicts=conflicts, waiting=waiting, waiting_town=waiting_town,
                           duplicates=queries.duplicate_routing(current_user, uuid),
                           phone_zone=clock.phone_zone_note(item.visited_at, item.utc_offset_minutes),
                           photos=uploads.visit_photos(db.session(), item),
                           place=visit_place(db.session(), item)), status


@bp.route("/visits/<uuid>/photos/<photo_id>")
@roles_required(*REVIEWERS)
def visit_photo(uuid: str, photo_id: str) -> Response:
    """A photo of the visit (入户照片): in scope only, audited, never cached, never public."""
    item = queries.visit_or_404(current_user, uuid)
    found = uploads.completed_photo(db.session(), uuid, photo_id)
    if found is None:
        abort(404)
    photo, data = found
    audit.record_read(db.session, current_user, "photo_view", "visit", uuid, details={"photo_id": photo_id},
                      village_id=item.village_id)
    response = Response(data, mimetype=photo.content_type)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/visits/<uuid>/images/<field_id>.png")
@roles_required(*REVIEWERS)
def visit_image(uuid: str, field_id: str) -> Response:
    """An image answer (the household's drawn signature) as a PNG: in scope only, audited,
    never cached. A route, not inline data, so the page's CSP needs no ``data:`` for it."""
    item = queries.visit_or_404(current_user, uuid)
    png = display.image_answer(item.form_version, item.data, field_id)
    if png is None:
        abort(404)
    audit.record_read(db.session, current_user, "image_view", "visit", uuid, details={"field": field_id},
                      village_id=item.village_id)
    response = Response(png, mimetype="image/png")
    response.headers["Cache-Control"] = "no-store"
    return response


# -- conflicts -----------------------------------------------------------------


@bp.route("/conflicts")
@roles_required(*REVIEWERS)
def conflicts() -> View:
    village_id = queries.checked_village(current_user, _int_arg("village"))
    status = "resolved" if request.args.get("status") == "resolved" else "open"
    page = queries.paginate(queries.conflict_query(current_user, village_id, status), _page(), rows=True)
    return render_template("review/conflicts.html", page=page, status=status,
                           villages=queries.scope_villages(current_user), village_id=village_id)


@bp.route("/conflicts/<int:conflict_id>", methods=["GET", "POST"])
@roles_required(*REVIEWERS)
def conflict(conflict_id: int) -> View:
    item = queries.conflict_or_404(current_user, conflict_id)
    visit_row = queries.visit_or_404(current_user, item.visit_uuid)
    definition = display.form_for(visit_row.form_version)
    siblings = queries.sibling_conflicts(item)
    open_ones = [c for c in siblings if c.status == "open"]
    form = make_resolve_form(definition, open_ones)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            picks = {f: conflict_decisions.Pick(source, text) for f, (source, text) in form.picks().items()}
            try:
                conflict_decisions.resolve_conflict(current_user, conflict_id, picks)
            except ReviewError as error:
                attached = [f for f in error.errors if f"custom_{f}" in form]
                for field_id in attached:
                    form[f"custom_{field_id}"].errors = list(error.errors[field_id])
                _refused(error, attached)
                status = error.status
            else:
                flash(_("冲突已解决，户信息已更新"), "success")
                return redirect(url_for("review.conflict", conflict_id=conflict_id))
        else:
            status = 422
        siblings = queries.sibling_conflicts(item)
    household = db.session.get(Household, item.household_id)
    sources = {
        "base": queries.revision_author(item.household_id, visit_row.base_rev),
        "current": queries.revision_author(item.household_id, item.current_rev),
    }
    waiting = remote.waiting_town(db.session(), ("conflict_resolve",), item.uid)
    return render_template("review/conflict.html", conflict=item, siblings=siblings, form=form, waiting=waiting,
                           visit=visit_row, household=household, sources=sources,
                           version=visit_row.form_version), status


# -- duplicate households ------------------------------------------------------


@bp.route("/duplicates")
@roles_required(*REVIEWERS)
def duplicates() -> View:
    village_id = queries.checked_village(current_user, _int_arg("village"))
    status = request.args.get("status", "open")
    if status not in ("open", "merged", "dismissed", "superseded"):
        status = "open"
    page = queries.paginate(queries.candidate_query(current_user, village_id, status), _page(), rows=True)
    return render_template("review/duplicates.html", page=page, status=status,
                           villages=queries.scope_villages(current_user), village_id=village_id)


@bp.route("/duplicates/<int:candidate_id>", methods=["GET", "POST"])
@roles_required(*REVIEWERS)
def duplicate(candidate_id: int) -> View:
    candidate, a, b = queries.candidate_or_404(current_user, candidate_id)
    campaign = db.session.get(Campaign, candidate.campaign_id) if candidate.campaign_id else None
    version = campaign.form_version if campaign else DEFAULT_VERSION
    differing = [f for f in HOUSEHOLD_FIELDS if getattr(a, f) != getattr(b, f)]
    form = make_merge_form(display.form_for(version), a, b, differing)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                record = merge_decisions.merge_households(current_user, candidate_id, form.survivor.data,
                                                   form.choices_by_field())
            except ReviewError as error:
                _refused(error)
                status = error.status
            else:
                flash(_("已合并，另一户的走访记录已转入保留户"), "success")
                return redirect(url_for("review.household", household_id=record.survivor_id))
        else:
            status = 422
    waiting = remote.waiting_town(db.session(), ("candidate_dismiss", "household_merge"), candidate.uid)
    return render_template("review/duplicate.html", candidate=candidate, a=a, b=b, form=form, waiting=waiting,
                           differing=differing, version=version, dismiss=ConfirmForm(),
                           evidence=display.pair_evidence(a, b)), status


@bp.route("/duplicates/<int:candidate_id>/dismiss", methods=["POST"])
@roles_required(*REVIEWERS)
def dismiss(candidate_id: int) -> View:
    queries.candidate_or_404(current_user, candidate_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        merge_decisions.dismiss_candidate(current_user, candidate_id)
    except ReviewError as error:
        _refused(error)
    else:
        flash(_("已排除：这两户今后不再提示为疑似重复"), "success")
    return redirect(url_for("review.duplicate", candidate_id=candidate_id))


# -- decision conflicts (central and the town decided differently) ---------------


@bp.route("/decisions")
@roles_required(*REVIEWERS)
def decisions() -> View:
    village_id = queries.checked_village(current_user, _int_arg("village"))
    status = "resolved" if request.args.get("status") == "resolved" else "open"
    page = queries.paginate(queries.decision_query(current_user, village_id, status), _page())
    waiting = {d.id: remote.waiting(db.session(), "decision_resolve", d.uid) for d in page.items}
    towns = {d.id: remote.owner(db.session(), d.village_id) for d in page.items if waiting[d.id]}
    return render_template("review/decisions.html", page=page, status=status, village_id=village_id,
                           villages=queries.scope_villages(current_user), waiting=waiting,
                           towns={k: n.town.name for k, n in towns.items() if n is not None},
                           kinds=display.DECISION_KINDS, text=display.decision_text, form=ConfirmForm(),
                           resolvers={d.id: display_name(d.resolved_by_id) for d in page.items
                                      if d.resolved_by_id},
                           places=queries.place_names([d.village_id for d in page.items]))


@bp.route("/decisions/<int:decision_id>/resolve", methods=["POST"])
@roles_required(*REVIEWERS)
def decision_resolve(decision_id: int) -> View:
    """Keep the town's decision or take central's; at central it goes to the town."""
    queries.decision_or_404(current_user, decision_id)
    side = request.form.get("side", "")
    if not ConfirmForm().validate_on_submit() or side not in decision_conflicts.SIDES:
        abort(400)
    try:
        decision_conflicts.resolve_decision(current_user, decision_id, side)
    except ReviewError as error:  # at central, SentToTown: "已发送至…" (not a refusal)
        _refused(error)
    else:
        flash(_("已保留本镇的决定") if side == "town" else _("已采用县级的决定"), "success")
    return redirect(url_for("review.decisions"))


# -- households and merges -------------------------------------------------------


def _household_page(item: Household, *, full: bool) -> str:
    """The household, its history, visits and merges; ID number and phone masked unless ``full``."""
    return render_template(
        "review/household.html", household=item, history=queries.revision_history(item),
        visits=queries.household_visits(item), merges=queries.household_merges(item), undo=ConfirmForm(),
        version=DEFAULT_VERSION, full=full, reveal=ConfirmForm(),
        members=display.household_members(item.id, mask=not full),
        survivor=db.session.get(Household, item.merged_into_id) if item.merged_into_id else None,
    )


@bp.route("/households/<household_id>")
@roles_required(*REVIEWERS)
def household(household_id: str) -> View:
    return _household_page(household_or_404(db.session, current_user, household_id), full=False)


@bp.route("/households/<household_id>/full", methods=["POST"])
@roles_required(*FULL_VALUES)
def household_full(household_id: str) -> View:
    """显示完整: the same page with full ID numbers and phones, for the roles that may see them
    (a POST with the page's CSRF token, audited before the values are shown)."""
    item = household_or_404(db.session, current_user, household_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    audit.record_read(db.session, current_user, "household_reveal", "household", item.id,
                      village_id=item.village_id)
    return _household_page(item, full=True)


@bp.route("/merges/<int:merge_id>/undo", methods=["POST"])
@roles_required("admin")
def undo_merge(merge_id: int) -> View:
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    record = db.session.get(HouseholdMerge, merge_id)
    if record is None:
        abort(404)
    try:
        merge_decisions.undo_merge(current_user, merge_id)
    except ReviewError as error:
        _refused(error)
    else:
        flash(_("已撤销合并，两户及其走访记录已恢复"), "success")
    return redirect(url_for("review.household", household_id=record.survivor_id))


# -- audit log (admin) -----------------------------------------------------------


@bp.route("/audit")
@roles_required("admin")
def audit_log() -> View:
    if not whole_server(current_user):  # at central: the county's admins (the log spans every town)
        abort(403)
    action = request.args.get("action", "").strip() or None
    username = request.args.get("user", "").strip() or None
    object_id = request.args.get("object", "").strip() or None
    date_from, date_to = _date_arg("from"), _date_arg("to")
    filters = {"action": action, "user": username, "date_from": date_from, "date_to": date_to,
               "object": object_id}
    stmt = queries.audit_query(action, username, date_from, date_to, object_id)
    page = queries.paginate(stmt, _page(), rows=True)
    merge_ids = [int(e.object_id) for e, _u in page.items
                 if e.object_type == "household_merge" and (e.object_id or "").isdigit()]
    merges = {str(m.id): m for m in db.session.scalars(
        sa.select(HouseholdMerge).where(HouseholdMerge.id.in_(merge_ids or [-1])))}
    users = list(db.session.scalars(sa.select(User.username).order_by(User.username)))
    names = audit_text.load_names(db.session(), [entry for entry, _user in page.items])
    lines = {entry.id: audit_text.describe(entry, (user.display_name or user.username) if user else _("系统"), names)
             for entry, user in page.items}
    return render_template("review/audit.html", page=page, filters=filters, merges=merges, lines=lines,
                           actions=queries.audit_actions(), users=users, undo=ConfirmForm(),
                           pretty=display.pretty)
