"""Duplicate households: dismissing a candidate pair, merging it, and undoing a merge.

The decisions are ``sync/household_merge.py``'s (pure); this module loads and locks
what they need, claims the candidate, and writes the outcome (households through
``fieldapp.households``, then the visits, conflicts and candidates), audited.

At central, a town's candidate or merge is decided by sending the decision to the
town (``review/remote.py``); a pair found across towns is central's own and is merged
by ``review/county_merges.py``.
"""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from fieldapp import audit
from fieldapp.access import in_scope
from fieldapp.db.changes import next_change
from fieldapp.households import load_states, write_households
from fieldapp.models import (
    HOUSEHOLD_FIELDS,
    Campaign,
    Conflict,
    DuplicateCandidate,
    Household,
    HouseholdMerge,
    Node,
    User,
    Visit,
    utcnow,
)
from fieldapp.review import county_merges, remote
from fieldapp.review.decisions import claim, decision_transaction, display_name, settle_visit
from fieldapp.review.errors import AlreadyDecided, Invalid, NotFound, SentToTown
from fieldapp.review.values import check_household_values
from sync.form import DEFAULT_VERSION
from sync.household_merge import (
    ConflictRef,
    MergeOutcome,
    MergeRefused,
    VisitRef,
    merged_of,
    picked_values,
    plan_merge,
    plan_undo,
)
from sync.households import HouseholdWriter

STATUS_LABELS = {"merged": "已合并", "dismissed": "已排除", "superseded": "已失效"}


def _candidate_in_scope(session: Session, user: User, candidate_id: int) -> DuplicateCandidate:
    candidate = session.get(DuplicateCandidate, candidate_id, populate_existing=True)
    if candidate is None or not in_scope(user, candidate.village_id):
        raise NotFound("candidate_not_found")
    for household_id in (candidate.household_a_id, candidate.household_b_id):
        household = session.get(Household, household_id)
        if household is None or not in_scope(user, household.village_id):
            raise NotFound("candidate_not_found")
    return candidate


def _already(candidate: DuplicateCandidate) -> AlreadyDecided:
    return AlreadyDecided("candidate_decided_as", name=display_name(candidate.decided_by_id),
                          status=_(STATUS_LABELS.get(candidate.status, candidate.status)))


def _town_of(session: Session, candidate: DuplicateCandidate) -> Node | None:
    """At central, the town that owns the candidate (none for a pair central found across towns)."""
    if candidate.source == county_merges.SOURCE:
        return None
    return remote.owner(session, candidate.village_id)


def _sent(towns: list[str]) -> SentToTown:
    return SentToTown("sent_to_town", town="、".join(dict.fromkeys(towns)))


def dismiss_candidate(user: User, candidate_id: int, *, session: Session | None = None) -> DuplicateCandidate:
    """Not the same household: the pair is kept as ``dismissed`` and never suggested again.

    :raises SentToTown: at central, for a town's candidate: the decision went to the town
    """
    sent: list[str] = []
    with decision_transaction(session) as joined:
        candidate = _dismiss(joined, user, candidate_id, sent)
    if sent:
        raise _sent(sent)
    return candidate


def _dismiss(session: Session, user: User, candidate_id: int, sent: list[str]) -> DuplicateCandidate:
    candidate = _candidate_in_scope(session, user, candidate_id)
    node = _town_of(session, candidate)
    if node is not None:
        remote.send(session, node, user, "candidate_dismiss", candidate.uid, {"candidate_uid": candidate.uid},
                    candidate.village_id)
        sent.append(node.town.name)
        return candidate
    if not claim(session, DuplicateCandidate, candidate.id, DuplicateCandidate.status, "open",
                 status="dismissed", decided_by_id=user.id, decided_at=utcnow()):
        session.refresh(candidate)
        raise _already(candidate)
    session.refresh(candidate)
    settle_visit(session, candidate.visit_uuid)
    audit.record(session, user, "candidate_dismiss", "duplicate_candidate", candidate.id,
                 village_id=candidate.village_id, before={"status": "open"}, after={"status": "dismissed"},
                 details={"household_a_id": candidate.household_a_id, "household_b_id": candidate.household_b_id})
    return candidate


def merge_households(user: User, candidate_id: int, survivor_id: str,
                     choices: Mapping[str, str] | None = None, *,
                     session: Session | None = None) -> HouseholdMerge:
    """Merge a duplicate pair into ``survivor_id``.

    ``choices`` maps a household field to the id of the household whose value
    the survivor keeps (default: the survivor's own). The other household's
    visits move to the survivor; it keeps its row with ``merged_into_id`` set
    and a new change number, so phones pull it as ``removed``. A
    :class:`HouseholdMerge` keeps the before-images for :func:`undo_merge`.

    :raises SentToTown: at central: the merge went to the town (or the two towns)
    """
    sent: list[str] = []
    with decision_transaction(session) as joined:
        record = _merge(joined, user, candidate_id, survivor_id, dict(choices or {}), sent)
    if sent:
        raise _sent(sent)
    assert record is not None
    return record


