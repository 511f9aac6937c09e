"""The one place households are written: what :class:`sync.households.HouseholdWriter`
worked out, applied with bulk statements inside the caller's write transaction.

Push ingest (through ``sync_store.SqlStore``), conflict resolution, merges and their
undo (``review/``) and roster import all call :func:`write_households`; none of them
sets household columns itself. The change numbers must be given first
(:meth:`sync.store.HouseholdChanges.number`). A household's members (form 2024.1) are
written here too (:func:`write_members`), by push ingest, roster import and central's
replication, rewriting only the households whose members changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fieldapp.db import AnySession
from fieldapp.models import (
    HOUSEHOLD_FIELDS,
    Household,
    HouseholdMember,
    HouseholdRevision,
    table_of,
)
from sync.form import load_form
from sync.store import UNCHANGED, HouseholdChanges, HouseholdState, HouseholdUpdate, StaleHousehold

_HOUSEHOLDS = table_of(Household)
_REVISIONS = table_of(HouseholdRevision)
_MEMBERS = table_of(HouseholdMember)
# A member record's keys that are not stored as its answers: the columns, and the
# change and its reason (they stay with the visit).
_NOT_ANSWERS = frozenset({"name", "id_number", "relation", "change", "change_reason"})
_FIELD_COLUMNS = [getattr(Household, name) for name in HOUSEHOLD_FIELDS]
# The form whose members repeat defines a stored member (its fields label them too).
MEMBERS_FORM = "2024.1"
# Rows per executemany: keeps each statement's parameter list (and memory) bounded.
CHUNK = 2000


def field_columns(values: dict[str, Any]) -> dict[str, Any]:
    """Household columns from form values (only the fields that are columns)."""
    return {name: values.get(name) for name in HOUSEHOLD_FIELDS if name in values}


def load_states(session: Session, ids: Iterable[str], *, lock: bool = False) -> dict[str, HouseholdState]:
    """Households by id as the writer sees them; ``lock`` takes their rows (in id order)."""
    found: dict[str, HouseholdState] = {}
    wanted = sorted(set(ids))
    for start in range(0, len(wanted), 900):
        query = (sa.select(Household.id, Household.village_id, Household.town_id, Household.rev,
                           Household.merged_into_id, Household.change_seq, *_FIELD_COLUMNS)
                 .where(Household.id.in_(wanted[start:start + 900])).order_by(Household.id))
        if lock and session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        for row in session.execute(query):
            values = dict(zip(HOUSEHOLD_FIELDS, row[6:], strict=True))
            found[row.id] = HouseholdState(row.id, row.village_id, row.town_id, row.rev, values,
                                           row.merged_into_id, row.change_seq)
    return found


def write_households(session: Session, changes: HouseholdChanges, now: dt.datetime) -> None:
    """Apply ``changes`` (numbered): updates first, so that a household that moved on since
    the plan was worked out (:class:`StaleHousehold`) stops the transaction before anything
    else is written; then the new households and the revision rows (each with its
    household's change number, for a town's replication feed)."""
    _update(session, changes.updates, now)
    created = [
        {"id": h.id, "code": h.code, "town_id": h.town_id, "village_id": h.village_id,
         **field_columns(h.values), "head_pinyin": h.head_pinyin, "head_initials": h.head_initials,
         "source": h.source, "rev": h.rev, "merged_into_id": None, "change_seq": h.change_seq,
         "created_at": now, "updated_at": now}
        for h in changes.created
    ]
    for start in range(0, len(created), CHUNK):
        session.execute(_HOUSEHOLDS.insert(), created[start:start + CHUNK])
    numbers = {h.id: h.change_seq for h in changes.created}
    numbers.update((u.id, u.change_seq) for u in changes.updates)
    revisions = [
        {"household_id": r.household_id, "rev": r.rev, "values": r.values, "changed": r.changed,
         "reason": r.reason, "visit_uuid": r.visit_uuid, "user_id": r.user_id, "created_at": now,
         "change_seq": numbers.get(r.household_id, 0)}
        for r in changes.revisions
    ]
    for start in range(0, len(revisions), CHUNK):
        session.execute(_REVISIONS.insert(), revisions[start:start + CHUNK])


def _update(session: Session, updates: list[HouseholdUpdate], now: dt.datetime) -> None:
    """UPDATE by primary key, one executemany per shape of SET clause (only the change
    number; the fields and ``rev``; with the name's pinyin; a village; a merge).
    An update with an expected version matches only a household still at it."""
    groups: dict[tuple[tuple[str, ...], bool], list[dict[str, Any]]] = {}
    for u in updates:
        params: dict[str, Any] = {"b_id": u.id, "change_seq": u.change_seq, "updated_at": now}
        if u.revised:
            params.update(rev=u.rev, **field_columns(u.values))
            if u.head_pinyin is not None:
                params.update(head_pinyin=u.head_pinyin, head_initials=u.head_initials)
        if u.village_id is not None:
            params["village_id"] = u.village_id
        if u.merged_into != UNCHANGED:
            params["merged_into_id"] = u.merged_into
        if u.expected is not None:
            params.update(b_rev=u.expected.rev, b_seq=u.expected.change_seq)
        shape = tuple(sorted(key for key in params if not key.startswith("b_")))
        groups.setdefault((shape, u.expected is not None), []).append(params)
    for (_shape, checked), rows in groups.items():
        # executemany: the SET columns are the parameter keys other than the b_ ones
        statement = _HOUSEHOLDS.update().where(_HOUSEHOLDS.c.id == sa.bindparam("b_id"))
        if checked:
            statement = statement.where(_HOUSEHOLDS.c.rev == sa.bindparam("b_rev"),
                                        _HOUSEHOLDS.c.change_seq == sa.bindparam("b_seq"),
                                        _HOUSEHOLDS.c.merged_into_id.is_(None))
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start:start + CHUNK]
            result = session.execute(statement, chunk)
            if checked and result.rowcount != len(chunk):  # type: ignore[attr-defined]
                raise StaleHousehold(f"{len(chunk) - result.rowcount} of {len(chunk)} households changed")  # type: ignore[attr-defined]


def write_members(session: Session, members: Mapping[str, Sequence[Mapping[str, Any]]], now: dt.datetime, *,
                  source: str, visit_uuids: Mapping[str, str] | None = None, renumber: bool = False,
                  keep_visit_lists: bool = False) -> list[str]:
    """Make each named household's members ``members[household_id]``: the records of
    the form's members repeat (or of a roster's members sheet) that count, i.e.
    without those removed (迁出, 死亡), in their order. Only what changed is written
    (:func:`plan_members`, then :func:`apply_members`).

    :param source: ``roster`` or ``visit``
    :param visit_uuids: the visit each household's list comes from
    :param renumber: give the households written a new change number, so that phones
        and the replication feed carry the new members (a visit's household takes one anyway)
    :param keep_visit_lists: leave alone a household whose members a visit recorded
        (a roster re-import)
    :returns: the households whose rows were written, in id order
    """
    plan = plan_members(session, members, source=source, visit_uuids=visit_uuids, keep_visit_lists=keep_visit_lists)
    return apply_members(session, plan, now, renumber=renumber)


@dataclass
class MembersWrite:
    """What :func:`apply_members` writes: the households whose members are replaced,
    with their new rows (:func:`member_rows`), and those whose stored rows already
    hold their members and only take the new ``source`` and ``visit_uuid``."""

    source: str
    visit_uuids: Mapping[str, str]
    replaced: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    relabelled: list[str] = field(default_factory=list)

    @property
    def written(self) -> list[str]:
        return sorted([*self.replaced, *self.relabelled])


def plan_members(session: Session, members: Mapping[str, Sequence[Mapping[str, Any]]], *, source: str,
                 visit_uuids: Mapping[str, str] | None = None, keep_visit_lists: bool = False) -> MembersWrite:
    """Compare each household's new members with its stored rows (see :func:`write_members`).

    A household whose rows already hold the records as :func:`member_rows` stores them
    (the same people in the same order, the same answers of the same JSON types)
    keeps them, their ids and ``updated_at``; if another source or visit gave them
    (the roster's list, confirmed by a visit; an earlier visit), only ``source`` and
    ``visit_uuid`` change. Any other household has its rows replaced.

    Push ingest works this out before its write transaction, on the households its
    plan read: members change only with their household's change number
    (docs/replication.md), so a plan whose households are still at the versions it
    read (:func:`write_households` checks) has read their members as they are.
    """
    visit_uuids = visit_uuids or {}
    plan = MembersWrite(source, visit_uuids)
    if not members:
        return plan
    stored = _stored_members(session, members)
    completed = load_form(MEMBERS_FORM).complete_records
    for household_id, records in members.items():
        rows = stored.get(household_id, [])
        if keep_visit_lists and any(row.source == "visit" for row in rows):
            continue
        given = completed("members", records)
        if not _holds(rows, given):
            plan.replaced[household_id] = member_rows(given)
        elif any(row.source != source or row.visit_uuid != visit_uuids.get(household_id) for row in rows):
            plan.relabelled.append(household_id)
    return plan


def apply_members(session: Session, plan: MembersWrite, now: dt.datetime, *, renumber: bool = False) -> list[str]:
    """Write ``plan`` (:func:`plan_members`); returns the households written, in id order.

    :param renumber: give them a new change number (see :func:`write_members`)
    """
    written = plan.written
    if renumber and written:
        from fieldapp.db.changes import next_change

        first = next_change(session, len(written))
        session.execute(_HOUSEHOLDS.update().where(_HOUSEHOLDS.c.id == sa.bindparam("h_id"))
                        .values(change_seq=sa.bindparam("h_seq"), updated_at=now),
                        [{"h_id": household_id, "h_seq": first + offset}
                         for offset, household_id in enumerate(written)])
    ids = list(plan.replaced)
    for start in range(0, len(ids), 900):
        session.execute(_MEMBERS.delete().where(_MEMBERS.c.household_id.in_(ids[start:start + 900])))
    inserted = [{**row, "household_id": household_id, "source": plan.source,
                 "visit_uuid": plan.visit_uuids.get(household_id), "updated_at": now}
                for household_id, rows in plan.replaced.items() for row in rows]
    for start in range(0, len(inserted), CHUNK):
        session.execute(_MEMBERS.insert(), inserted[start:start + CHUNK])
    if plan.relabelled:
        session.execute(_MEMBERS.update().where(_MEMBERS.c.household_id == sa.bindparam("h_id"))
                        .values(source=sa.bindparam("h_source"), visit_uuid=sa.bindparam("h_visit")),
                        [{"h_id": household_id, "h_source": plan.source, "h_visit": plan.visit_uuids.get(household_id)}
                         for household_id in plan.relabelled])
    return written


def member_rows(records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Member records as they are stored, in order: the ``name``, ``id_number`` and
    ``relation`` columns, and the other answers given (an empty one is not kept, nor
    the change and its reason, which stay with the visit), with the fields the members
    form computes (出生日期, 性别) worked out where a record lacks them (a roster's
    members sheet), as a visit's records carry them. Two lists that say the same
    thing are stored alike, whoever gave them."""
    completed = load_form(MEMBERS_FORM).complete_records("members", records)
    return [
        {"position": position, "name": _member_name(record), "id_number": record.get("id_number"),
         "relation": record.get("relation"),
         "answers": {k: v for k, v in record.items() if v is not None and k not in _NOT_ANSWERS}}
        for position, record in enumerate(completed)
    ]


def _member_name(record: Mapping[str, Any]) -> str:
    return str(record.get("name") or "")[:20]


def _stored_members(session: Session, household_ids: Iterable[str]) -> dict[str, list[Any]]:
    """The stored member rows of each household, in position order."""
    found: dict[str, list[Any]] = {}
    wanted = sorted(set(household_ids))
    for start in range(0, len(wanted), 900):
        query = (sa.select(_MEMBERS.c.household_id, _MEMBERS.c.position, _MEMBERS.c.name, _MEMBERS.c.id_number,
                           _MEMBERS.c.relation, _MEMBERS.c.answers, _MEMBERS.c.source, _MEMBERS.c.visit_uuid)
                 .where(_MEMBERS.c.household_id.in_(wanted[start:start + 900]))
                 .order_by(_MEMBERS.c.household_id, _MEMBERS.c.position))
        for row in session.execute(query):
            found.setdefault(row.household_id, []).append(row)
    return found


def _holds(stored: Sequence[Any], records: Sequence[Mapping[str, Any]]) -> bool:
    """Whether the stored rows are :func:`member_rows` of ``records`` already: values
    equal and of the same JSON type (``true`` is not ``1``). Compares in place, without
    building the rows: most visits leave their household's members as they were."""
    if len(stored) != len(records):
        return False
    for position, (row, record) in enumerate(zip(stored, records, strict=True)):
        if (row.position != position or row.name != _member_name(record)
                or row.id_number != record.get("id_number") or row.relation != record.get("relation")):
            return False
        answers = row.answers or {}
        given = 0
        for key, value in record.items():
            if value is None or key in _NOT_ANSWERS:
                continue
            if key not in answers:
                return False
            old = answers[key]
            if old != value or type(old) is not type(value):
                return False
            given += 1
        if given != len(answers):
            return False
    return True


def load_members(session: AnySession, household_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """Each household's members as form records (name, id_number, relation and the other answers)."""
    found: dict[str, list[dict[str, Any]]] = {}
    wanted = sorted(set(household_ids))
    for start in range(0, len(wanted), 900):
        query = (sa.select(_MEMBERS.c.household_id, _MEMBERS.c.name, _MEMBERS.c.id_number,
                           _MEMBERS.c.relation, _MEMBERS.c.answers)
                 .where(_MEMBERS.c.household_id.in_(wanted[start:start + 900]))
                 .order_by(_MEMBERS.c.household_id, _MEMBERS.c.position))
        for row in session.execute(query):
            record = {"name": row.name, "id_number": row.id_number, "relation": row.relation,
                      **(row.answers or {})}
            found.setdefault(row.household_id, []).append(record)
    return found
