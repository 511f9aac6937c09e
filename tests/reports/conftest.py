"""A small campaign built to hit the counting edge cases (see ``Scenario``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from fieldapp.extensions import db
from fieldapp.models import Household, Visit
from tests import factories

LOW_INCOME = {"income_wage": 3000, "income_business": 0, "business_cost": 0, "income_property": 0,
              "income_transfer": 1000}


class Scenario:
    """SmallTown plus visits. Expected per village (沼山村 A, 磨山村 B):

    A: 王建国 visited twice (low income first, normal later: the later one counts, approved);
       刘伟 only a returned and a superseded visit (not visited);
       陈秀英 visited, and her duplicate (found in the field) merged into her with its
       visit moved: suggest_monitor with low income, the latest. A: 3 households, 2 visited.
    B: 柯友明 not visited this campaign (a visit in another campaign);
       尹桂兰 (name beginning with "=") approved with unsafe housing (guarantee gap, needs attention);
       a new household found in the field, visited; a lifted unstable household (5 people,
       44,000 yuan: under 10,000 per head), approved, suggest_eliminate. B: 4 households (1 new), 3 visited.
    """

    def __init__(self) -> None:
        self.town = factories.SmallTown()
        t = self.town
        a1, a2, a3 = t.households_a
        b1, b2 = t.households_b
        b2.head_name = "=1+2尹桂兰"
        self.duplicate = found_in_field(factories.make_household(t.village_a, "陈秀英"))
        self.new = found_in_field(factories.make_household(t.village_b, "石新发", size=3))
        self.lifted = factories.make_household(t.village_b, "黄德胜", category="lifted", monitor_type="unstable",
                                               risk_eliminated=False, size=5, labor_count=2)
        other = factories.make_campaign("2022-jzpc", active=False)
        visit = factories.make_visit
        visit(a1, t.worker_a, t.campaign, server_seq=1, data=factories.visit_data(a1, **LOW_INCOME))
        visit(a1, t.worker_a, t.campaign, server_seq=2, review_status="approved")
        visit(a2, t.worker_a, t.campaign, server_seq=3, review_status="returned")
        visit(a2, t.worker_a, t.campaign, server_seq=4, review_status="superseded")
        visit(a3, t.worker_a, t.campaign, server_seq=5)
        moved = visit(self.duplicate, t.worker_a, t.campaign, server_seq=6, data=factories.visit_data(
            self.duplicate, conclusion="suggest_monitor", risk_types=["illness"], risk_note="因病",
            **LOW_INCOME))
        self.merge(self.duplicate, a3, [moved])
        visit(b1, t.worker_b, other, server_seq=7)
        visit(b2, t.worker_b, t.campaign, server_seq=8, review_status="approved", data=factories.visit_data(
            b2, head_name="尹桂兰", housing_unsafe=True, housing_grade="C", risk_types=["housing"],
            risk_note="房屋漏雨"))
        visit(self.new, t.worker_b, t.campaign, server_seq=9, data=factories.visit_data(self.new, visited_on="2023-10-13"))
        visit(self.lifted, t.worker_b, t.campaign, server_seq=10, review_status="approved",
              data=factories.visit_data(self.lifted, conclusion="suggest_eliminate", visited_on="2023-10-15"))
        db.session.commit()

    @staticmethod
    def merge(merged: Household, survivor: Household, visits: list[Visit]) -> None:
        """What review.merges.merge_households leaves behind: visits moved, the row kept."""
        merged.merged_into_id = survivor.id
        for v in visits:
            v.household_id, v.village_id = survivor.id, survivor.village_id
        db.session.flush()


def found_in_field(household: Household) -> Household:
    """A household a worker reported that was not on the roster."""
    household.source, household.code = "field", None
    db.session.flush()
    return household


EXPECTED_A: dict[str, Any] = {
    "households": 3, "new_households": 0, "visited": 2, "visited_people": 8, "approved": 1,
    "general": 2, "general_people": 8, "lifted": 0, "monitored": 0, "below_monitoring_line": 1,
    "below_10k": 1, "guarantee_gap": 0, "needs_attention": 0, "suggest_monitor": 1,
    "suggest_monitor_people": 4, "suggest_eliminate": 0, "completion": 66.7,
}
EXPECTED_B: dict[str, Any] = {
    "households": 4, "new_households": 1, "visited": 3, "visited_people": 12, "approved": 2,
    "general": 2, "general_people": 7, "lifted": 1, "lifted_people": 5, "monitored": 1,
    "monitored_people": 5, "monitored_lifted": 1, "monitored_eliminated": 0,
    "below_monitoring_line": 0, "below_10k": 1, "guarantee_gap": 1, "needs_attention": 1,
    "suggest_monitor": 0, "suggest_eliminate": 1, "suggest_eliminate_people": 5, "completion": 75.0,
}
EXPECTED_TOTALS: dict[str, Any] = {
    "households": 7, "new_households": 1, "visited": 5, "visited_people": 20, "approved": 3,
    "general": 4, "lifted": 1, "monitored": 1, "below_monitoring_line": 1, "below_10k": 2,
    "guarantee_gap": 1, "needs_attention": 1, "suggest_monitor": 1, "suggest_eliminate": 1,
    "completion": 71.4,
}


def subset(row: dict[str, Any], expected: dict[str, Any]) -> dict[str, Any]:
    return {key: row[key] for key in expected}


@pytest.fixture
def scenario(app: Flask) -> Iterator[Scenario]:
    with app.app_context():
        yield Scenario()
