"""Form 2024.1 through the API: a visit with members is validated, stored with its
members (the household's members replaced), pulled back masked or not by role,
and 2023.1 visits go on side by side (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from fieldapp.extensions import db
from fieldapp.models import HouseholdMember, Visit
from tests.api.conftest import members_record, record, reload, use_form_2024
from tests.members_data import CHILD_ID, MEMBERS, SPOUSE_ID, member

pytestmark = pytest.mark.both_backends


def test_a_2024_visit_stores_its_members_and_replaces_the_households(api, town) -> None:
    use_form_2024()
    token = api.login("worker_a")
    household = town.households_a[0]
    rec = members_record(household)
    [result] = api.push_ok(token, [rec])
    assert result["status"] == "accepted", result
    visit = reload(Visit, rec["uuid"])
    assert visit.form_version == "2024.1"
    assert [m["name"] for m in visit.data["members"]] == [household.head_name, "李秀英", "王小明"]
    assert visit.data["members"][2]["birth_date"] == "2014-09-01"
    assert visit.data["work_in_city"] == 1 and visit.data["work_out_province"] == 1
    rows = db.session.scalars(sa.select(HouseholdMember).where(HouseholdMember.household_id == household.id)
                              .order_by(HouseholdMember.position)).all()
    assert [(r.id_number, r.relation, r.source) for r in rows] == [
        (household.head_id, "self", "visit"), (SPOUSE_ID, "spouse", "visit"), (CHILD_ID, "child", "visit")]
    assert rows[1].answers["work"] == "out_province" and rows[0].visit_uuid == rec["uuid"]

    # A later visit: the child moved out (kept in the visit with its reason, gone from the household).
    moved = [dict(m) for m in MEMBERS]
    moved[2] = {**moved[2], "change": "removed", "change_reason": "moved_out"}
    later = members_record(reload(type(household), household.id), moved)
    [result] = api.push_ok(token, [later])
    assert result["status"] == "accepted", result
    assert reload(Visit, later["uuid"]).data["members"][2]["change_reason"] == "moved_out"
    ids = db.session.scalars(sa.select(HouseholdMember.id_number).where(
        HouseholdMember.household_id == household.id)).all()
    assert sorted(ids) == sorted([household.head_id, SPOUSE_ID])


def test_a_mismatch_is_refused_with_both_named(api, town) -> None:
    use_form_2024()
    token = api.login("worker_a")
    rec = members_record(town.households_a[0])
    rec["data"]["size"] = 5
    [result] = api.push_ok(token, [rec])
    assert result["status"] == "rejected"
    assert result["errors"]["size"] == ["家庭人口数与家庭成员人数（不含迁出、死亡的成员）不一致"]
    bad = members_record(town.households_a[0])
    bad["data"]["members"][1]["id_number"] = SPOUSE_ID[:-1] + ("0" if SPOUSE_ID[-1] != "0" else "1")
    [result] = api.push_ok(token, [bad])
    assert result["errors"] == {"members.1.id_number": ["身份证号校验位错误"]}


def test_2023_visits_go_on_next_to_2024_ones(api, town) -> None:
    use_form_2024()
    token = api.login("worker_a")
    old = record(town.households_a[1])  # saved offline under 2023.1 before the switch
    new = members_record(town.households_a[0])
    results = api.push_ok(token, [old, new])
    assert [r["status"] for r in results] == ["accepted", "accepted"]
    assert reload(Visit, old["uuid"]).form_version == "2023.1"
    assert "members" not in reload(Visit, old["uuid"]).data


def test_the_pull_carries_members_masked_for_a_supervisor(api, town) -> None:
    use_form_2024()
    worker = api.login("worker_a")
    household = town.households_a[0]
    api.push_ok(worker, [members_record(household, [*MEMBERS[:2], member("王小明", CHILD_ID, "child",
                                                                          skill="none", school="primary")])])
    pages, _ = api.pull_all(worker)
    pulled = next(h for p in pages for h in p["households"] if h["id"] == household.id)
    assert [m["id_number"] for m in pulled["attributes"]["members"]] == [household.head_id, SPOUSE_ID, CHILD_ID]
    other = next(h for p in pages for h in p["households"] if h["id"] == town.households_a[1].id)
    assert other["attributes"]["members"] == []
    supervisor = api.login(town.supervisor_a.username, device_id="device-s")
    pages, _ = api.pull_all(supervisor)
    pulled = next(h for p in pages for h in p["households"] if h["id"] == household.id)
    assert all("*" in m["id_number"] for m in pulled["attributes"]["members"])


def test_review_page_shows_each_visit_in_its_own_version(api, town, client, auth) -> None:
    use_form_2024()
    token = api.login("worker_a")
    old = record(town.households_a[1])
    new = members_record(town.households_a[0])
    api.push_ok(token, [old, new])
    auth.login("supervisor_a")
    html = client.get(f"/review/visits/{new['uuid']}").get_data(as_text=True)
    assert "家庭成员" in html and 'class="members"' in html
    assert "李秀英" in html and "配偶" in html and "省外务工" in html
    assert SPOUSE_ID not in html and (SPOUSE_ID[:6] + "********" + SPOUSE_ID[-4:]) in html
    html = client.get(f"/review/visits/{old['uuid']}").get_data(as_text=True)
    assert 'class="members"' not in html and "外省务工人数" in html


def test_reports_count_people_from_the_members(api, town) -> None:
    from fieldapp.reports.queries import progress_by_village
    use_form_2024()
    token = api.login("worker_a")
    moved = [dict(m) for m in MEMBERS]
    moved[2] = {**moved[2], "change": "removed", "change_reason": "moved_out"}
    api.push_ok(token, [members_record(town.households_a[0], moved), record(town.households_a[1])])
    db.session.rollback()
    [row] = [r for r in progress_by_village(db.session, "2023-jzpc").rows if r.village == town.village_a.name]
    # 2 members who count (the child moved out) + 4 people of the 2023.1 visit
    assert row.visited == 2 and row.visited_people == 2 + 4


def test_a_new_householder_who_is_a_member_elsewhere_is_proposed_with_that_evidence(api, town) -> None:
    from fieldapp.households import write_members
    from fieldapp.models import DuplicateCandidate, utcnow
    head = town.households_a[0]
    write_members(db.session, {head.id: [member(head.head_name, head.head_id, "self"),
                                         member("王小明", CHILD_ID, "child")]}, utcnow(), source="roster")
    db.session.commit()
    token = api.login("worker_a")
    # the son set up his own household: a new household, a name and group unlike his father's
    split = record(None, head_name="王小明", head_id=CHILD_ID, phone="13912340000", group="5组", size=2,
                   labor_count=1)
    [result] = api.push_ok(token, [split])
    assert result["status"] == "duplicate_suspected", result
    assert result["duplicate_of"] == [head.id]
    db.session.rollback()
    [candidate] = db.session.scalars(sa.select(DuplicateCandidate)).all()
    assert {candidate.household_a_id, candidate.household_b_id} == {head.id, result["household_id"]}
    assert candidate.evidence == ["新户主是已有户的家庭成员（王小明，与户主关系：子女）"]
    assert CHILD_ID not in str(candidate.evidence)


def _rows(household_id: str) -> list[HouseholdMember]:
    db.session.rollback()
    return list(db.session.scalars(sa.select(HouseholdMember).where(HouseholdMember.household_id == household_id)
                                   .order_by(HouseholdMember.position)))


def test_visits_that_leave_the_members_as_they_were_keep_their_rows(api, town) -> None:
    """The roster's list confirmed by a visit keeps its rows (ids, updated_at), now the
    visit's; a later visit with the same members only names itself; one that changes a
    member replaces the household's rows."""
    import datetime as dt

    from fieldapp.households import write_members
    from fieldapp.models import Household, utcnow
    use_form_2024()
    household = town.households_a[0]
    listed = [dict(m) for m in MEMBERS]
    listed[0] = {**listed[0], "name": household.head_name, "id_number": household.head_id}
    imported = utcnow() - dt.timedelta(days=3)
    write_members(db.session, {household.id: listed}, imported, source="roster")  # as a members sheet gives them
    db.session.commit()
    kept = [(r.id, r.updated_at) for r in _rows(household.id)]
    token = api.login("worker_a")

    first = members_record(reload(Household, household.id))
    assert api.push_ok(token, [first])[0]["status"] == "accepted"
    rows = _rows(household.id)
    assert [(r.id, r.updated_at) for r in rows] == kept
    assert {(r.source, r.visit_uuid) for r in rows} == {("visit", first["uuid"])}
    assert rows[2].answers["birth_date"] == "2014-09-01"

    second = members_record(reload(Household, household.id))
    assert api.push_ok(token, [second])[0]["status"] == "accepted"
    rows = _rows(household.id)
    assert [(r.id, r.updated_at) for r in rows] == kept
    assert {(r.source, r.visit_uuid) for r in rows} == {("visit", second["uuid"])}

    edited = [dict(m) for m in MEMBERS]
    edited[1] = {**edited[1], "work": "in_city", "change": "edited"}
    third = members_record(reload(Household, household.id), edited)
    assert api.push_ok(token, [third])[0]["status"] == "accepted"
    rows = _rows(household.id)
    assert all(r.updated_at > imported for r in rows)  # written again
    assert [r.answers["work"] for r in rows] == ["in_city", "in_city", "none"]
    assert {(r.source, r.visit_uuid) for r in rows} == {("visit", third["uuid"])}
    assert "change" not in rows[1].answers
