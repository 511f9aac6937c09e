"""Town → central replication through the real use cases, in one process (central on both
backends, towns on SQLite): up, down, replays, cuts, decisions at central, conflicts
between tiers, dedup and merges across towns, tokens."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from fieldapp.db.changes import next_change
from fieldapp.extensions import db
from fieldapp.ingest_slot import ONE_INGEST_AT_A_TIME
from fieldapp.models import (
    AppliedCommand,
    Campaign,
    DecisionConflict,
    DuplicateCandidate,
    Household,
    HouseholdMerge,
    Node,
    ReplicationCommand,
    ReplicationReject,
    User,
    Visit,
)
from fieldapp.replication import central as central_service
from fieldapp.replication.nodes import active_node_count, new_token, revoke_node
from fieldapp.review import merges, visits
from fieldapp.review.decision_conflicts import resolve_decision
from fieldapp.review.errors import SentToTown
from fieldapp.server import default_threads
from tests import factories
from tests.replication.conftest import (
    County,
    campaign_ids,
    count_rows,
    push,
    push_visits,
    visit_record,
)
from tests.replication.snapshots import assert_converged, snapshot

pytestmark = pytest.mark.both_backends


def _central_user(county: County, username: str) -> User:
    user = db.session.scalar(sa.select(User).where(User.username == username))
    assert user is not None
    return user


def test_campaigns_come_down_and_the_towns_data_goes_up(county: County) -> None:
    baoan, hdq = county.towns
    assert campaign_ids(baoan.app) == campaign_ids(county.central) == ["2023-jzpc"]
    push(baoan, "baoan_w0", [visit_record(baoan, baoan.households[0])])
    push_visits(hdq, [hdq.households[1]], phone="13900001111")
    reports = county.round()
    assert reports[0].up["visits"] == 1 and reports[1].up["visits"] == 1
    for town in county.towns:
        assert_converged(county.central, town.app, town.name)
    # households are kept per town: two villages named 沼山村, in two towns
    assert count_rows(county.central, Household) == 7
    with county.central.app_context():
        worker = db.session.scalar(sa.select(User).where(User.username == "baoan_w0@baoan"))
        assert worker is not None and not worker.active and worker.origin == "baoan"


def test_a_second_round_with_nothing_new_sends_nothing(county: County) -> None:
    baoan = county.towns[0]
    push(baoan, "baoan_w0", [visit_record(baoan, baoan.households[0])])
    county.round()
    again = baoan.replicate(county.central)
    assert again.ok and again.up == {} and again.up_pages == 0


def test_a_page_whose_answer_is_lost_is_not_applied_twice(county: County) -> None:
    baoan = county.towns[0]
    push_visits(baoan, baoan.households[:3])
    cut = baoan.replicate(county.central, fail=lambda method, path: "after" if method == "POST" else None)
    assert not cut.ok and cut.error and "无法连接" in cut.error
    # central stored the page before the answer was lost; the retry starts from central's cursor
    assert count_rows(county.central, Visit) == 3
    retry = baoan.replicate(county.central)
    assert retry.ok and retry.up == {}
    assert count_rows(county.central, Visit) == 3
    assert_converged(county.central, baoan.app, baoan.name)


def test_a_round_cut_between_pages_resumes_where_central_stands(county: County) -> None:
    baoan = county.towns[0]
    push_visits(baoan, baoan.households)
    calls = {"n": 0}

    def third_post_fails(method: str, _path: str) -> str | None:
        if method == "POST":
            calls["n"] += 1
            return "before" if calls["n"] == 3 else None
        return None

    cut = baoan.replicate(county.central, fail=third_post_fails, records=2)
    assert not cut.ok and cut.up_pages == 2
    assert baoan.replicate(county.central, records=2).ok
    assert_converged(county.central, baoan.app, baoan.name)


def test_a_replayed_page_answers_duplicate_and_a_wrong_start_is_refused(county: County) -> None:
    baoan = county.towns[0]
    push(baoan, "baoan_w0", [visit_record(baoan, baoan.households[0])])
    sent: list[bytes] = []

    def keep(method: str, path: str) -> None:
        return None

    from tests.replication.conftest import flask_transport

    inner = flask_transport(county.central, fail=keep)

    def recording(method, url, headers, body, timeout):  # type: ignore[no-untyped-def]
        if method == "POST":
            sent.append(body)
        return inner(method, url, headers, body, timeout)

    from fieldapp.replication.client import UpstreamClient
    from fieldapp.replication.town import replicate_once

    with baoan.context():
        assert replicate_once(db.session, UpstreamClient("http://central.test", baoan.token,
                                                         transport=recording)).ok
    client = county.central.test_client()
    headers = {"Authorization": f"Bearer {baoan.token}", "Content-Type": "application/json",
               "Content-Encoding": "gzip"}
    replay = client.post("/api/v1/replication/up", data=sent[0], headers=headers)
    assert replay.status_code == 200 and replay.get_json()["duplicate"] is True
    assert count_rows(county.central, Visit) == 1
    wrong = client.post("/api/v1/replication/up", headers={"Authorization": f"Bearer {baoan.token}"},
                        json={"from": "", "to": "999"})
    assert wrong.status_code == 409 and wrong.get_json()["error"]["code"] == "cursor_mismatch"


def test_a_resign_return_at_central_reaches_the_phone_as_one(county: County) -> None:
    baoan = county.towns[0]
    record = visit_record(baoan, baoan.households[0], visit_method="in_person",
                          signature=factories.SIGNATURE_PNG)
    push(baoan, "baoan_w0", [record])
    county.round()
    with county.central.app_context():
        visits.return_visits(_central_user(county, "county_admin"), [record["uuid"]], "签字不清晰", kind="resign")
        db.session.remove()
    county.round()
    assert baoan.api is not None
    pulled, _cursor = baoan.api.pull_all(baoan.api.tokens["baoan_w0"])
    [item] = [v for page in pulled for v in page["visits"] if v["uuid"] == record["uuid"]]
    assert (item["status"], item["return_kind"]) == ("returned", "resign")
    assert item["data"]["signature"] == factories.SIGNATURE_PNG
    assert_converged(county.central, baoan.app, baoan.name)


def test_a_visit_returned_at_central_is_returned_on_the_workers_phone(county: County) -> None:
    baoan = county.towns[0]
    record = visit_record(baoan, baoan.households[0])
    push(baoan, "baoan_w0", [record])
    county.round()
    with county.central.app_context():
        outcome = visits.return_visits(_central_user(county, "county_admin"), [record["uuid"]], "请补充收入")
        assert outcome.sent == {record["uuid"]: "保安镇"} and outcome.done == []
        # the copy at central waits for the town
        assert db.session.get(Visit, record["uuid"]).review_status == "pending"
        db.session.remove()
    county.round()
    assert baoan.api is not None
    token = baoan.api.tokens["baoan_w0"]
    pulled, _cursor = baoan.api.pull_all(token)
    statuses = {v["uuid"]: (v["status"], v["review_comment"]) for page in pulled for v in page["visits"]}
    assert statuses[record["uuid"]] == ("returned", "请补充收入")
    with county.central.app_context():
        assert db.session.get(Visit, record["uuid"]).review_status == "returned"
        command = db.session.scalar(sa.select(ReplicationCommand))
        assert command.status == "applied"
        db.session.remove()
    assert_converged(county.central, baoan.app, baoan.name)


def test_when_town_and_central_decide_differently_both_are_kept(county: County) -> None:
    baoan = county.towns[0]
    [record] = push_visits(baoan, [baoan.households[1]])
    county.round()
    with county.central.app_context():
        visits.return_visits(_central_user(county, "county_admin"), [record["uuid"]], "签字不清晰")
        db.session.remove()
    with baoan.context():
        supervisor = db.session.scalar(sa.select(User).where(User.username == "baoan_sup"))
        visits.approve_visits(supervisor, [record["uuid"]])
    county.round()
    with baoan.context():
        assert db.session.get(Visit, record["uuid"]).review_status == "approved"  # not overwritten
        decision = db.session.scalar(sa.select(DecisionConflict))
        assert decision.status == "open"
        assert decision.town_decision["review_status"] == "approved"
        assert decision.county_decision["review_status"] == "returned"
        assert db.session.scalar(sa.select(AppliedCommand.status)) == "conflict"
    with county.central.app_context():
        assert db.session.scalar(sa.select(ReplicationCommand.status)) == "conflict"
        copy = db.session.scalar(sa.select(DecisionConflict))
        assert copy is not None and copy.status == "open"
        # settled at central: central's return wins; it goes to the town as a decision
        with pytest.raises(SentToTown):
            resolve_decision(_central_user(county, "county_admin"), copy.id, "county")
        db.session.remove()
    county.round()
    with baoan.context():
        assert db.session.get(Visit, record["uuid"]).review_status == "returned"
        assert db.session.scalar(sa.select(DecisionConflict.resolution)) == "county"
    assert_converged(county.central, baoan.app, baoan.name)


def test_the_same_id_number_in_two_towns_becomes_one_candidate_and_merges_across_towns(county: County) -> None:
    baoan, hdq = county.towns
    with baoan.context():
        shared = db.session.get(Household, baoan.households[0])
        head_id = shared.head_id
    with hdq.context():
        moved = db.session.get(Household, hdq.households[0])
        moved.head_id = head_id  # the same person registered in the second town
        moved.head_name = "王建国"
        moved.change_seq = next_change(db.session)
        moved_phone = moved.phone
        db.session.commit()
    county.round()
    with county.central.app_context():
        found = db.session.scalars(sa.select(DuplicateCandidate).where(DuplicateCandidate.source == "county")).all()
        assert len(found) == 1
        candidate = found[0]
        assert {candidate.household_a_id, candidate.household_b_id} == {baoan.households[0], hdq.households[0]}
        with pytest.raises(SentToTown, match="还地桥镇.*保安镇|保安镇.*还地桥镇"):
            merges.merge_households(_central_user(county, "county_admin"), candidate.id, baoan.households[0],
                                    {"phone": hdq.households[0]})
        db.session.remove()
    county.round()
    with hdq.context():
        assert db.session.get(Household, hdq.households[0]).merged_into_id == baoan.households[0]
    with baoan.context():
        survivor = db.session.get(Household, baoan.households[0])
        assert survivor.rev == 2 and survivor.phone == moved_phone
    with county.central.app_context():
        assert db.session.get(Household, hdq.households[0]).merged_into_id == baoan.households[0]
        record = db.session.scalar(sa.select(HouseholdMerge))
        assert record is not None and record.before["across_towns"]
        with pytest.raises(SentToTown):
            merges.undo_merge(_central_user(county, "county_admin"), record.id)
        db.session.remove()
    county.round()
    with hdq.context():
        assert db.session.get(Household, hdq.households[0]).merged_into_id is None
    with baoan.context():
        assert db.session.get(Household, baoan.households[0]).rev == 3
    for town in county.towns:
        assert_converged(county.central, town.app, town.name)


def test_a_revoked_node_gets_401_loses_nothing_and_resumes_with_a_new_token(county: County) -> None:
    baoan = county.towns[0]
    push_visits(baoan, [baoan.households[2]])
    with county.central.app_context():
        revoke_node(db.session, "baoan")
        db.session.remove()
    refused = baoan.replicate(county.central)
    assert not refused.ok and "撤销" in (refused.error or "")
    assert count_rows(baoan.app, Visit) == 1 and count_rows(county.central, Visit) == 0
    with county.central.app_context():
        baoan.token = new_token(db.session, "baoan")
        db.session.remove()
    assert baoan.replicate(county.central).ok
    assert_converged(county.central, baoan.app, baoan.name)


def test_a_page_is_applied_in_the_process_ingest_slot(county: County, monkeypatch: pytest.MonkeyPatch) -> None:
    """One ingest at a time per process, pushes and pages alike (fieldapp/ingest_slot.py)."""
    held: list[bool] = []
    original = central_service.apply_page

    def watched(*args: Any, **kwargs: Any) -> Any:
        held.append(ONE_INGEST_AT_A_TIME.locked())
        return original(*args, **kwargs)

    monkeypatch.setattr(central_service, "apply_page", watched)
    baoan = county.towns[0]
    push_visits(baoan, [baoan.households[0]])
    county.round()
    assert held and all(held)
    assert not ONE_INGEST_AT_A_TIME.locked()


def test_central_serves_with_a_thread_more_per_town(county: County) -> None:
    with county.central.app_context():
        assert default_threads(active_node_count(db.session)) == 4 + 2
        revoke_node(db.session, "baoan")
        assert active_node_count(db.session) == 1
        db.session.remove()
    with county.towns[0].context():
        assert default_threads(active_node_count(db.session)) == 4


def test_user_and_node_tokens_open_only_their_own_endpoints(county: County) -> None:
    baoan = county.towns[0]
    assert baoan.api is not None
    user_token = baoan.api.login("baoan_w0")
    client = county.central.test_client()
    assert client.get("/api/v1/replication/up", headers={"Authorization": f"Bearer {user_token}"}).status_code == 401
    assert client.get("/api/v1/sync/pull", headers={"Authorization": f"Bearer {baoan.token}"}).status_code == 401
    assert client.get("/api/v1/replication/up").status_code == 401


def test_rows_central_cannot_store_are_kept_as_rejects(county: County) -> None:
    baoan = county.towns[0]
    with baoan.context():
        other = factories.make_town(name="外镇", code=None)
        village = factories.make_village(other, "外村")
        stray = factories.make_household(village, "石磊")
        stray.change_seq = next_change(db.session)
        stray_id = stray.id
        db.session.commit()
    report = baoan.replicate(county.central)
    assert report.ok and report.up_rejected == 1
    with county.central.app_context():
        reject = db.session.scalar(sa.select(ReplicationReject))
        assert reject is not None and reject.key == stray_id and "乡镇" in reject.reason
        assert db.session.get(Household, stray_id) is None
        node = db.session.scalar(sa.select(Node).where(Node.name == "baoan"))
        assert node is not None and node.up_pending == 0


def test_a_row_of_a_household_refused_in_an_earlier_page_is_refused_not_the_page(county: County) -> None:
    """A household central refused in an earlier round: its visit, arriving later, is kept as
    a reject with the reason, and the page's other rows are stored (the page used to fail
    with a 500 on every retry, and the town's replication stayed stuck)."""
    baoan = county.towns[0]
    with baoan.context():
        other = factories.make_town(name="外镇", code=None)
        stray = factories.make_household(factories.make_village(other, "外村"), "石磊")
        stray.change_seq = next_change(db.session)
        db.session.commit()
        stray_id = stray.id
    assert baoan.replicate(county.central).ok
    with baoan.context():
        campaign = db.session.scalar(sa.select(Campaign))
        worker = db.session.scalar(sa.select(User).where(User.username == "baoan_w0"))
        household = db.session.get(Household, stray_id)
        assert campaign is not None and worker is not None and household is not None
        seq = next_change(db.session)
        stray_visit = factories.make_visit(household, worker, campaign, server_seq=seq, change_seq=seq)
        stray_uuid = stray_visit.uuid
        db.session.commit()
    good = push(baoan, "baoan_w0", [visit_record(baoan, baoan.households[0])])
    report = baoan.replicate(county.central)
    assert report.ok and report.up["visits"] == 2 and report.up_rejected == 1
    with county.central.app_context():
        assert db.session.scalar(sa.select(ReplicationReject.reason).where(
            ReplicationReject.key == stray_uuid)) == "所属农户未能同步"
        assert db.session.scalar(sa.select(Visit).where(Visit.uuid == stray_uuid)) is None
        assert db.session.scalar(sa.select(Visit).where(Visit.uuid == good[0]["uuid"])) is not None
        db.session.remove()


