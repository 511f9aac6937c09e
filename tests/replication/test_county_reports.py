"""Reports at central: county → town → village, from what the towns replicated (central on
both backends, towns on SQLite), through the CLI and the web pages and exports."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from flask import Flask

from tests.conftest import AuthActions
from tests.replication.conftest import County, push_visits

pytestmark = pytest.mark.both_backends
NUMBERS = ("households", "visited", "visited_people", "approved", "general", "lifted", "monitored",
           "suggest_monitor", "suggest_monitor_people", "below_monitoring_line")
LOW_INCOME = {"income_wage": 3000, "income_business": 0, "business_cost": 0, "income_property": 0,
              "income_transfer": 1000}


def progress_json(app: Flask, tmp_path: Path, *args: str) -> dict[str, Any]:
    out = tmp_path / f"progress-{len(list(tmp_path.glob('progress-*')))}.json"
    result = app.test_cli_runner().invoke(args=["report", "progress", "--campaign", "2023-jzpc", "--format",
                                                "json", "--out", str(out), *args])
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return document


def numbers(row: dict[str, Any]) -> dict[str, Any]:
    return {key: row[key] for key in NUMBERS}


@pytest.fixture
def visited(county: County) -> County:
    """Two visits at 保安镇 (one suggesting monitoring, low income), one at 还地桥镇, replicated."""
    baoan, hdq = county.towns
    push_visits(baoan, baoan.households[:1])
    push_visits(baoan, baoan.households[1:2], conclusion="suggest_monitor", risk_types=["illness"],
                risk_note="因病", **LOW_INCOME)
    push_visits(hdq, hdq.households[:1])
    county.round()
    return county


def test_central_reports_by_town_and_village_as_each_town_does(visited: County, tmp_path: Path) -> None:
    county = visited
    central = progress_json(county.central, tmp_path)
    assert [t["town"] for t in central["towns"]] == ["保安镇", "还地桥镇"]
    assert central["summary"].startswith("截至目前，全县共完成排查3户，其中排查一般农户3户，脱贫户0户，监测对象0户。应排查7户")
    assert "经排查建议新纳入监测户1户" in central["summary"]
    assert central["totals"]["visited"] == 3 and central["totals"]["households"] == 7
    for town, section in zip(county.towns, central["towns"], strict=True):
        own = progress_json(town.app, tmp_path)
        assert "towns" not in own  # a town's report stays one town, by village
        assert [(r["village"], numbers(r)) for r in section["villages"]] == \
               [(r["village"], numbers(r)) for r in own["villages"]]
        assert numbers(section["totals"]) == numbers(own["totals"])
        assert section["totals"]["village"] == "小计" and all(r["town"] == town.name for r in section["villages"])
        # one wording: the town's own paragraph (全镇) is central's paragraph of that town (its name)
        assert own["summary"].startswith("截至目前，全镇共完成排查")
        assert section["summary"] == own["summary"].replace("全镇", town.name, 1)
    assert central["towns"][0]["summary"].startswith("截至目前，保安镇共完成排查2户")
    # the flat village rows carry their town (two villages called 沼山村)
    assert [(r["town"], r["village"]) for r in central["villages"]] == [
        ("保安镇", "沼山村"), ("保安镇", "磨山村"), ("还地桥镇", "石山村"), ("还地桥镇", "沼山村")]


def test_a_village_name_of_two_towns_needs_its_town(visited: County, tmp_path: Path) -> None:
    runner = visited.central.test_cli_runner()
    out = tmp_path / "x.json"
    result = runner.invoke(args=["report", "progress", "--campaign", "2023-jzpc", "--format", "json",
                                 "--out", str(out), "--village", "沼山村"])
    assert result.exit_code != 0 and "--town" in result.output
    one = progress_json(visited.central, tmp_path, "--village", "沼山村", "--town", "还地桥镇")
    assert [(r["town"], r["village"]) for r in one["villages"]] == [("还地桥镇", "沼山村")]
    town = progress_json(visited.central, tmp_path, "--town", "保安镇")
    assert [t["town"] for t in town["towns"]] == ["保安镇"]
    assert town["summary"].startswith("截至目前，保安镇共完成排查2户")


def test_central_dashboard_and_exports_have_the_towns(visited: County) -> None:
    client = visited.central.test_client()
    AuthActions(client).login("county_admin")
    html = client.get("/reports/").get_data(as_text=True)
    assert 'id="town-table"' in html and 'data-town="还地桥镇"' in html
    assert "截至目前，全县共完成排查3户" in html and "截至目前，还地桥镇共完成排查1户" in html
    assert client.get("/reports/?sort=town&order=desc").status_code == 200

    response = client.get("/reports/export/progress.csv")
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows[0][:2] == ["乡镇", "村（社区）"]
    assert [row[:2] for row in rows[1:]] == [
        ["保安镇", "沼山村"], ["保安镇", "磨山村"], ["保安镇", "小计"],
        ["还地桥镇", "石山村"], ["还地桥镇", "沼山村"], ["还地桥镇", "小计"], ["", "合计"]]
    visited_column = rows[0].index("已排查户数")
    assert [rows[3][visited_column], rows[6][visited_column], rows[7][visited_column]] == ["2", "1", "3"]

    book = openpyxl.load_workbook(io.BytesIO(client.get("/reports/export/progress.xlsx").get_data()))
    sheet = book.active
    assert sheet is not None
    assert [c.value for c in sheet[3]][:2] == ["乡镇", "村（社区）"]

    follow = client.get("/reports/export/followup/suggest_monitor.csv")
    lines = list(csv.reader(io.StringIO(follow.get_data().decode("utf-8-sig"))))
    assert lines[0][:2] == ["乡镇", "村（社区）"] and [line[0] for line in lines[1:]] == ["保安镇"]
    page = client.get("/reports/followup/suggest_monitor").get_data(as_text=True)
    assert "保安镇" in page


def test_a_town_dashboard_and_export_stay_as_they_were(visited: County) -> None:
    baoan = visited.towns[0]
    client = baoan.app.test_client()
    AuthActions(client).login("baoan_admin")
    html = client.get("/reports/").get_data(as_text=True)
    assert 'id="town-table"' not in html and "截至目前，全镇共完成排查2户" in html
    rows = list(csv.reader(io.StringIO(client.get("/reports/export/progress.csv").get_data().decode("utf-8-sig"))))
    assert rows[0][0] == "村（社区）" and [row[0] for row in rows[1:]] == ["沼山村", "磨山村", "合计"]
