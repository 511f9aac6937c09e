"""A town applies what comes down from central (docs/replication.md, "Down").

- Campaigns: central owns them; the town's rows become central's (id, dates, form
  version, line, which one is active).
- Commands: decisions taken at central on the town's data. Each is applied through
  the town's own use case (``fieldapp/review/``), in one transaction with the
  :class:`AppliedCommand` row that makes a second delivery a no-op and with the
  town's down cursor. When the town had decided otherwise on the same record since
  central saw it, nothing is applied: a :class:`DecisionConflict` keeps both
  decisions for a person to resolve. A command the rules refuse is recorded as
  refused, with the reason. Every outcome goes up with the feed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fieldapp import audit
from fieldapp.db import write_transaction
from fieldapp.db.changes import next_change
from fieldapp.households import load_states, write_households
from fieldapp.models import (
    HOUSEHOLD_FIELDS,
    AppliedCommand,
    Campaign,
    Conflict,
    DecisionConflict,
    DuplicateCandidate,
    HouseholdMerge,
    UpstreamState,
    User,
    Visit,
    utcnow,
)
from fieldapp.replication.apply import UNUSABLE_PASSWORD
from fieldapp.replication.rows import load
from fieldapp.review import conflicts, merges, visits
from fieldapp.review.errors import ReviewError
from sync.households import HouseholdWriter
from sync.store import HouseholdState

log = logging.getLogger(__name__)
COUNTY = "county"
STATE = "upstream"

Outcome = tuple[str, str | None]  # status (applied | conflict | refused), message


def upstream_state(session: Session) -> UpstreamState:
    """The town's one bookkeeping row (made on first use, inside the caller's transaction)."""
    state = session.get(UpstreamState, STATE)
    if state is None:
        state = UpstreamState(name=STATE, down_cursor=0, up_cursor="", failures=0)
        session.add(state)
        session.flush()
    return state


def apply_campaigns(session: Session, items: list[dict[str, Any]]) -> int:
    """Make the town's campaigns central's; returns how many rows changed."""
    table = Campaign.__table__
    changed = 0
    with write_transaction(session):
        for item in items:
            row = load(table, item)  # type: ignore[arg-type]
            current = session.get(Campaign, row["id"])
            if current is None:
                session.execute(sa.insert(Campaign), [row])
                changed += 1
                continue
            updates = {k: v for k, v in row.items() if k not in ("id", "created_at") and getattr(current, k) != v}
            if updates:
                for key, value in updates.items():
                    setattr(current, key, value)
                changed += 1
    return changed


def county_user(session: Session, ref: dict[str, Any] | None) -> User:
    """The town's inactive copy of the central user who decided (found again by ``uid``)."""
    ref = ref or {"uid": "county-system", "username": "county", "display_name": "县级中心"}
    user: User | None = session.scalar(sa.select(User).where(User.uid == ref["uid"]))
    if user is not None:
        return user
    base = f"{str(ref['username'])[:40]}@{COUNTY}"
    username, n = base, 1
    while session.scalar(sa.select(User.id).where(User.username == username)) is not None:
        n += 1
        username = f"{base}{n}"[:50]
    user = User(uid=ref["uid"], origin=COUNTY, username=username, role="admin", active=False,
                display_name=f"县级·{ref.get('display_name') or ref['username']}",
                password_hash=UNUSABLE_PASSWORD)
    session.add(user)
    session.flush()
    return user


def apply_command(session: Session, command: dict[str, Any]) -> str:
    """Apply one command (each in its own transaction); returns its status. Applying a
    command already applied changes nothing but the cursor."""
    uid, seq, kind = str(command["uid"]), int(command["seq"]), str(command["kind"])
    handler = _HANDLERS.get(kind)
    try:
        with write_transaction(session):
            done = session.get(AppliedCommand, uid)
            if done is not None:
                _advance(session, seq)
                return done.status
            if handler is None:
                raise _Refused(f"本镇程序不认识该指令（{kind}），请升级")
            user = county_user(session, command.get("by"))
            status, message = handler(session, user, command)
            _record(session, command, status, message)
            return status
    except (ReviewError, _Refused) as refusal:
        message = getattr(refusal, "message", None) or str(refusal)
        log.info("command %s (%s) refused: %s", uid, kind, message)
        with write_transaction(session):
            if session.get(AppliedCommand, uid) is None:
                _record(session, command, "refused", message)
        return "refused"


class _Refused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _advance(session: Session, seq: int) -> None:
    state = upstream_state(session)
    state.down_cursor = max(state.down_cursor, seq)


def _record(session: Session, command: dict[str, Any], status: str, message: str | None) -> None:
    session.add(AppliedCommand(uid=command["uid"], seq=command["seq"], kind=command["kind"],
                               status=status, message=message, applied_at=utcnow(),
                               change_seq=next_change(session)))
    _advance(session, int(command["seq"]))
    audit.record(session, None, "command_apply", "command", command["uid"],
                 details={"kind": command["kind"], "status": status, "message": message,
                          "target": command.get("target"), "by": (command.get("by") or {}).get("username")})


