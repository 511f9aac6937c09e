"""Read side of the review pages: scoped queries; anything out of scope is 404."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import abort
from sqlalchemy.orm import aliased

from fieldapp import clock
from fieldapp.access import in_scope, scope_filter, village_scope
from fieldapp.extensions import db
from fieldapp.models import (
    AuditLog,
    Conflict,
    DecisionConflict,
    DuplicateCandidate,
    Household,
    HouseholdMerge,
    HouseholdRevision,
    SyncBatch,
    Town,
    User,
    Village,
    Visit,
    user_villages,
)
from fieldapp.tier import at_central

BATCH_COUNT_KEYS = ("accepted", "conflict", "duplicate_suspected", "already_received", "rejected")
BATCH_STATUS_FILTERS = ("pending", "approved", "returned", "conflict", "duplicate_suspected",
                        "already_received", "rejected")


def scope_villages(user: User) -> list[Village]:
    scope = village_scope(user)
    stmt = sa.select(Village).order_by(Village.code, Village.id)
    if scope is not None:
        stmt = stmt.where(Village.id.in_(scope or [-1]))
    return list(db.session.scalars(stmt))


def scope_workers(user: User) -> list[User]:
    stmt = sa.select(User).where(User.role == "worker").order_by(User.username)
    scope = village_scope(user)
    if scope is not None:
        stmt = stmt.where(User.id.in_(sa.select(user_villages.c.user_id)
                                      .where(user_villages.c.village_id.in_(scope or [-1]))))
    return list(db.session.scalars(stmt))


def checked_village(user: User, village_id: int | None) -> int | None:
    """A village filter: out of scope (or unknown) is 404, like the object itself."""
    if village_id is None:
        return None
    if db.session.get(Village, village_id) is None or not in_scope(user, village_id):
        abort(404)
    return village_id


# -- batches -------------------------------------------------------------------


def _batch_scope(user: User) -> sa.ColumnElement[bool]:
    """Batches holding a visit in the user's villages; a batch that stored no visit at all
    (every record rejected or received before) belongs to the supervisors of its worker's
    villages. A batch of another village's visits only is not theirs, whoever pushed it."""
    scope = village_scope(user)
    if scope is None:
        return sa.true()
    visits_here = sa.select(Visit.uuid).where(Visit.batch_id == SyncBatch.id,
                                              Visit.village_id.in_(scope or [-1])).exists()
    no_visits = ~sa.select(Visit.uuid).where(Visit.batch_id == SyncBatch.id).exists()
    worker_here = SyncBatch.user_id.in_(
        sa.select(user_villages.c.user_id).where(user_villages.c.village_id.in_(scope or [-1])))
    return sa.or_(visits_here, sa.and_(no_visits, worker_here))


def batch_query(user: User, village_id: int | None, worker_id: int | None, day: dt.date | None,
                status: str | None) -> sa.Select[Any]:
    stmt = sa.select(SyncBatch).where(_batch_scope(user))
    if village_id is not None:
        stmt = stmt.where(sa.select(Visit.uuid).where(Visit.batch_id == SyncBatch.id,
                                                      Visit.village_id == village_id).exists())
    if worker_id is not None:
        stmt = stmt.where(SyncBatch.user_id == worker_id)
    if day is not None:
        start, end = clock.day_range(day)
        stmt = stmt.where(SyncBatch.received_at >= start, SyncBatch.received_at < end)
    if status in ("pending", "approved", "returned"):
        stmt = stmt.where(sa.select(Visit.uuid).where(
            Visit.batch_id == SyncBatch.id, Visit.review_status == status,
            scope_filter(user, Visit.village_id)).exists())
    elif status in ("conflict", "duplicate_suspected"):
        stmt = stmt.where(sa.select(Visit.uuid).where(
            Visit.batch_id == SyncBatch.id, Visit.sync_status == status,
            scope_filter(user, Visit.village_id)).exists())
    elif status in ("already_received", "rejected"):
        # No visit row is stored for these: the batch's own counts tell.
        stmt = stmt.where(SyncBatch.counts[status].as_integer() > 0)
    return stmt.order_by(SyncBatch.received_at.desc(), SyncBatch.id)