def _merge(session: Session, user: User, candidate_id: int, survivor_id: str, choices: dict[str, str],
           sent: list[str]) -> HouseholdMerge | None:
    candidate = _candidate_in_scope(session, user, candidate_id)
    pair = (candidate.household_a_id, candidate.household_b_id)
    try:
        merged_id = merged_of(pair, survivor_id, choices, HOUSEHOLD_FIELDS)
    except MergeRefused as refused:
        if refused.code == "survivor_not_in_pair":
            raise Invalid("survivor_missing", {"survivor": [_("请选择保留哪一户")]}) from None
        raise Invalid("merge_choice_invalid", {f: [_("选择无效")] for f in refused.fields}) from None
    if candidate.status != "open":
        raise _already(candidate)
    # Locked in id order (no deadlock between two merges).
    locked = load_states(session, pair, lock=True)
    survivor, merged = locked[survivor_id], locked[merged_id]
    if survivor.merged_into_id or merged.merged_into_id:
        raise Invalid("already_merged")
    campaign = session.get(Campaign, candidate.campaign_id) if candidate.campaign_id else None
    values, errors = check_household_values(
        campaign.form_version if campaign else DEFAULT_VERSION, campaign, survivor.values,
        picked_values(merged, choices), set())
    if errors:
        raise Invalid("merged_breaks_rules", errors)
    node = _town_of(session, candidate)
    if node is not None:
        remote.send(session, node, user, "household_merge", candidate.uid,
                    {"candidate_uid": candidate.uid, "survivor_id": survivor_id, "choices": choices},
                    candidate.village_id)
        sent.append(node.town.name)
        return None
    if candidate.source == county_merges.SOURCE:
        sent += county_merges.merge_across_towns(session, user, candidate, survivor, merged, values)
        return None
    visits = [VisitRef(*row) for row in session.execute(
        sa.select(Visit.uuid, Visit.household_id, Visit.village_id, Visit.sync_status)
        .where(Visit.household_id == merged_id).order_by(Visit.uuid).with_for_update())]
    conflicts = [ConflictRef(*row) for row in session.execute(
        sa.select(Conflict.id, Conflict.household_id, Conflict.village_id)
        .where(Conflict.household_id == merged_id, Conflict.status == "open").order_by(Conflict.id))]
    others = list(session.scalars(sa.select(DuplicateCandidate.id).where(
        DuplicateCandidate.id != candidate.id, DuplicateCandidate.status == "open",
        sa.or_(DuplicateCandidate.household_a_id == merged_id,
               DuplicateCandidate.household_b_id == merged_id)).order_by(DuplicateCandidate.id)))
    now = utcnow()
    if not claim(session, DuplicateCandidate, candidate.id, DuplicateCandidate.status, "open",
                 status="merged", decided_by_id=user.id, decided_at=now):
        session.refresh(candidate)
        raise _already(candidate)
    writer = HouseholdWriter(HOUSEHOLD_FIELDS)
    outcome = plan_merge(writer, survivor, merged, values, visits=visits, conflicts=conflicts,
                         other_candidates=others, candidate_id=candidate.id, user_id=user.id)
    record_seq = _write(session, writer, outcome, user, now)
    settle_visit(session, candidate.visit_uuid)
    record = HouseholdMerge(survivor_id=survivor.id, merged_id=merged.id, candidate_id=candidate.id,
                            before=outcome.before, after=outcome.after, merged_by_id=user.id,
                            merged_at=now, change_seq=record_seq)
    session.add(record)
    session.flush()
    audit.record(session, user, "household_merge", "household_merge", record.id,
                 village_id=survivor.village_id,
                 before={"survivor": outcome.before["survivor"], "merged": outcome.before["merged"]},
                 after={"survivor": outcome.after["survivor"], "merged_into_id": survivor.id,
                        "moved_visits": outcome.after["moved_visits"]},
                 details={"candidate_id": candidate.id, "survivor_id": survivor.id, "merged_id": merged.id})
    return record


def undo_merge(admin: User, merge_id: int, *, session: Session | None = None) -> HouseholdMerge:
    """Put a merge back (admin only): both households, the moved visits, conflicts and candidates.

    ``rev`` only grows: the survivor's old values come back as a new revision
    (reason ``undo``). Refused when the survivor changed after the merge, since
    restoring its old values would silently drop that later change.

    :raises SentToTown: at central: the undo went to the town (or the two towns)
    """
    if not admin.is_admin:
        raise NotFound("merge_not_found")
    sent: list[str] = []
    with decision_transaction(session) as joined:
        record = _undo(joined, admin, merge_id, sent)
    if sent:
        raise _sent(sent)
    return record