def test_central_keeps_a_copy_equal_to_the_town_after_town_decisions(county: County) -> None:
    baoan = county.towns[0]
    first = visit_record(baoan, baoan.households[0], phone="13700002222")
    push(baoan, "baoan_w0", [first])
    stale = visit_record(baoan, baoan.households[0], phone="13600003333")
    stale["base_rev"] = 1  # filled against the roster: both changed the phone
    push(baoan, "baoan_w0", [stale])
    with baoan.context():
        supervisor = db.session.scalar(sa.select(User).where(User.username == "baoan_sup"))
        visits.approve_visits(supervisor, [first["uuid"]])
    county.round()
    central = snapshot(county.central, baoan.name)
    assert len(central["conflicts"]) == 1
    assert_converged(county.central, baoan.app, baoan.name)


def test_a_town_with_an_upstream_takes_its_campaigns_from_central(county: County) -> None:
    baoan = county.towns[0]
    baoan.app.config["UPSTREAM_URL"] = "http://central.test"
    runner = baoan.app.test_cli_runner()
    result = runner.invoke(args=["campaign", "create", "2024-jzpc", "--name", "2024年集中排查",
                                 "--start", "2024-10-01", "--end", "2024-12-31"])
    assert result.exit_code != 0 and "排查活动由县级创建" in result.output
    assert campaign_ids(baoan.app) == ["2023-jzpc"]
    with county.central.app_context():
        from fieldapp.campaigns import create_campaign

        create_campaign("2024-jzpc", "2024年集中排查", dt.date(2024, 10, 1), dt.date(2024, 12, 31))
        db.session.remove()
    assert baoan.replicate(county.central).campaigns == 1
    assert campaign_ids(baoan.app) == ["2023-jzpc", "2024-jzpc"]


