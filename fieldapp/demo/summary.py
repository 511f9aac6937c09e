"""Counting the town back out of the database (户 and 人), as the town summary reports it.

Roster households only (``source = 'roster'``), merged-away ones excluded:
the figures the roster import and the demo must reproduce exactly. One SQL
aggregate, grouped by village, 户类型, 监测对象类别 and 风险已消除.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from fieldapp.models import Household, Town, Village

Key = tuple[str, str, str, bool | None]


def town_counts(session: Session, town_name: str) -> dict[Key, list[int]]:
    """(village, category, monitor_type, risk_eliminated) → [households, people]."""
    query = (
        sa.select(Village.name, Household.category, Household.monitor_type, Household.risk_eliminated,
                  sa.func.count(), sa.func.sum(Household.size))
        .join(Village, Village.id == Household.village_id)
        .join(Town, Town.id == Household.town_id)
        .where(Town.name == town_name, Household.source == "roster", Household.merged_into_id.is_(None))
        .group_by(Village.name, Household.category, Household.monitor_type, Household.risk_eliminated)
    )
    return {(v, c, m, e): [int(n), int(p)] for v, c, m, e, n, p in session.execute(query)}


@dataclass
class TownFigures:
    households: int = 0
    people: int = 0
    general: int = 0
    general_not_monitored: int = 0
    lifted: int = 0
    lifted_people: int = 0
    monitored: int = 0
    monitored_people: int = 0
    eliminated: int = 0
    eliminated_people: int = 0
    by_monitor_type: dict[str, list[int]] | None = None

    def line(self) -> str:
        """The reference town's sentence, from the data."""
        kinds = self.by_monitor_type or {}
        unstable, marginal, hardship = (kinds.get(code, [0, 0]) for code in ("unstable", "marginal", "hardship"))
        return _("共%(hh)s户%(people)s人：一般农户%(general)s户（不含监测对象），脱贫户%(lifted)s户%(lifted_p)s人，"
                 "监测对象%(monitored)s户%(monitored_p)s人（含风险消除%(eliminated)s户%(eliminated_p)s人；"
                 "脱贫不稳定户%(u)s户%(u_p)s人，边缘易致贫户%(m)s户%(m_p)s人，突发严重困难户%(h)s户%(h_p)s人）",
                 hh=self.households, people=self.people, general=self.general_not_monitored,
                 lifted=self.lifted, lifted_p=self.lifted_people, monitored=self.monitored,
                 monitored_p=self.monitored_people, eliminated=self.eliminated,
                 eliminated_p=self.eliminated_people, u=unstable[0], u_p=unstable[1],
                 m=marginal[0], m_p=marginal[1], h=hardship[0], h_p=hardship[1])


def figures(counts: dict[Key, list[int]]) -> TownFigures:
    """Town totals from :func:`town_counts` (or the generator's ``expected_counts``)."""
    total = TownFigures(by_monitor_type={})
    assert total.by_monitor_type is not None  # noqa: S101 - for the type checker
    for (_village, category, monitor, eliminated), (households, people) in counts.items():
        total.households += households
        total.people += people
        if category == "general":
            total.general += households
            if monitor == "none":
                total.general_not_monitored += households
        else:
            total.lifted += households
            total.lifted_people += people
        if monitor != "none":
            total.monitored += households
            total.monitored_people += people
            cell = total.by_monitor_type.setdefault(monitor, [0, 0])
            cell[0] += households
            cell[1] += people
            if eliminated:
                total.eliminated += households
                total.eliminated_people += people
    return total
