"""A town's data as comparable values, read the same way from the town and from central
(ids that hold in every tier; villages by name; users by uid): convergence is equality."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Flask

from fieldapp.extensions import db
from fieldapp.models import (
    HOUSEHOLD_FIELDS,
    Conflict,
    DuplicateCandidate,
    Household,
    HouseholdMerge,
    HouseholdRevision,
    Town,
    User,
    Village,
    Visit,
)

_VISIT = ("household_id", "campaign_id", "form_version", "base_rev", "supersedes", "data", "sync_status",
          "review_status", "review_comment", "server_seq", "conclusion", "below_monitoring_line",
          "visited_on", "batch_id")


def snapshot(app: Flask, town_name: str) -> dict[str, Any]:
    """The town's households, revisions, visits, conflicts, candidates (found in the town)
    and merges in ``app``'s database."""
    with app.app_context():
        session = db.session
        uids = dict(session.execute(sa.select(User.id, User.uid)).all())
        villages = dict(session.execute(sa.select(Village.id, Village.name)).all())
        town = session.scalar(sa.select(Town.id).where(Town.name == town_name))
        households = {
            h.id: (h.code, villages[h.village_id], h.head_pinyin, h.source, h.rev, h.merged_into_id,
                   *(getattr(h, f) for f in HOUSEHOLD_FIELDS))
            for h in session.scalars(sa.select(Household).where(Household.town_id == town))}
        ids = sorted(households)
        revisions = {
            (r.household_id, r.rev): (r.values, r.changed, r.reason, r.visit_uuid, uids.get(r.user_id))
            for r in session.scalars(sa.select(HouseholdRevision).where(HouseholdRevision.household_id.in_(ids)))}
        visits = {
            v.uuid: (*(getattr(v, c) for c in _VISIT), villages[v.village_id], uids.get(v.worker_id),
                     uids.get(v.reviewed_by_id))
            for v in session.scalars(sa.select(Visit).where(Visit.household_id.in_(ids)))}
        conflicts = {
            c.uid: (c.household_id, c.visit_uuid, c.field, c.base_value, c.current_value, c.incoming_value,
                    c.status, c.resolved_value, uids.get(c.resolved_by_id))
            for c in session.scalars(sa.select(Conflict).where(Conflict.household_id.in_(ids)))}
        candidates = {
            c.uid: (c.household_a_id, c.household_b_id, c.status, c.score, c.evidence, uids.get(c.decided_by_id))
            for c in session.scalars(sa.select(DuplicateCandidate).where(
                DuplicateCandidate.household_a_id.in_(ids), DuplicateCandidate.source != "county"))}
        candidate_uids = dict(session.execute(sa.select(DuplicateCandidate.id, DuplicateCandidate.uid)).all())
        merges = {
            m.uid: (m.survivor_id, m.merged_id, candidate_uids.get(m.candidate_id), m.undone_at is not None)
            for m in session.scalars(sa.select(HouseholdMerge).where(HouseholdMerge.survivor_id.in_(ids)))
            if not (m.before or {}).get("across_towns")}
        db.session.remove()
    return {"households": households, "revisions": revisions, "visits": visits, "conflicts": conflicts,
            "candidates": candidates, "merges": merges}


def assert_converged(central: Flask, town: Flask, town_name: str) -> None:
    """Central's copy of the town equals the town, table by table."""
    there, here = snapshot(central, town_name), snapshot(town, town_name)
    for table in here:
        assert there[table] == here[table], f"{town_name}: {table} differ"