def _conflict(session: Session, command: dict[str, Any], village_id: int | None,
              town: dict[str, Any], county: dict[str, Any]) -> Outcome:
    """The town decided otherwise: keep both decisions for a person."""
    session.add(DecisionConflict(command_uid=command["uid"], kind=command["kind"], target=command["target"],
                                 village_id=village_id, town_decision=town, county_decision=county,
                                 status="open", change_seq=next_change(session)))
    return "conflict", "本镇已作出不同的决定，双方决定均已保留，待人工处理"


# -- the kinds ------------------------------------------------------------------


def _visit_review(session: Session, user: User, command: dict[str, Any]) -> Outcome:
    payload = command["payload"]
    visit = session.get(Visit, payload["visit_uuid"], populate_existing=True)
    if visit is None:
        raise _Refused("本镇没有该走访记录")
    target, comment = payload["target"], payload.get("comment")
    if visit.review_status == target:
        return "applied", "本镇已是同样的决定"
    if visit.review_status != payload.get("expected", "pending"):
        reviewer = session.get(User, visit.reviewed_by_id) if visit.reviewed_by_id else None
        return _conflict(session, command, visit.village_id,
                         {"review_status": visit.review_status, "review_comment": visit.review_comment,
                          "by": reviewer.display_name if reviewer else None},
                         {"review_status": target, "review_comment": comment, "by": user.display_name})
    if target == "approved":
        outcome = visits.approve_visits(user, [visit.uuid], comment or "", session=session)
    else:
        outcome = visits.return_visits(user, [visit.uuid], comment or "", session=session,
                                       kind=payload.get("return_kind") or "correct")
    if outcome.skipped:
        raise _Refused(next(iter(outcome.skipped.values())))
    return "applied", None


def _conflict_resolve(session: Session, user: User, command: dict[str, Any]) -> Outcome:
    payload = command["payload"]
    item = session.scalar(sa.select(Conflict).where(Conflict.uid == payload["conflict_uid"]))
    if item is None:
        raise _Refused("本镇没有该冲突")
    picks = {f: conflicts.Pick(p[0], p[1]) for f, p in payload["picks"].items()}
    if item.status != "open":
        chosen = payload.get("value")
        if item.resolved_value == chosen:
            return "applied", "本镇已是同样的决定"
        return _conflict(session, command, item.village_id,
                         {"field": item.field, "value": item.resolved_value},
                         {"field": item.field, "value": chosen, "by": user.display_name})
    conflicts.resolve_conflict(user, item.id, picks, session=session)
    return "applied", None


def _candidate(session: Session, uid: str) -> DuplicateCandidate:
    candidate = session.scalar(sa.select(DuplicateCandidate).where(DuplicateCandidate.uid == uid))
    if candidate is None:
        raise _Refused("本镇没有该疑似重复记录")
    return candidate


def _candidate_dismiss(session: Session, user: User, command: dict[str, Any]) -> Outcome:
    candidate = _candidate(session, command["payload"]["candidate_uid"])
    if candidate.status == "dismissed":
        return "applied", "本镇已是同样的决定"
    if candidate.status != "open":
        return _conflict(session, command, candidate.village_id, {"status": candidate.status},
                         {"status": "dismissed", "by": user.display_name})
    merges.dismiss_candidate(user, candidate.id, session=session)
    return "applied", None


def _household_merge(session: Session, user: User, command: dict[str, Any]) -> Outcome:
    payload = command["payload"]
    candidate = _candidate(session, payload["candidate_uid"])
    if candidate.status == "merged":
        survivor = session.scalar(sa.select(HouseholdMerge.survivor_id).where(
            HouseholdMerge.candidate_id == candidate.id, HouseholdMerge.undone_at.is_(None)))
        if survivor == payload["survivor_id"]:
            return "applied", "本镇已是同样的决定"
    if candidate.status != "open":
        return _conflict(session, command, candidate.village_id, {"status": candidate.status},
                         {"status": "merged", "survivor_id": payload["survivor_id"], "by": user.display_name})
    merges.merge_households(user, candidate.id, payload["survivor_id"], payload.get("choices") or {},
                            session=session)
    return "applied", None


def _merge_undo(session: Session, user: User, command: dict[str, Any]) -> Outcome:
    record = session.scalar(sa.select(HouseholdMerge).where(HouseholdMerge.uid == command["payload"]["merge_uid"]))
    if record is None:
        raise _Refused("本镇没有该合并记录")
    if record.undone_at is not None:
        return "applied", "本镇已撤销该合并"
    merges.undo_merge(user, record.id, session=session)
    return "applied", None


