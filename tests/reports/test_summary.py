"""The town summary paragraph, from a built data set and at the reference town's scale."""

from __future__ import annotations

import itertools

import pytest
import sqlalchemy as sa

from fieldapp.extensions import db
from fieldapp.models import Household, Visit, new_uuid
from fieldapp.reports import queries
from fieldapp.reports.summary import town_summary
from tests import factories
from tests.reports.conftest import Scenario

pytestmark = pytest.mark.both_backends

REFERENCE = "截至目前，全镇共完成排查13740户，其中排查一般农户13046户，脱贫户659户，监测对象45户"


def test_summary_of_the_edge_case_data_set(backend: str, scenario: Scenario) -> None:
    progress = queries.progress_by_village(db.session, scenario.town.campaign.id)
    assert town_summary(progress) == (
        "截至目前，全镇共完成排查5户，其中排查一般农户4户，脱贫户1户，监测对象1户（其中脱贫户1户）。"
        "应排查7户，完成率71.4%，其中新发现农户1户。"
        "按照“应纳尽纳”的原则和监测户识别标准，经排查建议新纳入监测户1户4人，建议消除风险监测户1户5人。"
        "排查发现收入低于监测范围1户，“三保障”及饮水安全存在问题1户，人均纯收入低于1万元（有劳动力）2户，需逐户跟进。"
    )
    scoped = queries.progress_by_village(db.session, scenario.town.campaign.id, [scenario.town.village_a.id])
    assert town_summary(scoped, ["沼山村"]).startswith("截至目前，沼山村共完成排查2户，其中排查一般农户2户")


def _reference_households() -> list[tuple[str, str, bool | None, str | None, int]]:
    """(category, monitor_type, risk_eliminated, conclusion, size) for 13,740 households.

    659 脱贫户 of which 10 monitored, 45 monitored of which 12 eliminated, 13,046
    general households not monitored; 4 (10 people) suggested for monitoring and 3
    monitored households (8 people) suggested for elimination.
    """
    rows: list[tuple[str, str, bool | None, str | None, int]] = []
    rows += [("general", "none", None, "suggest_monitor", size) for size in (3, 3, 2, 2)]
    rows += [("general", "none", None, "no_risk", 4)] * (13046 - 4)
    monitored = ["marginal"] * 17 + ["hardship"] * 18 + ["unstable"] * 3 + ["hardship"] * 7
    for n, kind in enumerate(monitored):
        category = "lifted" if n >= 35 else "general"
        eliminated = n < 12
        conclusion = "suggest_eliminate" if n in (20, 21, 22) else "continue_monitor"
        rows.append((category, kind, eliminated, conclusion, (3, 3, 2)[n - 20] if n in (20, 21, 22) else 3))
    rows += [("lifted", "none", None, "no_risk", 2)] * 649
    return rows


def test_reference_town_reproduces_the_official_figures(backend: str, app) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        town = factories.SmallTown()
        villages = itertools.cycle([town.village_a.id, town.village_b.id])
        households, visits = [], []
        for n, (category, monitor, eliminated, conclusion, size) in enumerate(_reference_households()):
            hid = new_uuid()
            village_id = next(villages)
            households.append({
                "id": hid, "code": f"R{n:06d}", "town_id": town.town.id, "village_id": village_id,
                "group": "1组", "head_name": "王建国", "head_id": factories.make_id_number(n), "size": size,
                "labor_count": 1, "category": category, "monitor_type": monitor, "risk_eliminated": eliminated,
                "source": "roster", "rev": 1, "change_seq": 0})
            visits.append({
                "uuid": new_uuid(), "campaign_id": town.campaign.id, "household_id": hid, "village_id": village_id,
                "worker_id": town.worker_a.id, "device_id": "d", "batch_id": "b", "form_version": "2023.1",
                "server_seq": n + 1, "data": {}, "sync_status": "accepted", "review_status": "approved",
                "conclusion": conclusion})
        db.session.execute(sa.insert(Household), households)
        db.session.execute(sa.insert(Visit), visits)
        db.session.commit()
        progress = queries.progress_by_village(db.session, town.campaign.id)
        text = town_summary(progress)
    assert text.startswith(REFERENCE + "（其中脱贫户10户，含已消除风险12户）。")
    assert "建议新纳入监测户4户10人，建议消除风险监测户3户8人" in text
    assert progress.totals.visited == progress.totals.households - 5  # SmallTown's own five, not visited
