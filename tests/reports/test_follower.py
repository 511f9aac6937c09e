"""The rollups followed in the background (``fieldapp/reports/follower.py``): a page leaves
a large backlog to the follower and says so; the follower's bounded steps end where one
full refresh does (both backends)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from fieldapp.extensions import db
from fieldapp.models import ReportCursor
from fieldapp.reports import follower, queries, rollup
from tests import factories
from tests.api.conftest import Api, record
from tests.conftest import AuthActions
from tests.reports.conftest import Scenario

pytestmark = pytest.mark.both_backends
CAMPAIGN = "2023-jzpc"
LOW_INCOME = {"income_wage": 1000, "income_business": 0, "business_cost": 0, "income_property": 0,
              "income_transfer": 500}


@pytest.fixture
def follower_running(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """As under ``fieldapp serve`` on PostgreSQL, with a page budget of one change number."""
    monkeypatch.setattr(rollup, "PAGE_CHANGES", 1)
    rollup.set_follower_running(True)
    yield
    rollup.set_follower_running(False)


def visited(client: FlaskClient) -> str:
    html = client.get("/reports/").get_data(as_text=True)
    return html[html.index('id="kpi-visited">') + len('id="kpi-visited">'):].split("<", 1)[0]


def test_a_page_leaves_a_large_backlog_to_the_follower_and_says_so(
        backend: str, scenario: Scenario, auth: AuthActions, client: FlaskClient, follower_running: None) -> None:
    auth.login("admin")
    before = visited(client)
    assert "counting-behind" not in client.get("/reports/").get_data(as_text=True)
    api = Api(client)
    api.push_ok(api.login("worker_b"), [record(h) for h in scenario.town.households_b])
    html = client.get("/reports/").get_data(as_text=True)
    assert 'id="counting-behind"' in html and "统计正在更新" in html
    assert visited(client) == before  # as they stood
    assert follower.follow_once() == 0  # the follower's step counts them
    html = client.get("/reports/").get_data(as_text=True)
    assert "counting-behind" not in html
    assert int(visited(client)) == queries.progress_by_village(db.session, CAMPAIGN).totals.visited > int(before)


def test_an_export_counts_everything_first(backend: str, scenario: Scenario, client: FlaskClient,
                                           follower_running: None) -> None:
    before = queries.progress_by_village(db.session, CAMPAIGN).totals.visited
    api = Api(client)
    api.push_ok(api.login("worker_b"), [record(h) for h in scenario.town.households_b])
    assert queries.progress_by_village(db.session, CAMPAIGN, page=True).behind > 0
    exported = queries.progress_by_village(db.session, CAMPAIGN)
    assert exported.behind == 0 and exported.totals.visited > before
    rollup.rebuild(db.session, CAMPAIGN)
    assert queries.progress_by_village(db.session, CAMPAIGN).totals.visited == exported.totals.visited

def test_bounded_steps_end_where_one_refresh_does(backend: str, town: factories.SmallTown,
                                                  client: FlaskClient) -> None:
    """Visits of the town fixture only (every one numbered: "latest" is the highest number)."""
    rollup.refresh(db.session, CAMPAIGN)
    api = Api(client)
    api.push_ok(api.login("worker_a"), [record(h, **LOW_INCOME) for h in town.households_a])
    api.push_ok(api.login("worker_b"), [record(h) for h in town.households_b])
    api.push_ok(api.login("worker_a"), [record(town.households_a[0])])
    steps, left = 0, []
    while True:
        behind = follower.follow_once(step=1)
        steps += 1
        left.append(behind)
        if not behind:
            break
    assert steps > 5 and left == sorted(left, reverse=True)  # one change number a step
    stepped = queries.progress_by_village(db.session, CAMPAIGN).to_dict()
    rollup.rebuild(db.session, CAMPAIGN)
    assert queries.progress_by_village(db.session, CAMPAIGN).to_dict() == stepped


def test_far_behind_a_full_follow_rebuilds_and_a_bounded_step_does_not(
        backend: str, town: factories.SmallTown, client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """More change numbers to follow than half the households: counting everything again is cheaper."""
    rollup.refresh(db.session, CAMPAIGN)
    monkeypatch.setattr(rollup, "REBUILD_BEHIND", 2)
    api = Api(client)
    api.push_ok(api.login("worker_a"), [record(h, **LOW_INCOME) for h in town.households_a])
    stepped = rollup.refresh(db.session, CAMPAIGN, step=1)
    assert not stepped.full and stepped.behind > 0
    caught_up = rollup.refresh(db.session, CAMPAIGN)
    assert caught_up.full and caught_up.behind == 0
    counted = queries.progress_by_village(db.session, CAMPAIGN).to_dict()
    rollup.rebuild(db.session, CAMPAIGN)
    assert queries.progress_by_village(db.session, CAMPAIGN).to_dict() == counted
    assert counted["totals"]["visited"] == len(town.households_a)


def test_the_follower_steps_when_changes_pause_or_every_half_minute_under_a_stream() -> None:
    pace = follower._Pace()
    assert pace.due(10, 100.0)  # never stepped
    pace.stepped(100.0)
    assert not pace.due(11, 101.0) and not pace.due(12, 102.5)  # changes keep coming
    assert pace.due(12, 104.6)  # still for two seconds
    pace.stepped(104.6)
    moments = [105.0 + i for i in range(40)]
    due = []
    for i, moment in enumerate(moments):
        if pace.due(100 + i, moment):
            pace.stepped(moment)
            due.append(moment)
    assert due == [135.0]  # a steady stream: one step thirty seconds after the last
    assert not pace.still(145.0) and pace.still(146.5)  # bounded steps under the stream, all once it stops


def test_a_page_does_not_wait_for_the_followers_step(backend: str, scenario: Scenario, client: FlaskClient,
                                                      follower_running: None) -> None:
    if backend != "postgres":
        pytest.skip("the follower runs on PostgreSQL only (a row lock on the cursor)")
    rollup.refresh(db.session, CAMPAIGN)
    api = Api(client)
    api.push_ok(api.login("worker_b"), [record(scenario.town.households_b[0])])
    holder = db.engine.connect()
    try:
        holder.begin()  # the follower in the middle of a step: it holds the campaign's cursor
        holder.execute(sa.select(ReportCursor).where(ReportCursor.campaign_id == CAMPAIGN).with_for_update())
        started = time.perf_counter()
        shown = queries.progress_by_village(db.session, CAMPAIGN, page=True)
        assert time.perf_counter() - started < 2 and shown.behind > 0
    finally:
        holder.rollback()
        holder.close()
    assert follower.follow_once() == 0  # the step it waited for
    assert queries.progress_by_village(db.session, CAMPAIGN, page=True).behind == 0