def batch_counts(batch: SyncBatch) -> dict[str, int]:
    """Results per status: ``counts`` as ingest stored it, else counted from ``results``."""
    stored = batch.counts or {}
    if stored and any(k in stored for k in BATCH_COUNT_KEYS):
        return {k: int(stored.get(k, 0) or 0) for k in BATCH_COUNT_KEYS}
    counted = Counter(str(r.get("status")) for r in (batch.results or []) if isinstance(r, dict))
    return {k: counted.get(k, 0) for k in BATCH_COUNT_KEYS}


@dataclass
class BatchReview:
    visits: int = 0
    pending: int = 0


def review_counts(user: User, batch_ids: list[str]) -> dict[str, BatchReview]:
    """Visits in scope per batch, and how many still wait for review."""
    if not batch_ids:
        return {}
    rows = db.session.execute(
        sa.select(Visit.batch_id, sa.func.count(),
                  sa.func.sum(sa.case((Visit.review_status == "pending", 1), else_=0)))
        .where(Visit.batch_id.in_(batch_ids), scope_filter(user, Visit.village_id))
        .group_by(Visit.batch_id)
    ).all()
    return {batch_id: BatchReview(int(total), int(pending or 0)) for batch_id, total, pending in rows}


def batch_or_404(user: User, batch_id: str) -> SyncBatch:
    batch = db.session.scalar(sa.select(SyncBatch).where(SyncBatch.id == batch_id, _batch_scope(user)))
    if batch is None:
        abort(404)
    return batch


def batch_visits(user: User, batch_id: str) -> list[Visit]:
    return list(db.session.scalars(
        sa.select(Visit).where(Visit.batch_id == batch_id, scope_filter(user, Visit.village_id))
        .order_by(Visit.server_seq, Visit.received_at, Visit.uuid)))


def visit_or_404(user: User, uuid: str) -> Visit:
    visit = db.session.get(Visit, uuid)
    if visit is None or not in_scope(user, visit.village_id):
        abort(404)
    return visit


# -- conflicts -----------------------------------------------------------------


def conflict_query(user: User, village_id: int | None, status: str) -> sa.Select[*tuple[Any, ...]]:
    stmt = (sa.select(Conflict, Household, Visit)
            .join(Household, Household.id == Conflict.household_id)
            .join(Visit, Visit.uuid == Conflict.visit_uuid)
            .where(scope_filter(user, Conflict.village_id), Conflict.status == status))
    if village_id is not None:
        stmt = stmt.where(Conflict.village_id == village_id)
    return stmt.order_by(Conflict.created_at.desc(), Conflict.id.desc())


def conflict_or_404(user: User, conflict_id: int) -> Conflict:
    conflict = db.session.get(Conflict, conflict_id)
    if conflict is None or not in_scope(user, conflict.village_id):
        abort(404)
    return conflict


def sibling_conflicts(conflict: Conflict) -> list[Conflict]:
    """The conflict and the other conflicts the same visit raised on the same household."""
    return list(db.session.scalars(
        sa.select(Conflict).where(Conflict.visit_uuid == conflict.visit_uuid,
                                  Conflict.household_id == conflict.household_id)
        .order_by(Conflict.id)))


@dataclass
class Authorship:
    who: str
    when: dt.datetime | None
    visit_uuid: str | None = None


def revision_author(household_id: str, rev: int | None) -> Authorship | None:
    """Who wrote revision ``rev`` of a household, and when."""
    if rev is None:
        return None
    revision = db.session.scalar(sa.select(HouseholdRevision).where(
        HouseholdRevision.household_id == household_id, HouseholdRevision.rev == rev))
    if revision is None:
        return None
    who = None
    if revision.visit_uuid:
        visit = db.session.get(Visit, revision.visit_uuid)
        who = visit.worker if visit else None
    if who is None and revision.user_id:
        who = db.session.get(User, revision.user_id)
    name = (who.display_name or who.username) if who else {"roster": "花名册导入"}.get(revision.reason, "—")
    return Authorship(name, revision.created_at, revision.visit_uuid)


# -- duplicates ----------------------------------------------------------------