def test_dedup_run_at_central_proposes_pairs_across_towns_only(county: County) -> None:
    baoan, hdq = county.towns
    with baoan.context():
        twin = db.session.get(Household, baoan.households[1])
        twin_values = {"head_name": twin.head_name, "head_id": twin.head_id}
        copy = factories.make_household(db.session.get(Household, baoan.households[0]).village, **{
            **twin_values, "head_name": twin.head_name})  # a duplicate inside the town
        copy.change_seq = next_change(db.session)
        copy_id = copy.id
        db.session.commit()
    with hdq.context():
        moved = db.session.get(Household, hdq.households[2])
        moved.head_id, moved.head_name = twin_values["head_id"], twin_values["head_name"]
        moved.change_seq = next_change(db.session)
        db.session.commit()
    county.round()
    runner = county.central.test_cli_runner()
    result = runner.invoke(args=["dedup", "run"])
    assert result.exit_code == 0, result.output
    with county.central.app_context():
        rows = db.session.execute(sa.select(DuplicateCandidate.source, DuplicateCandidate.household_a_id,
                                            DuplicateCandidate.household_b_id)).all()
        db.session.remove()
    towns = {baoan.households[1]: "baoan", copy_id: "baoan", hdq.households[2]: "hdq"}
    assert rows and all(source == "county" for source, _a, _b in rows)
    assert all(towns.get(a) != towns.get(b) for _source, a, b in rows)


