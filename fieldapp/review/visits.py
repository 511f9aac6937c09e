"""Approving and returning visits (one or many), one transaction each, each audited.

Anything a phone must pull (a reviewed visit; for a return also its household,
which no longer counts as visited) takes a change number inside the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from fieldapp import audit
from fieldapp.access import in_scope
from fieldapp.db.changes import next_change
from fieldapp.households import load_states, write_households
from fieldapp.models import RETURN_KINDS, User, Visit, utcnow
from fieldapp.review import remote
from fieldapp.review.decisions import decision_transaction
from fieldapp.review.errors import Invalid, NotFound
from sync.households import HouseholdWriter


@dataclass
class ReviewOutcome:
    """What a (bulk) approve or return did: uuids done, and why the others were skipped."""

    done: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    sent: dict[str, str] = field(default_factory=dict)  # uuid -> the town it was sent to (at central)


def approve_visits(user: User, uuids: Sequence[str], comment: str | None = None, *,
                   session: Session | None = None, overrule: bool = False) -> ReviewOutcome:
    """Approve pending, accepted visits (one or many); the worker pulls the new status.

    :param session: the caller's open write transaction to run in (default: its own)
    :param overrule: approve a returned visit too (a person settling a decision conflict
        chose central's approval over the town's return)
    """
    return _review(user, uuids, comment, "approved", session, overrule)


def return_visits(user: User, uuids: Sequence[str], comment: str, *, kind: str = "correct",
                  session: Session | None = None) -> ReviewOutcome:
    """Return visits to their worker with a comment (required), to be corrected and resent.

    :param kind: ``correct`` (the answers are to be corrected) or ``resign`` (仅需重签:
        every answer stands and the phone asks only for a new signature; only for
        visits made in person, which carry a signature)
    """
    if not (comment or "").strip():
        raise Invalid("return_comment_missing", {"comment": [_("退回时请填写退回意见")]})
    if kind not in RETURN_KINDS:
        raise Invalid("return_kind_unknown", {"return_kind": [_("退回类型无效")]})
    return _review(user, uuids, comment, "returned", session, kind=kind)


def _why_not(visit: Visit, target: str, overrule: bool = False, kind: str | None = None) -> str | None:
    if visit.review_status == "superseded":
        return _("已被更正后的记录取代")
    if visit.review_status == target:
        return _("已通过") if target == "approved" else _("已退回")
    if target == "approved" and not overrule:
        if visit.review_status == "returned":
            return _("已退回，等待网格员更正")
        if visit.sync_status == "conflict":
            return _("有未解决的冲突")
        if visit.sync_status == "duplicate_suspected":
            return _("疑似重复户，待合并或排除")
    if kind == "resign" and visit.visit_method != "in_person":
        return str(_("不是入户走访，没有签字可重签"))
    return None


def _send_to_towns(session: Session, user: User, todo: list[Visit], target: str, comment: str | None,
                   outcome: ReviewOutcome, kind: str | None = None) -> list[Visit]:
    """At central, the visits of a town go to the town as commands; the others are left."""
    local = []
    for visit in todo:
        node = remote.owner(session, visit.village_id)
        if node is None:
            local.append(visit)
            continue
        remote.send(session, node, user, "visit_review", visit.uuid,
                    {"visit_uuid": visit.uuid, "target": target, "comment": comment,
                     "return_kind": kind, "expected": visit.review_status}, visit.village_id)
        outcome.sent[visit.uuid] = node.town.name
    return local


def _review(user: User, uuids: Sequence[str], comment: str | None, target: str,
            joined: Session | None, overrule: bool = False, kind: str | None = None) -> ReviewOutcome:
    wanted = list(dict.fromkeys(u for u in uuids if u))
    if not wanted:
        raise Invalid("no_visit_chosen")
    comment = (comment or "").strip() or None
    outcome = ReviewOutcome()
    with decision_transaction(joined) as session:
        visits = session.scalars(
            sa.select(Visit).where(Visit.uuid.in_(wanted)).with_for_update()
            .execution_options(populate_existing=True)
        ).all()
        found = {v.uuid: v for v in visits if in_scope(user, v.village_id)}
        if len(found) != len(wanted):
            raise NotFound("visit_not_found")
        todo: list[Visit] = []
        for uuid in wanted:
            reason = _why_not(found[uuid], target, overrule, kind)
            if reason:
                outcome.skipped[uuid] = reason
            else:
                todo.append(found[uuid])
        todo = _send_to_towns(session, user, todo, target, comment, outcome, kind)
        if not todo:
            return outcome
        # A returned visit no longer counts as "visited": phones re-pull the household.
        writer = HouseholdWriter(())
        if target == "returned":
            for state in load_states(session, {v.household_id for v in todo}).values():
                writer.touch(state)
        households = writer.finish()
        seq = next_change(session, len(todo) + households.count)
        now = utcnow()
        action = "visit_approve" if target == "approved" else "visit_return"
        for visit in todo:
            before = {"review_status": visit.review_status, "review_comment": visit.review_comment,
                      "return_kind": visit.return_kind}
            visit.review_status = target
            visit.review_comment = comment
            visit.return_kind = kind
            visit.reviewed_by_id = user.id
            visit.reviewed_at = now
            visit.change_seq = seq
            seq += 1
            outcome.done.append(visit.uuid)
            audit.record(session, user, action, "visit", visit.uuid, village_id=visit.village_id,
                         before=before, after={"review_status": target, "review_comment": comment,
                                               "return_kind": kind},
                         details={"batch_id": visit.batch_id, "household_id": visit.household_id,
                                  "bulk": len(wanted) > 1})
        households.number(seq)
        write_households(session, households, now)
    return outcome
