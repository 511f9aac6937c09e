"""Checks that hold after any sequence of pushes: the household is its visits, replayed."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fieldapp.models import Conflict, Household, HouseholdRevision, Visit
from sync.form import load_form
from sync.merge import three_way_merge

FIELDS = [f.id for f in load_form("2023.1").household_fields]


def replay_household(session: Session, household_id: str) -> list[str]:
    """Re-apply the household's stored visits in server order to its first revision
    and compare with what the server holds. Returns the differences (empty: fine)."""
    problems: list[str] = []
    first = session.scalar(sa.select(HouseholdRevision).where(
        HouseholdRevision.household_id == household_id, HouseholdRevision.rev == 1))
    history: dict[int, dict[str, Any]] = {1: dict(first.values)}
    rev, values = 1, dict(first.values)
    visits = session.scalars(sa.select(Visit).where(Visit.household_id == household_id)
                             .order_by(Visit.server_seq)).all()
    if first.reason == "visit":  # created by its first visit
        visits = [v for v in visits if v.uuid != first.visit_uuid]
    for visit in visits:
        base = history.get(visit.base_rev) if visit.base_rev is not None else None
        merged = three_way_merge(base, values, {f: visit.data.get(f) for f in FIELDS}, FIELDS)
        if merged.changed:
            rev += 1
            values = merged.values
            history[rev] = dict(values)
        expected_status = "conflict" if merged.conflicts else "accepted"
        if visit.sync_status != expected_status:
            problems.append(f"visit {visit.uuid}: {visit.sync_status} != {expected_status}")
        recorded = sorted(session.scalars(sa.select(Conflict.field).where(Conflict.visit_uuid == visit.uuid)))
        if recorded != sorted(merged.conflict_fields):
            problems.append(f"visit {visit.uuid}: conflicts {recorded} != {merged.conflict_fields}")
    household = session.get(Household, household_id)
    if household.rev != rev:
        problems.append(f"household {household_id}: rev {household.rev} != replayed {rev}")
    current = {f: getattr(household, f) for f in FIELDS}
    if current != values:
        problems.append(f"household {household_id}: {current} != replayed {values}")
    stored_revs = sorted(session.scalars(sa.select(HouseholdRevision.rev).where(
        HouseholdRevision.household_id == household_id)))
    if stored_revs != list(range(1, rev + 1)):
        problems.append(f"household {household_id}: revisions {stored_revs}")
    return problems