def _decision_resolve(session: Session, user: User, command: dict[str, Any]) -> Outcome:
    from fieldapp.review.decision_conflicts import resolve_decision_in

    payload = command["payload"]
    decision = session.scalar(sa.select(DecisionConflict).where(DecisionConflict.uid == payload["decision_uid"]))
    if decision is None:
        raise _Refused("本镇没有该决定冲突")
    if decision.status != "open":
        if decision.resolution == payload["side"]:
            return "applied", "本镇已是同样的处理"
        raise _Refused("本镇已按另一方处理该决定冲突")
    resolve_decision_in(session, user, decision, payload["side"])
    return "applied", None


def _household(session: Session, household_id: str) -> HouseholdState:
    state = load_states(session, [household_id], lock=True).get(household_id)
    if state is None:
        raise _Refused("本镇没有该农户")
    return state


def _write_household(session: Session, writer: HouseholdWriter) -> None:
    changes = writer.finish()
    changes.number(next_change(session, changes.count))
    write_households(session, changes, utcnow())


def _household_merge_away(session: Session, user: User, command: dict[str, Any]) -> Outcome:
    """Half of a merge across towns: this town's household now lives on in another town."""
    payload = command["payload"]
    state = _household(session, payload["household_id"])
    if state.merged_into_id == payload["survivor_id"]:
        return "applied", "本镇已是同样的决定"
    if state.merged_into_id is not None:
        return _conflict(session, command, state.village_id, {"merged_into_id": state.merged_into_id},
                         {"merged_into_id": payload["survivor_id"], "by": user.display_name})
    writer = HouseholdWriter(HOUSEHOLD_FIELDS)
    writer.merge_into(state, payload["survivor_id"])
    _write_household(session, writer)
    # The pairs it was part of here are no longer to decide.
    session.execute(sa.update(DuplicateCandidate).where(
        DuplicateCandidate.status == "open",
        sa.or_(DuplicateCandidate.household_a_id == state.id, DuplicateCandidate.household_b_id == state.id))
        .values(status="superseded", decided_by_id=user.id, decided_at=utcnow(), change_seq=next_change(session))
        .execution_options(synchronize_session=False))
    audit.record(session, user, "household_merge_away", "household", state.id, village_id=state.village_id,
                 details={"survivor_id": payload["survivor_id"], "survivor": payload.get("survivor_label"),
                          "merge_uid": payload.get("merge_uid")})
    return "applied", None


def _household_unmerge_away(session: Session, user: User, command: dict[str, Any]) -> Outcome:
    payload = command["payload"]
    state = _household(session, payload["household_id"])
    if state.merged_into_id is None:
        return "applied", "本镇已是同样的决定"
    if state.merged_into_id != payload["survivor_id"]:
        raise _Refused("该户已并入另一户，不能按此撤销")
    writer = HouseholdWriter(HOUSEHOLD_FIELDS)
    writer.merge_into(state, None)
    _write_household(session, writer)
    audit.record(session, user, "household_unmerge_away", "household", state.id, village_id=state.village_id,
                 details={"merge_uid": payload.get("merge_uid")})
    return "applied", None


def _household_absorb(session: Session, user: User, command: dict[str, Any]) -> Outcome:
    """The other half: the surviving household takes the values chosen from the other town's."""
    payload = command["payload"]
    state = _household(session, payload["household_id"])
    if state.merged_into_id is not None:
        raise _Refused("该户已被合并，不能作为保留户")
    writer = HouseholdWriter(HOUSEHOLD_FIELDS)
    changed = writer.revise(state, payload["values"], reason="merge", user_id=user.id, visit_uuid=None, always=True)
    _write_household(session, writer)
    audit.record(session, user, "household_absorb", "household", state.id, village_id=state.village_id,
                 details={"merged_id": payload["merged_id"], "merged": payload.get("merged_label"),
                          "changed": changed, "merge_uid": payload.get("merge_uid")})
    return "applied", None


def _household_unabsorb(session: Session, user: User, command: dict[str, Any]) -> Outcome:
    payload = command["payload"]
    state = _household(session, payload["household_id"])
    if state.rev != payload["expected_rev"]:
        raise _Refused(f"合并后该户又有修改（现为第{state.rev}版），不能自动撤销")
    writer = HouseholdWriter(HOUSEHOLD_FIELDS)
    writer.revise(state, payload["values"], reason="undo", user_id=user.id, visit_uuid=None, always=True)
    _write_household(session, writer)
    audit.record(session, user, "household_unabsorb", "household", state.id, village_id=state.village_id,
                 details={"merge_uid": payload.get("merge_uid")})
    return "applied", None


_HANDLERS: dict[str, Callable[[Session, User, dict[str, Any]], Outcome]] = {
    "household_merge_away": _household_merge_away,
    "household_unmerge_away": _household_unmerge_away,
    "household_absorb": _household_absorb,
    "household_unabsorb": _household_unabsorb,
    "visit_review": _visit_review,
    "conflict_resolve": _conflict_resolve,
    "candidate_dismiss": _candidate_dismiss,
    "household_merge": _household_merge,
    "merge_undo": _merge_undo,
    "decision_resolve": _decision_resolve,
}
KINDS = tuple(_HANDLERS)