def _undo(session: Session, admin: User, merge_id: int, sent: list[str]) -> HouseholdMerge:
    record = session.get(HouseholdMerge, merge_id, populate_existing=True)
    if record is None:
        raise NotFound("merge_not_found")
    if record.undone_at is not None:
        raise AlreadyDecided("merge_undone", name=display_name(record.undone_by_id))
    if county_merges.is_across_towns(record):
        sent += county_merges.undo_across_towns(session, admin, record)
        return record
    survivor_village = session.scalar(sa.select(Household.village_id).where(Household.id == record.survivor_id))
    node = remote.owner(session, survivor_village)
    if node is not None:
        remote.send(session, node, admin, "merge_undo", record.uid, {"merge_uid": record.uid}, survivor_village)
        sent.append(node.town.name)
        return record
    locked = load_states(session, (record.survivor_id, record.merged_id), lock=True)
    survivor, merged = locked[record.survivor_id], locked[record.merged_id]
    writer = HouseholdWriter(HOUSEHOLD_FIELDS)
    try:
        outcome = plan_undo(writer, survivor, merged, record.before, record.after, user_id=admin.id)
    except MergeRefused as refused:
        raise Invalid("changed_since_merge", rev=refused.rev) from None
    now = utcnow()
    if not claim(session, HouseholdMerge, record.id, HouseholdMerge.undone_at, None,
                 undone_at=now, undone_by_id=admin.id):
        session.refresh(record)
        raise AlreadyDecided("merge_undone", name=display_name(record.undone_by_id))
    _write(session, writer, outcome, admin, now, undo_candidate=record.before["candidate"])
    session.expire_all()
    audit.record(session, admin, "merge_undo", "household_merge", record.id,
                 village_id=survivor.village_id,
                 before={"survivor": outcome.before["survivor"], "merged_id": merged.id,
                         "merged_into_id": survivor.id},
                 after={"survivor": outcome.after["survivor"], "merged": outcome.after["merged"],
                        "restored_visits": outcome.after["restored_visits"]},
                 details={"survivor_id": survivor.id, "merged_id": merged.id, "candidate_id": record.candidate_id})
    return record


def _write(session: Session, writer: HouseholdWriter, outcome: MergeOutcome, user: User,
           now: object, undo_candidate: Mapping[str, object] | None = None) -> int:
    """Store a merge's (or an undo's) outcome: the households, then each moved visit,
    conflict and candidate with a change number of its own; returns a change number
    left over for the merge record."""
    households = writer.finish()
    # one each, and one more: the merge record's, or the undone merge's own candidate's
    rows = len(outcome.visit_moves) + len(outcome.conflict_moves) + len(outcome.candidates) + 1
    seq = households.number(next_change(session, households.count + rows))
    write_households(session, households, now)  # type: ignore[arg-type]
    numbers = iter(range(seq, seq + rows))
    for uuid, (household_id, village_id, status) in outcome.visit_moves.items():
        values: dict[str, object] = {"household_id": household_id, "village_id": village_id,
                                     "change_seq": next(numbers)}
        if status is not None:
            values["sync_status"] = status
        session.execute(sa.update(Visit).where(Visit.uuid == uuid).values(**values)
                        .execution_options(synchronize_session=False))
    for conflict_id, (household_id, village_id) in outcome.conflict_moves.items():
        session.execute(sa.update(Conflict).where(Conflict.id == conflict_id).values(
            household_id=household_id, village_id=village_id, change_seq=next(numbers))
            .execution_options(synchronize_session=False))
    for candidate_id, status in outcome.candidates.items():
        condition = DuplicateCandidate.status == ("open" if status == "superseded" else "superseded")
        decided = {"decided_by_id": user.id, "decided_at": now} if status == "superseded" else {
            "decided_by_id": None, "decided_at": None}
        session.execute(sa.update(DuplicateCandidate).where(DuplicateCandidate.id == candidate_id, condition)
                        .values(status=status, change_seq=next(numbers), **decided)
                        .execution_options(synchronize_session=False))
    if undo_candidate is not None:
        session.execute(sa.update(DuplicateCandidate).where(DuplicateCandidate.id == undo_candidate["id"])
                        .values(status=undo_candidate["status"], decided_by_id=None, decided_at=None,
                                change_seq=next(numbers))
                        .execution_options(synchronize_session=False))
    if undo_candidate is None:
        session.flush()
        for uuid in outcome.visit_moves:
            settle_visit(session, uuid)
    return next(numbers, 0)
