"""The one place households are written: what :class:`sync.households.HouseholdWriter`
worked out, applied with bulk statements inside the caller's write transaction.

Push ingest (through ``sync_store.SqlStore``), conflict resolution, merges and their
undo (``review/``) and roster import all call :func:`write_households`; none of them
sets household columns itself. The change numbers must be given first
(:meth:`sync.store.HouseholdChanges.number`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
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
from sync.store import UNCHANGED, HouseholdChanges, HouseholdState, HouseholdUpdate, StaleHousehold

_HOUSEHOLDS = table_of(Household)
_REVISIONS = table_of(HouseholdRevision)
_MEMBERS = table_of(HouseholdMember)
# A member record's keys that are columns; the change and its reason stay with the visit.
_MEMBER_COLUMNS = ("name", "id_number", "relation")
_MEMBER_CHANGE = ("change", "change_reason")
_FIELD_COLUMNS = [getattr(Household, name) for name in HOUSEHOLD_FIELDS]
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
                  source: str, visit_uuids: Mapping[str, str] | None = None, renumber: bool = False) -> None:
    """Replace each named household's members with ``members[household_id]``: the
    records of the form's members repeat (or of a roster's members sheet) that
    count, i.e. without those removed (迁出, 死亡), in their order.

    :param source: ``roster`` or ``visit``
    :param visit_uuids: the visit each household's list comes from
    :param renumber: give the households a new change number, so that phones and the
        replication feed carry the new members (a visit's household takes one anyway)
    """
    if not members:
        return
    if renumber:
        from fieldapp.db.changes import next_change

        first = next_change(session, len(members))
        session.execute(_HOUSEHOLDS.update().where(_HOUSEHOLDS.c.id == sa.bindparam("h_id"))
                        .values(change_seq=sa.bindparam("h_seq"), updated_at=now),
                        [{"h_id": household_id, "h_seq": first + offset}
                         for offset, household_id in enumerate(sorted(members))])
    ids = list(members)
    for start in range(0, len(ids), 900):
        session.execute(_MEMBERS.delete().where(_MEMBERS.c.household_id.in_(ids[start:start + 900])))
    rows = [
        {"household_id": household_id, "position": position, "name": str(record.get("name") or "")[:20],
         "id_number": record.get("id_number"), "relation": record.get("relation"),
         "answers": {k: v for k, v in record.items() if k not in _MEMBER_COLUMNS and k not in _MEMBER_CHANGE},
         "source": source, "visit_uuid": (visit_uuids or {}).get(household_id), "updated_at": now}
        for household_id, records in members.items()
        for position, record in enumerate(records)
    ]
    for start in range(0, len(rows), CHUNK):
        session.execute(_MEMBERS.insert(), rows[start:start + CHUNK])


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