def candidate_query(user: User, village_id: int | None, status: str) -> sa.Select[*tuple[Any, ...]]:
    a, b = aliased(Household), aliased(Household)
    stmt = (sa.select(DuplicateCandidate, a, b)
            .join(a, a.id == DuplicateCandidate.household_a_id)
            .join(b, b.id == DuplicateCandidate.household_b_id)
            .where(scope_filter(user, DuplicateCandidate.village_id),
                   scope_filter(user, a.village_id), scope_filter(user, b.village_id),
                   DuplicateCandidate.status == status))
    if village_id is not None:
        stmt = stmt.where(DuplicateCandidate.village_id == village_id)
    return stmt.order_by(DuplicateCandidate.score.desc(), DuplicateCandidate.id)


@dataclass(frozen=True)
class DuplicateRouting:
    """A visit's open duplicate candidates: those the user may decide, how many they may
    not (a household of a village outside their scope), and who may decide those."""

    mine: list[DuplicateCandidate]
    elsewhere: int
    deciders: list[str]


def duplicate_routing(user: User, visit_uuid: str) -> DuplicateRouting:
    """Who decides a visit's duplicate candidates: someone who sees both households, that is
    an active supervisor whose villages hold them both, or else an admin."""
    a, b = aliased(Household), aliased(Household)
    rows = db.session.execute(
        sa.select(DuplicateCandidate, a.village_id, b.village_id)
        .join(a, a.id == DuplicateCandidate.household_a_id)
        .join(b, b.id == DuplicateCandidate.household_b_id)
        .where(DuplicateCandidate.visit_uuid == visit_uuid, DuplicateCandidate.status == "open")
        .order_by(DuplicateCandidate.score.desc(), DuplicateCandidate.id)).all()
    mine: list[DuplicateCandidate] = []
    elsewhere: list[set[int]] = []
    for candidate, village_a, village_b in rows:
        villages = {candidate.village_id, village_a, village_b}
        if all(in_scope(user, v) for v in villages):
            mine.append(candidate)
        else:
            elsewhere.append(villages)
    deciders: list[str] = []
    if elsewhere:
        supervisors = db.session.scalars(sa.select(User).where(User.role == "supervisor",
                                                               User.active.is_(True)).order_by(User.id))
        needed = set().union(*elsewhere)
        deciders = [u.display_name or u.username for u in supervisors if needed <= set(u.village_ids)]
    return DuplicateRouting(mine, len(elsewhere), deciders)


def candidate_or_404(user: User, candidate_id: int) -> tuple[DuplicateCandidate, Household, Household]:
    candidate = db.session.get(DuplicateCandidate, candidate_id)
    if candidate is None or not in_scope(user, candidate.village_id):
        abort(404)
    a = db.session.get(Household, candidate.household_a_id)
    b = db.session.get(Household, candidate.household_b_id)
    if a is None or b is None or not in_scope(user, a.village_id) or not in_scope(user, b.village_id):
        abort(404)
    return candidate, a, b


# -- households ----------------------------------------------------------------


@dataclass
class RevisionChange:
    revision: HouseholdRevision
    who: str
    changes: list[tuple[str, Any, Any]]


def revision_history(household: Household) -> list[RevisionChange]:
    """Each revision with the fields it changed (old and new values), newest first."""
    revisions = list(db.session.scalars(sa.select(HouseholdRevision).where(
        HouseholdRevision.household_id == household.id).order_by(HouseholdRevision.rev)))
    user_ids = {r.user_id for r in revisions if r.user_id}
    visit_ids = {r.visit_uuid for r in revisions if r.visit_uuid}
    users = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(user_ids or [-1])))}
    workers = dict(db.session.execute(
        sa.select(Visit.uuid, User).join(User, User.id == Visit.worker_id)
        .where(Visit.uuid.in_(visit_ids or ["-"]))).all())
    history: list[RevisionChange] = []
    previous: dict[str, Any] = {}
    for revision in revisions:
        values = revision.values or {}
        fields = revision.changed or list(values)
        changes = [(f, previous.get(f), values.get(f)) for f in fields
                   if not previous or previous.get(f) != values.get(f)]
        who_user = users.get(revision.user_id or -1) or workers.get(revision.visit_uuid or "")
        who = (who_user.display_name or who_user.username) if who_user else (
            "花名册导入" if revision.reason == "roster" else "—")
        history.append(RevisionChange(revision, who, changes))
        previous = values
    return list(reversed(history))


