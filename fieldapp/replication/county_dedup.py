"""Central's dedup across towns: the same person registered in two towns (migrant workers,
split households) becomes a candidate for a county supervisor, with its evidence.

Within a town, dedup is the town's (its candidates come up with its feed); here only
pairs whose households belong to different towns are proposed, with the same matcher
as ingest (``sync.dedup``). It runs when a town's round has sent its last page, over
the town's households that changed since the last run (``nodes.dedup_seq``), looked up
in the other towns under their ID numbers (with the one-typo neighbours) and phones:
one query per key kind on PostgreSQL (``= ANY(array)``), so a town's first round of
14,000 households costs a few queries, not one per page.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import QueryableAttribute, Session

from fieldapp.campaigns import active_select
from fieldapp.db import write_transaction
from fieldapp.db.changes import current_change, next_change
from fieldapp.models import Campaign, DuplicateCandidate, Household, Node, new_uuid, utcnow
from sync.dedup import HouseholdRecord, blocking_keys, match_one

_CHUNK = 900
_RECORD = (Household.id, Household.village_id, Household.head_name, Household.head_id, Household.phone,
           Household.group, Household.hamlet, Household.size, Household.town_id)


def _records(session: Session, *where: sa.ColumnElement[bool]) -> list[HouseholdRecord]:
    return [HouseholdRecord(*row) for row in session.execute(
        sa.select(*_RECORD).where(*where, Household.merged_into_id.is_(None)).order_by(Household.id))]


def _having(session: Session, column: QueryableAttribute[str | None], values: list[str], town_id: int) -> list[HouseholdRecord]:
    """Live households of other towns whose ``column`` is one of ``values``."""
    if not values:
        return []
    others = Household.town_id != town_id
    if session.get_bind().dialect.name == "postgresql":
        return _records(session, column == sa.any_(sa.cast(sa.bindparam("values", values), ARRAY(sa.String))),
                        others)
    found: list[HouseholdRecord] = []
    for start in range(0, len(values), _CHUNK):
        found += _records(session, column.in_(values[start:start + _CHUNK]), others)
    return found


def find_for_node(session: Session, node_id: int) -> int:
    """Look for the node's town's households changed since the last run in the other towns;
    store a candidate per likely pair (pairs known in any state are left alone). Returns
    how many candidates are new."""
    node = session.get(Node, node_id)
    assert node is not None
    upto = current_change(session)
    records = _records(session, Household.town_id == node.town_id, Household.change_seq > node.dedup_seq,
                       Household.change_seq <= upto)
    keys = [blocking_keys(r) for r in records]
    pool: dict[str, HouseholdRecord] = {}
    for record in _having(session, Household.head_id, sorted({n for k in keys for n in k.head_ids}), node.town_id):
        pool[record.id] = record
    for record in _having(session, Household.phone, sorted({p for k in keys for p in k.phones}), node.town_id):
        pool[record.id] = record
    by_key: dict[str, list[HouseholdRecord]] = {}
    for other in pool.values():
        by_key.setdefault(other.head_id, []).append(other)
        if other.phone:
            by_key.setdefault(f"phone:{other.phone}", []).append(other)
    pairs: dict[tuple[str, str], tuple[HouseholdRecord, float, list[str]]] = {}
    for record, key in zip(records, keys, strict=True):
        lookups = list(key.head_ids) + [f"phone:{p}" for p in key.phones]
        others = {o.id: o for k in lookups for o in by_key.get(k, ())}
        for found in match_one(record, others.values()):
            first, second = sorted((record.id, found.other_id))
            pairs[(first, second)] = (record if record.id == first else others[first], found.score, found.evidence)
    session.rollback()
    return _store(session, node_id, pairs, upto)


def _store(session: Session, node_id: int, pairs: dict[tuple[str, str], tuple[HouseholdRecord, float, list[str]]],
           upto: int) -> int:
    with write_transaction(session):
        known: set[tuple[str, str]] = set()
        firsts = sorted({a for a, _ in pairs})
        for start in range(0, len(firsts), _CHUNK):
            known |= {(row[0], row[1]) for row in session.execute(
                sa.select(DuplicateCandidate.household_a_id, DuplicateCandidate.household_b_id)
                .where(DuplicateCandidate.household_a_id.in_(firsts[start:start + _CHUNK])))}
        new = [(pair, value) for pair, value in sorted(pairs.items()) if pair not in known]
        if new:
            seq = next_change(session, len(new))
            campaign = session.scalar(active_select(Campaign.id))
            now = utcnow()
            session.execute(sa.insert(DuplicateCandidate), [
                {"uid": new_uuid(), "household_a_id": a, "household_b_id": b, "village_id": first.village_id,
                 "campaign_id": campaign, "visit_uuid": None, "score": score, "evidence": list(evidence),
                 "source": "county", "status": "open", "created_at": now, "change_seq": seq + offset}
                for offset, ((a, b), (first, score, evidence)) in enumerate(new)])
        session.execute(sa.update(Node).where(Node.id == node_id, Node.dedup_seq < upto).values(dedup_seq=upto))
    return len(new)

