"""The progress counts on a data set built to hit the edge cases (both backends)."""

from __future__ import annotations

import pytest

from fieldapp.extensions import db
from fieldapp.reports import queries
from tests import factories
from tests.reports.conftest import EXPECTED_A, EXPECTED_B, EXPECTED_TOTALS, Scenario, subset

pytestmark = pytest.mark.both_backends


def test_counts_per_village_and_totals(backend: str, scenario: Scenario) -> None:
    progress = queries.progress_by_village(db.session, scenario.town.campaign.id)
    a, b = (row.to_dict() for row in progress.rows)
    assert (a["village"], b["village"]) == ("沼山村", "磨山村")
    assert subset(a, EXPECTED_A) == EXPECTED_A
    assert subset(b, EXPECTED_B) == EXPECTED_B
    assert subset(progress.totals.to_dict(), EXPECTED_TOTALS) == EXPECTED_TOTALS


def test_flags_come_from_the_latest_counting_visit(backend: str, scenario: Scenario) -> None:
    town = scenario.town
    # 王建国's first visit had a low income; a later visit by the server's order supersedes its flags.
    first = queries.progress_by_village(db.session, town.campaign.id, [town.village_a.id]).rows[0]
    assert first.below_10k == 1  # only 陈秀英's (moved) visit
    factories.make_visit(town.households_a[2], town.worker_a, town.campaign, server_seq=11)
    db.session.commit()
    later = queries.progress_by_village(db.session, town.campaign.id, [town.village_a.id]).rows[0]
    assert (later.below_10k, later.suggest_monitor, later.visited) == (0, 0, 2)


def test_a_returned_visit_does_not_count_but_a_resubmission_does(backend: str, scenario: Scenario) -> None:
    town = scenario.town
    factories.make_visit(town.households_a[1], town.worker_a, town.campaign, server_seq=12)
    db.session.commit()
    row = queries.progress_by_village(db.session, town.campaign.id, [town.village_a.id]).rows[0]
    assert (row.visited, row.households) == (3, 3)


def test_scope_limits_the_villages(backend: str, scenario: Scenario) -> None:
    town = scenario.town
    progress = queries.progress_by_village(db.session, town.campaign.id, [town.village_b.id])
    assert [r.village for r in progress.rows] == ["磨山村"]
    assert subset(progress.totals.to_dict(), EXPECTED_B) == {**EXPECTED_B}
    assert queries.progress_by_village(db.session, town.campaign.id, []).rows == []


def test_per_worker_and_per_day(backend: str, scenario: Scenario) -> None:
    town = scenario.town
    workers = {w.name: w for w in queries.progress_by_worker(db.session, town.campaign.id)}
    # 张网格: 王建国 x2, 陈秀英 x2 (one moved from the duplicate); returned/superseded left out.
    assert (workers["张网格"].visits, workers["张网格"].households, workers["张网格"].approved) == (4, 2, 1)
    # 李网格: three counting visits in this campaign (the 2022 one is another campaign).
    assert (workers["李网格"].visits, workers["李网格"].households, workers["李网格"].approved) == (3, 3, 2)
    scoped = queries.progress_by_worker(db.session, town.campaign.id, [town.village_a.id])
    assert [w.name for w in scoped] == ["张网格"]
    days = queries.visits_per_day(db.session, town.campaign.id)
    assert [(d.isoformat(), n) for d, n in days] == [("2023-10-12", 5), ("2023-10-13", 1), ("2023-10-15", 1)]


def test_follow_up_lists(backend: str, scenario: Scenario) -> None:
    town = scenario.town
    below = queries.follow_up(db.session, town.campaign.id, "below_monitoring_line")
    assert [(i.head_name, i.household_id) for i in below] == [("陈秀英", town.households_a[2].id)]
    eliminate = queries.follow_up(db.session, town.campaign.id, "suggest_eliminate")
    assert [(i.village, i.head_name, i.size) for i in eliminate] == [("磨山村", "黄德胜", 5)]
    assert queries.follow_up(db.session, town.campaign.id, "suggest_eliminate", [town.village_a.id]) == []
    with pytest.raises(ValueError):
        queries.follow_up(db.session, town.campaign.id, "no_such_flag")
