"""Review use cases: one function per use case, each one transaction, each audited.

Every function runs in :func:`fieldapp.db.write_transaction`
(``BEGIN IMMEDIATE`` on SQLite), commits on success and rolls back on any
error, so a refusal half way never leaves half a decision behind.

Decisions that two supervisors could take at the same moment (resolve a
conflict, merge or dismiss a candidate, undo a merge) are claimed with a
conditional ``UPDATE ... WHERE status = 'open'``: the row lock makes the
second writer wait, then its WHERE no longer matches and ``rowcount`` is 0,
so it is told the decision was already taken instead of applying it twice.

Anything a phone must pull (a reviewed visit, a changed household) takes a
change number from :func:`fieldapp.db.changes.next_change` inside the same
transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from fieldapp import audit
from fieldapp.access import in_scope
from fieldapp.db import write_transaction
from fieldapp.db.changes import next_change
from fieldapp.extensions import db
from fieldapp.models import (
    HOUSEHOLD_FIELDS,
    Campaign,
    Conflict,
    DuplicateCandidate,
    Household,
    HouseholdMerge,
    HouseholdRevision,
    User,
    Visit,
    utcnow,
)
from fieldapp.review.values import check_household_values, household_image
from sync.normalize import name_pinyin


class ReviewError(Exception):
    """A refusal to show the supervisor (Chinese message); ``status`` is the HTTP status."""

    status = 409

    def __init__(self, message: str, errors: Mapping[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = dict(errors or {})


class NotFound(ReviewError):
    """Unknown or out of the user's scope: both look the same (404)."""

    status = 404


class AlreadyDecided(ReviewError):
    """Someone else took this decision first."""

    status = 409


class Invalid(ReviewError):
    status = 422


@dataclass
class ReviewOutcome:
    """What a (bulk) approve or return did: uuids done, and why the others were skipped."""

    done: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Pick:
    """The supervisor's choice for one conflicting field: a side, or a typed value."""

    source: str
    text: str | None = None


