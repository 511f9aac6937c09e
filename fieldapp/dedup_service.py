"""The duplicate searches: over the database (``fieldapp dedup run``) and among
a roster file's rows (``fieldapp dedup check``, :func:`check_rows`).

Reads every live household (not merged into another), finds candidate pairs
with :func:`sync.dedup.find_duplicates`, adds those where one household's
householder is a stored member of another (:mod:`sync.dedup.members`, the rule
ingest applies to a new household) and stores them as
:class:`~fieldapp.models.DuplicateCandidate` rows (``source="bulk"``) for a
supervisor to merge or dismiss. Nothing is merged here.

The matching runs before the write transaction on purpose: on SQLite
``write_transaction`` takes the database's write lock, and holding it through a
county-sized matching run would stall every phone's push. The write
transaction then re-reads what may have changed meanwhile (candidates
decided, households merged) before it writes, so a pair dismissed while the
run was matching is still never proposed again.
"""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fieldapp import audit
from fieldapp.campaigns import active_select
from fieldapp.db import write_transaction
from fieldapp.db.changes import next_change
from fieldapp.models import (
    Campaign,
    DuplicateCandidate,
    Household,
    HouseholdMember,
    Node,
    User,
    new_uuid,
)
from sync.dedup import BulkStats, HouseholdRecord, PairMatch, Progress, find_duplicates
from sync.dedup.members import MemberRow, with_member_pairs
from sync.dedup.roster import RosterRows
from sync.dedup.score import DEFAULT_WEIGHTS, Weights
from sync.errors import SyncError


class DedupError(SyncError, ValueError):
    """A bulk run that cannot start: a kind of the error catalogue (``str(error)`` is its
    Chinese message, for the CLI)."""


@dataclass
class RunResult:
    campaign_id: str | None
    households: int = 0
    pairs: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0  # dismissed, merged, or touching a household merged meanwhile
    exact_id: int = 0
    members: int = 0  # stored pairs with a householder who is the other's member
    seconds: float = 0.0
    stats: BulkStats = field(default_factory=BulkStats)


def resolve_campaign(session: Session, campaign_id: str | None) -> str | None:
    """The named campaign (must exist), else the active one, else none."""
    if campaign_id:
        if session.get(Campaign, campaign_id) is None:
            raise DedupError("dedup_campaign_not_found", campaign_id=campaign_id)
        return campaign_id
    active: str | None = session.scalar(active_select(Campaign.id))
    return active


def load_records(session: Session) -> list[HouseholdRecord]:
    """Every live household as a dedup record, in id order."""
    rows = session.execute(
        sa.select(Household.id, Household.village_id, Household.head_name, Household.head_id,
                  Household.phone, Household.group, Household.hamlet, Household.size,
                  Household.town_id)
        .where(Household.merged_into_id.is_(None))
        .order_by(Household.id)
    )
    return [HouseholdRecord(*row) for row in rows]


def load_member_ids(session: Session) -> list[MemberRow]:
    """The stored members of live households that :func:`sync.dedup.members.with_member_pairs`
    can use: those whose ID number is some live household's householder's, other than the
    householders' own rows (本人, which the rule skips; every household has one, so the
    database leaves out about one member in three here)."""
    live = sa.select(Household.head_id).where(Household.merged_into_id.is_(None))
    rows = session.execute(
        sa.select(HouseholdMember.household_id, HouseholdMember.name, HouseholdMember.id_number,
                  HouseholdMember.relation)
        .join(Household, Household.id == HouseholdMember.household_id)
        .where(Household.merged_into_id.is_(None), HouseholdMember.relation.is_distinct_from("self"),
               HouseholdMember.id_number.in_(live))
    )
    return [MemberRow(household_id, name, id_number, relation)
            for household_id, name, id_number, relation in rows if id_number]


