"""``fieldapp report`` and ``fieldapp export sqlite``: the page's numbers, masking, audit (both backends)."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa
import sqlite_utils
from flask.testing import FlaskClient, FlaskCliRunner

from fieldapp.extensions import db
from fieldapp.models import AuditLog
from sync.idnumber import mask_id
from tests.conftest import AuthActions
from tests.reports.conftest import Scenario

pytestmark = pytest.mark.both_backends


def cli_exports() -> list[AuditLog]:
    db.session.rollback()
    return list(db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "export").order_by(AuditLog.id)))


def invoke(runner: FlaskCliRunner, *args: str) -> str:
    result = runner.invoke(args=list(args))
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def test_cli_json_equals_the_page_numbers(backend: str, scenario: Scenario, runner: FlaskCliRunner,
                                          auth: AuthActions, client: FlaskClient, tmp_path: Path) -> None:
    out = tmp_path / "progress.json"
    invoke(runner, "report", "progress", "--campaign", "2023-jzpc", "--format", "json", "--out", str(out))
    auth.login("admin")
    page = client.get("/reports/progress.json").get_json()
    assert json.loads(out.read_text(encoding="utf-8")) == page
    assert page["totals"]["visited"] == 5
    (entry,) = cli_exports()
    assert entry.user_id is None and entry.details["via"] == "cli" and entry.details["format"] == "json"


def test_cli_csv_is_byte_for_byte_the_web_csv(backend: str, scenario: Scenario, runner: FlaskCliRunner,
                                             auth: AuthActions, client: FlaskClient, tmp_path: Path) -> None:
    out = tmp_path / "progress.csv"
    invoke(runner, "report", "progress", "--campaign", "2023-jzpc", "--format", "csv", "--out", str(out))
    auth.login("admin")
    assert out.read_bytes() == client.get("/reports/export/progress.csv").data


def test_cli_xlsx_limited_to_a_village(backend: str, scenario: Scenario, runner: FlaskCliRunner,
                                       tmp_path: Path) -> None:
    out = tmp_path / "progress.xlsx"
    invoke(runner, "report", "progress", "--campaign", "2023-jzpc", "--format", "xlsx", "--out", str(out),
           "--village", "磨山村")
    sheet = openpyxl.load_workbook(out).active
    # rows 1-2: the title and the export time (issue 17, item 17); row 3: the headers
    assert [sheet.cell(row=r, column=1).value for r in (4, 5)] == ["磨山村", "合计"]
    assert sheet.cell(row=5, column=2).value == 4


def test_cli_follow_up_masks_unless_full_ids(backend: str, scenario: Scenario, runner: FlaskCliRunner,
                                             tmp_path: Path) -> None:
    lifted = scenario.lifted
    masked, full = tmp_path / "masked.csv", tmp_path / "full.csv"
    invoke(runner, "report", "followup", "--campaign", "2023-jzpc", "--flag", "suggest_eliminate",
           "--format", "csv", "--out", str(masked))
    invoke(runner, "report", "followup", "--campaign", "2023-jzpc", "--flag", "suggest_eliminate",
           "--format", "csv", "--out", str(full), "--full-ids")
    assert mask_id(lifted.head_id) in masked.read_text(encoding="utf-8-sig")
    assert lifted.head_id not in masked.read_text(encoding="utf-8-sig")
    assert lifted.head_id in full.read_text(encoding="utf-8-sig")
    assert [e.details["full_values"] for e in cli_exports()] == [False, True]


def test_export_sqlite_writes_households_visits_flags_masked(backend: str, scenario: Scenario,
                                                              runner: FlaskCliRunner, tmp_path: Path) -> None:
    out = tmp_path / "campaign.db"
    invoke(runner, "export", "sqlite", "--campaign", "2023-jzpc", "--out", str(out))
    exported = sqlite_utils.Database(out)
    assert exported["households"].count == 8  # the 7 counted plus the merged duplicate
    assert exported["visits"].count == 9  # this campaign's visits, every status (the 2022 one left out)
    assert exported["flags"].count == 5  # the households visited
    lifted = scenario.lifted
    row = exported["households"].get(lifted.id)
    assert row["head_id"] == mask_id(lifted.head_id) and row["phone"] != lifted.phone
    visit = next(exported.query("select data from visits where household_id = ?", [lifted.id]))
    assert json.loads(visit["data"])["head_id"] == mask_id(lifted.head_id)
    flags = exported["flags"].get(lifted.id)
    assert (flags["conclusion"], flags["approved"], flags["below_10k"]) == ("suggest_eliminate", 1, 1)
    totals = next(exported.query("select visited, households from progress where village = '合计'"))
    assert totals == {"visited": 5, "households": 7}
    exported.close()
    (entry,) = cli_exports()
    assert entry.object_id == "sqlite" and entry.details["tables"]["visits"] == 9
    assert entry.details["full_values"] is False


def test_export_sqlite_full_ids_and_refuses_to_overwrite(backend: str, scenario: Scenario,
                                                         runner: FlaskCliRunner, tmp_path: Path) -> None:
    out = tmp_path / "campaign.db"
    invoke(runner, "export", "sqlite", "--campaign", "2023-jzpc", "--out", str(out), "--full-ids")
    exported = sqlite_utils.Database(out)
    assert exported["households"].get(scenario.lifted.id)["head_id"] == scenario.lifted.head_id
    exported.close()
    again = runner.invoke(args=["export", "sqlite", "--campaign", "2023-jzpc", "--out", str(out)])
    assert again.exit_code != 0 and "文件已存在" in again.output
    assert len(cli_exports()) == 1


def test_unknown_campaign_or_village_is_an_error(backend: str, scenario: Scenario, runner: FlaskCliRunner,
                                                 tmp_path: Path) -> None:
    result = runner.invoke(args=["report", "progress", "--campaign", "nope", "--format", "json",
                                 "--out", str(tmp_path / "x.json")])
    assert result.exit_code != 0 and "排查活动不存在" in result.output
    result = runner.invoke(args=["report", "progress", "--campaign", "2023-jzpc", "--format", "json",
                                 "--out", str(tmp_path / "x.json"), "--village", "无此村"])
    assert result.exit_code != 0 and "村不存在" in result.output
    assert cli_exports() == []
