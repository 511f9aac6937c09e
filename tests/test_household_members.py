"""A household's stored members (fieldapp/households.py ``write_members``): only the
households whose members change are written; the others keep their rows (ids and
``updated_at``) and take only the new source and visit (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from fieldapp.extensions import db
from fieldapp.households import member_rows, write_members
from fieldapp.models import Household, HouseholdMember
from sync.expr import id_birth
from tests.factories import SmallTown
from tests.members_data import CHILD_ID, SPOUSE_ID, member

pytestmark = pytest.mark.both_backends

THEN = dt.datetime(2023, 10, 1, 8, 0, tzinfo=dt.UTC)
LATER = dt.datetime(2023, 11, 1, 8, 0, tzinfo=dt.UTC)


def _members(household: Household) -> list[dict[str, Any]]:
    return [member(household.head_name, household.head_id, "self"),
            member("李秀英", SPOUSE_ID, "spouse", work="out_province", work_months=8)]


def _rows(household_id: str) -> list[HouseholdMember]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(HouseholdMember).where(HouseholdMember.household_id == household_id)
                                   .order_by(HouseholdMember.position)))


def _state(household_id: str) -> list[tuple[Any, ...]]:
    return [(r.id, r.updated_at, r.source, r.visit_uuid) for r in _rows(household_id)]


def _numbers() -> dict[str, int]:
    db.session.expire_all()
    return {row.id: row.change_seq for row in db.session.execute(sa.select(Household.id, Household.change_seq))}


def test_the_same_members_again_write_nothing(town: SmallTown) -> None:
    household = town.households_a[0]
    assert write_members(db.session, {household.id: _members(household)}, THEN, source="roster") == [household.id]
    db.session.commit()
    before = _state(household.id)
    # empty answers and the computed fields (given or not) say nothing new
    again = [{**record, "disability_type": None, "change": None} for record in _members(household)]
    again[1]["birth_date"] = id_birth(SPOUSE_ID)  # as a visit carries it
    assert write_members(db.session, {household.id: again}, LATER, source="roster") == []
    db.session.commit()
    assert _state(household.id) == before


def test_a_visit_confirming_the_list_takes_it_over_without_rewriting_it(town: SmallTown) -> None:
    household = town.households_a[0]
    write_members(db.session, {household.id: _members(household)}, THEN, source="roster")
    db.session.commit()
    ids = [r.id for r in _rows(household.id)]
    written = write_members(db.session, {household.id: _members(household)}, LATER, source="visit",
                            visit_uuids={household.id: "visit-1"})
    db.session.commit()
    assert written == [household.id]
    assert _state(household.id) == [(row_id, THEN, "visit", "visit-1") for row_id in ids]


@pytest.mark.parametrize(("change", "why"), [
    ({"work": "in_city"}, "an answer"),
    ({"dibao": 0}, "a yes/no answer given as a number (JSON 0 is not false)"),
    ({"disability_type": "physical", "health": "disabled"}, "an answer added"),
    ({"name": "李秀"}, "a name"),
])
def test_a_changed_member_replaces_the_households_rows(town: SmallTown, change: dict[str, Any], why: str) -> None:
    household, other = town.households_a[0], town.households_a[1]
    write_members(db.session, {household.id: _members(household), other.id: _members(other)}, THEN, source="roster")
    db.session.commit()
    kept, before = _state(other.id), _state(household.id)
    changed = _members(household)
    changed[1] = {**changed[1], **change}
    written = write_members(db.session, {household.id: changed, other.id: _members(other)}, LATER, source="roster")
    db.session.commit()
    assert written == [household.id], why
    rows = _rows(household.id)
    assert [r.updated_at for r in rows] == [LATER, LATER] != [state[1] for state in before]
    assert rows[1].answers == member_rows(changed)[1]["answers"] and rows[1].name == changed[1]["name"]
    assert _state(other.id) == kept


def test_members_added_or_gone_replace_the_rows(town: SmallTown) -> None:
    household = town.households_a[0]
    write_members(db.session, {household.id: _members(household)}, THEN, source="roster")
    db.session.commit()
    grown = [*_members(household), member("王小明", CHILD_ID, "child", skill="none", school="primary")]
    assert write_members(db.session, {household.id: grown}, LATER, source="visit",
                         visit_uuids={household.id: "visit-1"}) == [household.id]
    db.session.commit()
    assert [r.id_number for r in _rows(household.id)] == [household.head_id, SPOUSE_ID, CHILD_ID]
    assert write_members(db.session, {household.id: grown[:1]}, LATER, source="visit",
                         visit_uuids={household.id: "visit-2"}) == [household.id]
    db.session.commit()
    assert [(r.id_number, r.visit_uuid) for r in _rows(household.id)] == [(household.head_id, "visit-2")]


def test_a_roster_reimport_leaves_a_visits_list_and_renumbers_only_what_it_writes(town: SmallTown) -> None:
    visited, listed, same = town.households_a[0], town.households_a[1], town.households_a[2]
    write_members(db.session, {visited.id: _members(visited)}, THEN, source="visit", visit_uuids={visited.id: "v"})
    write_members(db.session, {listed.id: _members(listed), same.id: _members(same)}, THEN, source="roster")
    db.session.commit()
    seqs = _numbers()
    visited_rows = _state(visited.id)
    grown = [*_members(listed), member("王小明", CHILD_ID, "child", skill="none", school="primary")]
    written = write_members(db.session, {visited.id: grown, listed.id: grown, same.id: _members(same)}, LATER,
                            source="roster", renumber=True, keep_visit_lists=True)
    db.session.commit()
    assert written == [listed.id]
    assert _state(visited.id) == visited_rows
    now = _numbers()
    assert now[listed.id] > seqs[listed.id]
    assert now[visited.id] == seqs[visited.id] and now[same.id] == seqs[same.id]