def run_bulk(session: Session, campaign_id: str | None = None, *, actor: User | None = None,
             progress: Progress | None = None, weights: Weights = DEFAULT_WEIGHTS,
             reference_year: int | None = None) -> RunResult:
    """Find duplicate candidates among all live households and store them, in one transaction.

    Pairs a supervisor dismissed (or already merged) are never proposed again;
    open pairs are updated (score, evidence), not duplicated.
    """
    started = time.perf_counter()
    campaign = resolve_campaign(session, campaign_id)
    records = load_records(session)
    result = RunResult(campaign_id=campaign, households=len(records))
    pairs = find_duplicates(records, weights=weights, consistent=True, reference_year=reference_year,
                            progress=progress or _quiet, stats=result.stats)
    pairs = with_member_pairs(pairs, records, load_member_ids(session))
    result.pairs = len(pairs)

    with write_transaction(session):
        _store(session, records, pairs, campaign, result)
        audit.record(session, actor, "dedup_run", "campaign", campaign,
                     details={"households": result.households, "pairs": result.pairs,
                              "created": result.created, "updated": result.updated,
                              "skipped": result.skipped, "members": result.members})
    result.seconds = time.perf_counter() - started
    return result


def _quiet(stage: str, done: int, total: int) -> None:
    return None


def _store(session: Session, records: list[HouseholdRecord], pairs: list[PairMatch],
           campaign: str | None, result: RunResult) -> None:
    existing: dict[tuple[str, str], tuple[int, str]] = {
        (row.household_a_id, row.household_b_id): (row.id, row.status)
        for row in session.execute(sa.select(DuplicateCandidate.id, DuplicateCandidate.household_a_id,
                                             DuplicateCandidate.household_b_id, DuplicateCandidate.status))
    }
    merged_meanwhile = set(session.scalars(
        sa.select(Household.id).where(Household.merged_into_id.is_not(None))))
    # At central, a pair within one town is that town's to find and decide (its dedup runs
    # there and its candidates come up with its feed): only pairs across towns are stored.
    node_towns = set(session.scalars(sa.select(Node.town_id)))
    inserts: list[dict[str, object]] = []
    updates: list[dict[str, object]] = []
    for pair in pairs:
        first, second = records[pair.a], records[pair.b]
        a, b = (first, second) if first.id < second.id else (second, first)
        if a.id in merged_meanwhile or b.id in merged_meanwhile or (a.town_id == b.town_id and a.town_id in node_towns):
            result.skipped += 1
            continue
        result.exact_id += 1 if pair.exact_id else 0
        result.members += 1 if pair.member else 0
        known = existing.get((a.id, b.id))
        if known is not None:
            row_id, status = known
            if status != "open":
                result.skipped += 1
                continue
            updates.append({"id": row_id, "score": pair.score, "evidence": list(pair.evidence)})
            continue
        existing[(a.id, b.id)] = (0, "open")
        inserts.append({
            "uid": new_uuid(), "household_a_id": a.id, "household_b_id": b.id, "village_id": a.village_id,
            "campaign_id": campaign, "score": pair.score, "evidence": list(pair.evidence),
            "source": "county" if a.town_id != b.town_id and node_towns else "bulk", "status": "open",
        })
    # Every candidate written takes a change number (a town's replication feed).
    seq = next_change(session, len(inserts) + len(updates)) if inserts or updates else 0
    for offset, row in enumerate(inserts + updates):
        row["change_seq"] = seq + offset
    if inserts:
        session.execute(sa.insert(DuplicateCandidate), inserts)
    if updates:
        session.execute(sa.update(DuplicateCandidate), updates)
    result.created = len(inserts)
    result.updated = len(updates)


def check_rows(rows: RosterRows, out: Path, *, bom: bool = True, progress: Progress | None = None) -> int:
    """Find duplicates among a roster file's rows and write the pairs to ``out`` (nothing is
    stored); returns how many pairs."""
    found = find_duplicates(rows.records, consistent=True, progress=progress or _quiet)
    write_pairs(out, rows.labels, [(p.a, p.b, p.score, p.evidence) for p in found], bom=bom)
    return len(found)


def write_pairs(path: Path, labels: list[str], pairs: list[tuple[int, int, float, list[str]]],
                bom: bool = True) -> None:
    """The pairs CSV, header row_a,row_b,score,evidence; UTF-8 with a BOM by default so
    that Excel shows the Chinese evidence (``bom=False`` for other tools)."""
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["row_a", "row_b", "score", "evidence"])
        for a, b, score, evidence in pairs:
            writer.writerow([labels[a], labels[b], f"{score:.3f}", "；".join(evidence)])
