"""Merging two households of different towns, a county supervisor's decision at central
(docs/replication.md, "Across towns").

Central keeps the decision (the candidate claimed, a :class:`HouseholdMerge` with the
before-images) and sends it to both towns, each applying its half through its own
household write: the merged household's town marks it merged into the survivor (its
phones drop it, its reports stop counting it; its visits stay where they were
recorded), the survivor's town gives the survivor the values chosen from the other
household, as a new revision. An undo sends the two halves back.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fieldapp import audit
from fieldapp.db.changes import next_change
from fieldapp.models import DuplicateCandidate, HouseholdMerge, Node, User, Village, utcnow
from fieldapp.review import remote
from fieldapp.review.decisions import claim, display_name
from fieldapp.review.errors import AlreadyDecided, Invalid
from sync.household_merge import image
from sync.store import HouseholdState

SOURCE = "county"  # a candidate central found across towns


def is_across_towns(record: HouseholdMerge) -> bool:
    return bool((record.before or {}).get("across_towns"))


def _label(session: Session, state: HouseholdState) -> str:
    village = session.get(Village, state.village_id)
    return f"{state.values.get('head_name') or ''}（{village.town.name if village else ''}{village.name if village else ''}）"


def _towns(session: Session, survivor: HouseholdState, merged: HouseholdState) -> tuple[Node, Node]:
    survivor_town, merged_town = remote.owner(session, survivor.village_id), remote.owner(session, merged.village_id)
    if survivor_town is None or merged_town is None:
        raise Invalid("town_not_connected")
    return survivor_town, merged_town


def merge_across_towns(session: Session, user: User, candidate: DuplicateCandidate, survivor: HouseholdState,
                       merged: HouseholdState, values: dict[str, Any]) -> list[str]:
    """Claim the candidate, keep the merge at central and send each town its half;
    returns the towns' names."""
    survivor_town, merged_town = _towns(session, survivor, merged)
    now = utcnow()
    if not claim(session, DuplicateCandidate, candidate.id, DuplicateCandidate.status, "open",
                 status="merged", decided_by_id=user.id, decided_at=now):
        session.refresh(candidate)
        raise AlreadyDecided("candidate_decided", name=display_name(candidate.decided_by_id))
    changed = [f for f in values if values[f] != survivor.values.get(f)]
    record = HouseholdMerge(
        survivor_id=survivor.id, merged_id=merged.id, candidate_id=candidate.id, merged_by_id=user.id,
        merged_at=now, change_seq=next_change(session),
        before={"across_towns": True, "survivor": image(survivor), "merged": image(merged),
                "visits": [], "conflicts": [], "candidates": [],
                "candidate": {"id": candidate.id, "status": "open"}},
        after={"survivor_values": values, "changed": changed, "survivor_rev": survivor.rev + 1,
               "towns": [survivor_town.town.name, merged_town.town.name]})
    session.add(record)
    session.flush()
    remote.send(session, merged_town, user, "household_merge_away", merged.id,
                {"household_id": merged.id, "survivor_id": survivor.id, "merge_uid": record.uid,
                 "survivor_label": _label(session, survivor)}, merged.village_id)
    remote.send(session, survivor_town, user, "household_absorb", survivor.id,
                {"household_id": survivor.id, "values": values, "merged_id": merged.id,
                 "merge_uid": record.uid, "merged_label": _label(session, merged)}, survivor.village_id)
    audit.record(session, user, "household_merge", "household_merge", record.id, village_id=survivor.village_id,
                 before={"survivor": record.before["survivor"], "merged": record.before["merged"]},
                 after={"survivor_values": values, "merged_into_id": survivor.id},
                 details={"candidate_id": candidate.id, "survivor_id": survivor.id, "merged_id": merged.id,
                          "across_towns": [survivor_town.town.name, merged_town.town.name]})
    return [merged_town.town.name, survivor_town.town.name]


def undo_across_towns(session: Session, admin: User, record: HouseholdMerge) -> list[str]:
    """Claim the undo, reopen the candidate and send each town the undo of its half."""
    survivor, merged = record.before["survivor"], record.before["merged"]
    survivor_town = remote.owner(session, survivor["village_id"])
    merged_town = remote.owner(session, merged["village_id"])
    if survivor_town is None or merged_town is None:
        raise Invalid("town_not_connected_undo")
    now = utcnow()
    if not claim(session, HouseholdMerge, record.id, HouseholdMerge.undone_at, None,
                 undone_at=now, undone_by_id=admin.id):
        session.refresh(record)
        raise AlreadyDecided("merge_undone", name=display_name(record.undone_by_id))
    if record.candidate_id is not None:
        session.execute(sa.update(DuplicateCandidate).where(DuplicateCandidate.id == record.candidate_id)
                        .values(status="open", decided_by_id=None, decided_at=None, change_seq=next_change(session))
                        .execution_options(synchronize_session=False))
    remote.send(session, merged_town, admin, "household_unmerge_away", record.merged_id,
                {"household_id": record.merged_id, "survivor_id": record.survivor_id, "merge_uid": record.uid},
                merged["village_id"])
    remote.send(session, survivor_town, admin, "household_unabsorb", record.survivor_id,
                {"household_id": record.survivor_id, "values": survivor["values"],
                 "expected_rev": record.after["survivor_rev"], "merge_uid": record.uid}, survivor["village_id"])
    audit.record(session, admin, "merge_undo", "household_merge", record.id, village_id=survivor["village_id"],
                 details={"survivor_id": record.survivor_id, "merged_id": record.merged_id,
                          "across_towns": [survivor_town.town.name, merged_town.town.name]})
    return [merged_town.town.name, survivor_town.town.name]
