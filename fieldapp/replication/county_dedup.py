"""Central's dedup across towns: the same person registered in two towns (migrant workers,
split households) becomes a candidate for a county supervisor, with its evidence.

Within a town, dedup is the town's (its candidates come up with its feed); here only
pairs whose households belong to different towns are proposed, with the same matcher
as ingest (``sync.dedup``), looked up under the ID numbers (with their one-typo
neighbours) and phones of the households a page brought.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fieldapp.campaigns import active_select
from fieldapp.db import write_transaction
from fieldapp.db.changes import next_change
from fieldapp.models import Campaign, DuplicateCandidate, Household, new_uuid, utcnow
from sync.dedup import HouseholdRecord, blocking_keys, match_one

_CHUNK = 900
_RECORD = (Household.id, Household.village_id, Household.head_name, Household.head_id, Household.phone,
           Household.group, Household.hamlet, Household.size, Household.town_id)


def _records(session: Session, condition: sa.ColumnElement[bool]) -> list[HouseholdRecord]:
    return [HouseholdRecord(*row) for row in session.execute(
        sa.select(*_RECORD).where(condition, Household.merged_into_id.is_(None)).order_by(Household.id))]


def find_across_towns(session: Session, household_ids: Iterable[str]) -> int:
    """Store a candidate for each likely duplicate in another town of the given households;
    returns how many new candidates were stored (pairs already known are left as they are)."""
    ids = sorted(set(household_ids))
    records: list[HouseholdRecord] = []
    for start in range(0, len(ids), _CHUNK):
        records += _records(session, Household.id.in_(ids[start:start + _CHUNK]))
    keys = [blocking_keys(r) for r in records]
    numbers = sorted({n for k in keys for n in k.head_ids})
    phones = sorted({p for k in keys for p in k.phones})
    pool: dict[str, HouseholdRecord] = {}
    for start in range(0, len(numbers), _CHUNK):
        pool.update((r.id, r) for r in _records(session, Household.head_id.in_(numbers[start:start + _CHUNK])))
    for start in range(0, len(phones), _CHUNK):
        pool.update((r.id, r) for r in _records(session, Household.phone.in_(phones[start:start + _CHUNK])))
    pairs: dict[tuple[str, str], tuple[HouseholdRecord, float, list[str]]] = {}
    for record, key in zip(records, keys, strict=True):
        others = [o for o in pool.values() if o.town_id != record.town_id
                  and (o.head_id in key.head_ids or (o.phone and o.phone in key.phones))]
        for found in match_one(record, others):
            first, second = sorted((record.id, found.other_id))
            pairs[(first, second)] = (record if record.id == first else pool[first], found.score, found.evidence)
    session.rollback()
    if not pairs:
        return 0
    with write_transaction(session):
        known = set()
        firsts = sorted({a for a, _ in pairs})
        for start in range(0, len(firsts), _CHUNK):
            known |= set(session.execute(
                sa.select(DuplicateCandidate.household_a_id, DuplicateCandidate.household_b_id)
                .where(DuplicateCandidate.household_a_id.in_(firsts[start:start + _CHUNK]))))
        new = [(pair, value) for pair, value in sorted(pairs.items()) if pair not in known]
        if not new:
            return 0
        seq = next_change(session, len(new))
        campaign = session.scalar(active_select(Campaign.id))
        now = utcnow()
        session.execute(sa.insert(DuplicateCandidate), [
            {"uid": new_uuid(), "household_a_id": a, "household_b_id": b, "village_id": first.village_id,
             "campaign_id": campaign, "visit_uuid": None, "score": score, "evidence": list(evidence),
             "source": "county", "status": "open", "created_at": now, "change_seq": seq + offset}
            for offset, ((a, b), (first, score, evidence)) in enumerate(new)])
    return len(new)