def test_household_members_go_up_with_their_household(county: County) -> None:
    from fieldapp.households import load_members, write_members
    from fieldapp.models import utcnow
    from tests.members_data import CHILD_ID, SPOUSE_ID, member

    baoan = county.towns[0]
    household_id = baoan.households[0]
    with baoan.context():
        household = db.session.get(Household, household_id)
        write_members(db.session, {household_id: [member(household.head_name, household.head_id, "self"),
                                                  member("李秀英", SPOUSE_ID, "spouse")]}, utcnow(), source="roster",
                      renumber=True)
        db.session.commit()
    county.round()
    with county.central.app_context():
        pulled = load_members(db.session, [household_id])[household_id]
        assert [m["id_number"] for m in pulled][1:] == [SPOUSE_ID]
        db.session.remove()
    # a visit later records a new member: the household goes up again with its new members
    with baoan.context():
        household = db.session.get(Household, household_id)
        write_members(db.session, {household_id: [member(household.head_name, household.head_id, "self"),
                                                  member("王小明", CHILD_ID, "child")]}, utcnow(), source="visit")
        db.session.commit()
    push(baoan, "baoan_w0", [visit_record(baoan, household_id)])
    county.round()
    with county.central.app_context():
        pulled = load_members(db.session, [household_id])[household_id]
        assert [m["name"] for m in pulled][1:] == ["王小明"]
        db.session.remove()