def household_visits(household: Household) -> list[Visit]:
    return list(db.session.scalars(sa.select(Visit).where(Visit.household_id == household.id)
                                   .order_by(Visit.visited_on.desc(), Visit.received_at.desc())))


def household_merges(household: Household) -> list[HouseholdMerge]:
    return list(db.session.scalars(sa.select(HouseholdMerge).where(sa.or_(
        HouseholdMerge.survivor_id == household.id, HouseholdMerge.merged_id == household.id))
        .order_by(HouseholdMerge.merged_at.desc())))


def open_counts(user: User) -> dict[str, int]:
    """The numbers on the review home page."""
    def count(stmt: sa.Select[Any]) -> int:
        return int(db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0)

    return {
        "pending": count(sa.select(Visit.uuid).where(
            Visit.review_status == "pending", scope_filter(user, Visit.village_id))),
        "conflicts": count(sa.select(Conflict.id).where(
            Conflict.status == "open", scope_filter(user, Conflict.village_id))),
        "duplicates": count(candidate_query(user, None, "open")),
        "decisions": count(decision_query(user, None, "open")),
    }


def decision_query(user: User, village_id: int | None, status: str) -> sa.Select[Any]:
    """Decision conflicts (central and the town decided differently) in scope, newest first."""
    stmt = sa.select(DecisionConflict).where(scope_filter(user, DecisionConflict.village_id),
                                             DecisionConflict.status == status)
    if village_id is not None:
        stmt = stmt.where(DecisionConflict.village_id == village_id)
    return stmt.order_by(DecisionConflict.created_at.desc(), DecisionConflict.id.desc())


def place_names(village_ids: list[int | None]) -> dict[int, str]:
    """Village names for a list; at central with their town (two towns may share a name)."""
    ids = sorted({v for v in village_ids if v is not None})
    rows = db.session.execute(sa.select(Village.id, Village.name, Town.name).join(Town, Town.id == Village.town_id)
                              .where(Village.id.in_(ids or [-1]))).all()
    central = at_central()
    return {vid: f"{town} {name}" if central else name for vid, name, town in rows}


def decision_or_404(user: User, decision_id: int) -> DecisionConflict:
    decision = db.session.get(DecisionConflict, decision_id)
    if decision is None or not in_scope(user, decision.village_id):
        abort(404)
    return decision


@dataclass
class Page:
    items: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page * self.per_page < self.total


def paginate(stmt: sa.Select[Any], page: int, per_page: int = 50, *, rows: bool = False) -> Page:
    """One page of ``stmt``: ORM objects, or whole rows (tuples) when ``rows``."""
    page = max(page, 1)
    total = int(db.session.scalar(sa.select(sa.func.count()).select_from(
        stmt.order_by(None).subquery())) or 0)
    result = db.session.execute(stmt.limit(per_page).offset((page - 1) * per_page))
    items = [tuple(row) for row in result.all()] if rows else list(result.scalars().all())
    return Page(items, page, per_page, total)


def audit_query(action: str | None, username: str | None, day_from: dt.date | None,
                day_to: dt.date | None, object_id: str | None) -> sa.Select[*tuple[Any, ...]]:
    stmt = sa.select(AuditLog, User).outerjoin(User, User.id == AuditLog.user_id)
    if action:
        stmt = stmt.where(AuditLog.action == action)
    if username:
        stmt = stmt.where(User.username == username)
    if day_from:
        stmt = stmt.where(AuditLog.at >= clock.day_range(day_from)[0])
    if day_to:
        stmt = stmt.where(AuditLog.at < clock.day_range(day_to)[1])
    if object_id:
        stmt = stmt.where(AuditLog.object_id == object_id)
    return stmt.order_by(AuditLog.at.desc(), AuditLog.id.desc())


def audit_actions() -> list[str]:
    return list(db.session.scalars(sa.select(AuditLog.action).distinct().order_by(AuditLog.action)))
