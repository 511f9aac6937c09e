"""Roster test data: a few valid rows of every shape, and a helper to write them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from fieldapp.roster import write_roster
from sync.idnumber import make_id


def person_id(n: int, region: str = "420281") -> str:
    return make_id(region, dt.date(1960, 1, 1) + dt.timedelta(days=37 * n), 2 * n + 1)


def sample_rows() -> list[dict[str, object]]:
    """Eight valid rows: labels and codes, spelled groups, a community, monitored kinds."""
    base = {"town": "保安镇", "village": "沼山村", "hamlet": "王祖湾", "phone": "", "labor_count": "",
            "monitor_type": "", "risk_eliminated": ""}
    rows = [
        {"code": "H001", "group": "3组", "head_name": "王建国", "phone": "13872345678", "size": 4,
         "labor_count": 2, "category": "一般农户"},
        {"code": "H002", "group": "三组", "head_name": "刘伟", "phone": "0714-8123456", "size": 2,
         "category": "脱贫户"},
        {"code": "H003", "group": "第三村民小组", "head_name": "陈秀英", "size": 1, "category": "lifted",
         "monitor_type": "脱贫不稳定户", "risk_eliminated": "否"},
        {"code": "H004", "group": "5组", "head_name": "柯友明", "size": 5, "labor_count": 3,
         "category": "一般农户", "monitor_type": "边缘易致贫户", "risk_eliminated": "是"},
        {"code": "H005", "group": "1组", "head_name": "尹桂兰", "size": 3, "category": "general",
         "monitor_type": "hardship", "risk_eliminated": "否", "village": "磨山村", "hamlet": "下陈湾"},
        {"code": "H006", "group": "2组", "head_name": "石长生", "size": 3, "category": "一般农户",
         "village": "磨山村", "hamlet": "", "phone": "+86 139 1234 5678"},
        {"code": "H007", "group": "1组", "head_name": "陶红梅", "size": 2, "category": "一般农户",
         "village": "团结街社区", "hamlet": ""},
        {"code": "H008", "group": "4组", "head_name": "吴德华", "size": 6, "labor_count": 4,
         "category": "脱贫户", "monitor_type": "突发严重困难户", "risk_eliminated": "是"},
    ]
    result = []
    for n, row in enumerate(rows, start=1):
        full = {**base, **row, "head_id": person_id(n)}
        result.append(full)
    return result


WriteRoster = Callable[..., Path]


@pytest.fixture
def write(tmp_path: Path) -> WriteRoster:
    """``write(rows, name="roster.csv", **options)`` → the written file."""

    def _write(rows: list[dict[str, object]], name: str = "roster.csv", **options: object) -> Path:
        return write_roster(tmp_path / name, rows, **options)  # type: ignore[arg-type]

    return _write