def _claim(session: Session, model: Any, row_id: int, status_column: Any, open_value: Any,
           **values: Any) -> bool:
    """Conditional UPDATE: True if this transaction moved the row out of ``open_value``."""
    condition = status_column.is_(None) if open_value is None else status_column == open_value
    result = session.execute(
        sa.update(model).where(model.id == row_id, condition).values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _display(user_id: int | None) -> str:
    if user_id is None:
        return _("系统")
    user = db.session.get(User, user_id)
    return (user.display_name or user.username) if user else str(user_id)


# -- approve / return ----------------------------------------------------------


def approve_visits(user: User, uuids: Sequence[str], comment: str | None = None) -> ReviewOutcome:
    """Approve pending, accepted visits (one or many); the worker pulls the new status."""
    return _review(user, uuids, comment, "approved")


def return_visits(user: User, uuids: Sequence[str], comment: str) -> ReviewOutcome:
    """Return visits to their worker with a comment (required), to be corrected and resent."""
    if not (comment or "").strip():
        raise Invalid(_("退回时请填写退回意见"), {"comment": [_("退回时请填写退回意见")]})
    return _review(user, uuids, comment, "returned")


def _why_not(visit: Visit, target: str) -> str | None:
    if visit.review_status == "superseded":
        return _("已被更正后的记录取代")
    if visit.review_status == target:
        return _("已通过") if target == "approved" else _("已退回")
    if target == "approved":
        if visit.review_status == "returned":
            return _("已退回，等待网格员更正")
        if visit.sync_status == "conflict":
            return _("有未解决的冲突")
        if visit.sync_status == "duplicate_suspected":
            return _("疑似重复户，待合并或排除")
    return None


def _review(user: User, uuids: Sequence[str], comment: str | None, target: str) -> ReviewOutcome:
    wanted = list(dict.fromkeys(u for u in uuids if u))
    if not wanted:
        raise Invalid(_("请至少选择一条走访记录"))
    comment = (comment or "").strip() or None
    outcome = ReviewOutcome()
    with write_transaction(db.session) as session:
        visits = session.scalars(
            sa.select(Visit).where(Visit.uuid.in_(wanted)).with_for_update()
            .execution_options(populate_existing=True)
        ).all()
        found = {v.uuid: v for v in visits if in_scope(user, v.village_id)}
        if len(found) != len(wanted):
            raise NotFound(_("未找到走访记录"))
        todo: list[Visit] = []
        for uuid in wanted:
            reason = _why_not(found[uuid], target)
            if reason:
                outcome.skipped[uuid] = reason
            else:
                todo.append(found[uuid])
        if not todo:
            return outcome
        households = sorted({v.household_id for v in todo}) if target == "returned" else []
        seq = next_change(session, len(todo) + len(households))
        now = utcnow()
        action = "visit_approve" if target == "approved" else "visit_return"
        for visit in todo:
            before = {"review_status": visit.review_status, "review_comment": visit.review_comment}
            visit.review_status = target
            visit.review_comment = comment
            visit.reviewed_by_id = user.id
            visit.reviewed_at = now
            visit.change_seq = seq
            seq += 1
            outcome.done.append(visit.uuid)
            audit.record(session, user, action, "visit", visit.uuid, village_id=visit.village_id,
                         before=before, after={"review_status": target, "review_comment": comment},
                         details={"batch_id": visit.batch_id, "household_id": visit.household_id,
                                  "bulk": len(wanted) > 1})
        # A returned visit no longer counts as "visited": phones re-pull the household.
        for household_id in households:
            session.execute(sa.update(Household).where(Household.id == household_id)
                            .values(change_seq=seq).execution_options(synchronize_session=False))
            seq += 1
    return outcome


# -- conflicts -----------------------------------------------------------------


def _campaign_of(session: Session, visit: Visit) -> Campaign:
    campaign = session.get(Campaign, visit.campaign_id)
    assert campaign is not None  # a foreign key
    return campaign


def _lock_household(session: Session, household_id: str) -> Household:
    household = session.scalars(
        sa.select(Household).where(Household.id == household_id).with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    return household


def _new_revision(session: Session, household: Household, changed: list[str], reason: str,
                  user: User, visit_uuid: str | None, seq: int) -> None:
    household.rev += 1
    household.change_seq = seq
    household.updated_at = utcnow()
    if "head_name" in changed:
        household.head_pinyin, household.head_initials = name_pinyin(household.head_name)
    session.add(HouseholdRevision(
        household_id=household.id, rev=household.rev, values=household.field_values(),
        changed=changed, reason=reason, visit_uuid=visit_uuid, user_id=user.id,
    ))


def _settle_visit(session: Session, visit_uuid: str | None) -> None:
    """The visit's sync status follows what is still open for it."""
    if not visit_uuid:
        return
    visit = session.get(Visit, visit_uuid, populate_existing=True)
    if visit is None:
        return
    conflicts = session.scalar(sa.select(sa.func.count()).select_from(Conflict).where(
        Conflict.visit_uuid == visit_uuid, Conflict.status == "open"))
    candidates = session.scalar(sa.select(sa.func.count()).select_from(DuplicateCandidate).where(
        DuplicateCandidate.visit_uuid == visit_uuid, DuplicateCandidate.status == "open"))
    if conflicts:
        visit.sync_status = "conflict"
    elif candidates:
        visit.sync_status = "duplicate_suspected"
    else:
        visit.sync_status = "accepted"


def resolve_conflict(user: User, conflict_id: int, choices: Mapping[str, Pick]) -> Household:
    """Resolve a conflict, and the visit's other open conflicts named in ``choices``.

    ``choices`` maps field ids to a :class:`Pick`; the field of ``conflict_id``
    is required. The chosen values are checked with the form's rules for those
    fields; if any value changes, the household gets a new revision (reason
    ``resolution``) and a change number.
    """
    with write_transaction(db.session) as session:
        conflict = session.get(Conflict, conflict_id, populate_existing=True)
        if conflict is None or not in_scope(user, conflict.village_id):
            raise NotFound(_("未找到该冲突"))
        if conflict.status != "open":
            raise AlreadyDecided(_("该冲突已由{name}处理，无需重复处理").format(
                name=_display(conflict.resolved_by_id)))
        if conflict.field not in choices:
            raise Invalid(_("请为每个字段选择保留的值"), {conflict.field: [_("请选择")]})
        targets = session.scalars(sa.select(Conflict).where(
            Conflict.visit_uuid == conflict.visit_uuid, Conflict.household_id == conflict.household_id,
            Conflict.status == "open", Conflict.field.in_(list(choices)),
        ).order_by(Conflict.id)).all()
        household = _lock_household(session, conflict.household_id)
        visit = session.get(Visit, conflict.visit_uuid)
        assert visit is not None
        chosen: dict[str, Any] = {}
        errors: dict[str, list[str]] = {}
        for item in targets:
            pick = choices[item.field]
            if pick.source == "base":
                chosen[item.field] = item.base_value
            elif pick.source == "current":
                chosen[item.field] = item.current_value
            elif pick.source == "incoming":
                chosen[item.field] = item.incoming_value
            elif pick.source == "custom":
                chosen[item.field] = pick.text
            else:
                errors[item.field] = [_("请选择保留哪个值")]
        if errors:
            raise Invalid(_("请为每个字段选择保留的值"), errors)
        typed = {f for f in chosen if choices[f].source == "custom"}
        values, errors = check_household_values(
            visit.form_version, _campaign_of(session, visit), household.field_values(), chosen, typed)
        if errors:
            raise Invalid(_("所填的值不符合表单规则"), errors)
        now = utcnow()
        for item in targets:
            if not _claim(session, Conflict, item.id, Conflict.status, "open", status="resolved",
                          resolved_value=values[item.field], resolved_by_id=user.id, resolved_at=now):
                session.refresh(item)
                raise AlreadyDecided(_("该冲突已由{name}处理，无需重复处理").format(
                    name=_display(item.resolved_by_id)))
        before = household.field_values()
        changed = [f for f in values if values[f] != before[f]]
        for name in changed:
            setattr(household, name, values[name])
        if changed:
            _new_revision(session, household, changed, "resolution", user, visit.uuid,
                          next_change(session))
        session.flush()
        _settle_visit(session, visit.uuid)
        audit.record(
            session, user, "conflict_resolve", "conflict", conflict.id, village_id=conflict.village_id,
            before={"household_rev": household.rev - (1 if changed else 0),
                    **{f: before[f] for f in values}},
            after={"household_rev": household.rev, **{f: values[f] for f in values}},
            details={"conflict_ids": [c.id for c in targets], "household_id": household.id,
                     "visit_uuid": visit.uuid,
                     "picks": {f: choices[f].source for f in values}},
        )
    return household


# -- duplicate households ------------------------------------------------------


def _candidate_in_scope(session: Session, user: User, candidate_id: int) -> DuplicateCandidate:
    candidate = session.get(DuplicateCandidate, candidate_id, populate_existing=True)
    if candidate is None or not in_scope(user, candidate.village_id):
        raise NotFound(_("未找到该疑似重复记录"))
    for household_id in (candidate.household_a_id, candidate.household_b_id):
        household = session.get(Household, household_id)
        if household is None or not in_scope(user, household.village_id):
            raise NotFound(_("未找到该疑似重复记录"))
    return candidate


_STATUS_LABELS = {"merged": "已合并", "dismissed": "已排除", "superseded": "已失效"}


def _already(candidate: DuplicateCandidate) -> AlreadyDecided:
    return AlreadyDecided(_("该疑似重复已由{name}处理（{status}）").format(
        name=_display(candidate.decided_by_id), status=_(_STATUS_LABELS.get(candidate.status, candidate.status))))


def dismiss_candidate(user: User, candidate_id: int) -> DuplicateCandidate:
    """Not the same household: the pair is kept as ``dismissed`` and never suggested again."""
    with write_transaction(db.session) as session:
        candidate = _candidate_in_scope(session, user, candidate_id)
        if not _claim(session, DuplicateCandidate, candidate.id, DuplicateCandidate.status, "open",
                      status="dismissed", decided_by_id=user.id, decided_at=utcnow()):
            session.refresh(candidate)
            raise _already(candidate)
        session.refresh(candidate)
        _settle_visit(session, candidate.visit_uuid)
        audit.record(session, user, "candidate_dismiss", "duplicate_candidate", candidate.id,
                     village_id=candidate.village_id, before={"status": "open"},
                     after={"status": "dismissed"},
                     details={"household_a_id": candidate.household_a_id,
                              "household_b_id": candidate.household_b_id})
    return candidate


def merge_households(user: User, candidate_id: int, survivor_id: str,
                     choices: Mapping[str, str] | None = None) -> HouseholdMerge:
    """Merge a duplicate pair into ``survivor_id``.

    ``choices`` maps a household field to the id of the household whose value
    the survivor keeps (default: the survivor's own). The other household's
    visits move to the survivor; it keeps its row with ``merged_into_id`` set
    and a new change number, so phones pull it as ``removed``. A
    :class:`HouseholdMerge` keeps the before-images for :func:`undo_merge`.
    """
    choices = dict(choices or {})
    with write_transaction(db.session) as session:
        candidate = _candidate_in_scope(session, user, candidate_id)
        pair = (candidate.household_a_id, candidate.household_b_id)
        if survivor_id not in pair:
            raise Invalid(_("请选择保留哪一户"), {"survivor": [_("请选择保留哪一户")]})
        merged_id = pair[1] if survivor_id == pair[0] else pair[0]
        unknown = [f for f, source in choices.items() if f not in HOUSEHOLD_FIELDS or source not in pair]
        if unknown:
            raise Invalid(_("字段选择无效"), {f: [_("选择无效")] for f in unknown})
        if candidate.status != "open":
            raise _already(candidate)
        # Lock both households in id order (no deadlock between two merges).
        locked = {h: _lock_household(session, h) for h in sorted(pair)}
        survivor, merged = locked[survivor_id], locked[merged_id]
        if survivor.merged_into_id or merged.merged_into_id:
            raise Invalid(_("其中一户已被合并，不能再次合并"))
        picked = {f: getattr(merged, f) for f, source in choices.items() if source == merged_id}
        campaign = session.get(Campaign, candidate.campaign_id) if candidate.campaign_id else None
        values, errors = check_household_values(
            campaign.form_version if campaign else "2023.1", campaign, survivor.field_values(),
            picked, set())
        if errors:
            raise Invalid(_("合并后的户信息不符合表单规则"), errors)

        visits = session.scalars(sa.select(Visit).where(Visit.household_id == merged_id)
                                 .order_by(Visit.uuid).with_for_update()).all()
        conflicts = session.scalars(sa.select(Conflict).where(
            Conflict.household_id == merged_id, Conflict.status == "open")).all()
        others = session.scalars(sa.select(DuplicateCandidate).where(
            DuplicateCandidate.id != candidate.id, DuplicateCandidate.status == "open",
            sa.or_(DuplicateCandidate.household_a_id == merged_id,
                   DuplicateCandidate.household_b_id == merged_id))).all()
        before = {
            "survivor": household_image(survivor), "merged": household_image(merged),
            "visits": [{"uuid": v.uuid, "household_id": v.household_id, "village_id": v.village_id,
                        "sync_status": v.sync_status} for v in visits],
            "conflicts": [{"id": c.id, "household_id": c.household_id, "village_id": c.village_id}
                          for c in conflicts],
            "candidates": [{"id": c.id, "status": c.status} for c in others],
            "candidate": {"id": candidate.id, "status": candidate.status},
        }
        now = utcnow()
        if not _claim(session, DuplicateCandidate, candidate.id, DuplicateCandidate.status, "open",
                      status="merged", decided_by_id=user.id, decided_at=now):
            session.refresh(candidate)
            raise _already(candidate)
        seq = next_change(session, 2 + len(visits))
        changed = [f for f in values if values[f] != getattr(survivor, f)]
        for name in changed:
            setattr(survivor, name, values[name])
        _new_revision(session, survivor, changed, "merge", user, None, seq)
        merged.merged_into_id = survivor.id
        merged.change_seq = seq + 1
        merged.updated_at = now
        for offset, visit in enumerate(visits, start=2):
            visit.household_id = survivor.id
            visit.village_id = survivor.village_id
            visit.change_seq = seq + offset
        for item in conflicts:
            item.household_id, item.village_id = survivor.id, survivor.village_id
        for other in others:
            other.status, other.decided_by_id, other.decided_at = "superseded", user.id, now
        session.flush()
        for visit in visits:
            _settle_visit(session, visit.uuid)
        _settle_visit(session, candidate.visit_uuid)
        after = {"survivor": household_image(survivor), "merged": household_image(merged),
                 "moved_visits": [v.uuid for v in visits], "changed": changed}
        record = HouseholdMerge(survivor_id=survivor.id, merged_id=merged.id, candidate_id=candidate.id,
                                before=before, after=after, merged_by_id=user.id, merged_at=now)
        session.add(record)
        session.flush()
        audit.record(session, user, "household_merge", "household_merge", record.id,
                     village_id=survivor.village_id,
                     before={"survivor": before["survivor"], "merged": before["merged"]},
                     after={"survivor": after["survivor"], "merged_into_id": survivor.id,
                            "moved_visits": after["moved_visits"]},
                     details={"candidate_id": candidate.id, "survivor_id": survivor.id,
                              "merged_id": merged.id})
    return record


def undo_merge(admin: User, merge_id: int) -> HouseholdMerge:
    """Put a merge back (admin only): both households, the moved visits, conflicts and candidates.

    ``rev`` only grows: the survivor's old values come back as a new revision
    (reason ``undo``). Refused when the survivor changed after the merge, since
    restoring its old values would silently drop that later change.
    """
    if not admin.is_admin:
        raise NotFound(_("未找到该合并记录"))
    with write_transaction(db.session) as session:
        record = session.get(HouseholdMerge, merge_id, populate_existing=True)
        if record is None:
            raise NotFound(_("未找到该合并记录"))
        if record.undone_at is not None:
            raise AlreadyDecided(_("该合并已由{name}撤销").format(name=_display(record.undone_by_id)))
        locked = {h: _lock_household(session, h) for h in sorted((record.survivor_id, record.merged_id))}
        survivor, merged = locked[record.survivor_id], locked[record.merged_id]
        if survivor.rev != record.after["survivor"]["rev"]:
            raise Invalid(_("合并后该户又有修改（现为第{rev}版），不能自动撤销").format(rev=survivor.rev))
        now = utcnow()
        if not _claim(session, HouseholdMerge, record.id, HouseholdMerge.undone_at, None,
                      undone_at=now, undone_by_id=admin.id):
            session.refresh(record)
            raise AlreadyDecided(_("该合并已由{name}撤销").format(name=_display(record.undone_by_id)))
        before_image = record.before
        visits = before_image["visits"]
        seq = next_change(session, 2 + len(visits))
        old = before_image["survivor"]["values"]
        changed = [f for f in HOUSEHOLD_FIELDS if getattr(survivor, f) != old[f]]
        current_survivor = household_image(survivor)
        for name in changed:
            setattr(survivor, name, old[name])
        _new_revision(session, survivor, changed, "undo", admin, None, seq)
        merged_old = before_image["merged"]
        merged.merged_into_id = merged_old["merged_into_id"]
        for name in HOUSEHOLD_FIELDS:
            setattr(merged, name, merged_old["values"][name])
        merged.change_seq = seq + 1
        merged.updated_at = now
        for offset, image in enumerate(visits, start=2):
            session.execute(sa.update(Visit).where(Visit.uuid == image["uuid"]).values(
                household_id=image["household_id"], village_id=image["village_id"],
                sync_status=image["sync_status"], change_seq=seq + offset,
            ).execution_options(synchronize_session=False))
        for image in before_image["conflicts"]:
            session.execute(sa.update(Conflict).where(Conflict.id == image["id"]).values(
                household_id=image["household_id"], village_id=image["village_id"],
            ).execution_options(synchronize_session=False))
        for image in before_image["candidates"]:
            session.execute(sa.update(DuplicateCandidate).where(
                DuplicateCandidate.id == image["id"], DuplicateCandidate.status == "superseded",
            ).values(status=image["status"], decided_by_id=None, decided_at=None)
                .execution_options(synchronize_session=False))
        session.execute(sa.update(DuplicateCandidate).where(
            DuplicateCandidate.id == before_image["candidate"]["id"]).values(
            status=before_image["candidate"]["status"], decided_by_id=None, decided_at=None,
        ).execution_options(synchronize_session=False))
        session.flush()
        session.expire_all()
        restored = session.get(Household, record.survivor_id)
        unmerged = session.get(Household, record.merged_id)
        assert restored is not None and unmerged is not None
        audit.record(session, admin, "merge_undo", "household_merge", record.id,
                     village_id=restored.village_id,
                     before={"survivor": current_survivor, "merged_id": unmerged.id, "merged_into_id": restored.id},
                     after={"survivor": household_image(restored), "merged": household_image(unmerged),
                            "restored_visits": [v["uuid"] for v in visits]},
                     details={"survivor_id": restored.id, "merged_id": unmerged.id,
                              "candidate_id": record.candidate_id})
    return record

